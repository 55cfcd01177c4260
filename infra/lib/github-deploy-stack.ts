import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { deployables } from './catalog.js';
import { acknowledge } from './nag.js';
import type { Settings } from './settings.js';

const GITHUB_ISSUER = 'token.actions.githubusercontent.com';

/** The OIDC `sub` of main's deploy job, with the repository's customized claim (repo, context, ref). */
export function githubSubject(settings: Pick<Settings, 'githubEnvironment'> & { githubRepository: string }): string {
  return `repo:${settings.githubRepository}:environment:${settings.githubEnvironment}:ref:refs/heads/main`;
}

export interface GitHubDeployStackProps extends StackProps {
  settings: Settings & { githubRepository: string };
}

/**
 * The role GitHub Actions assumes, through OpenID Connect, to deploy: no long-lived AWS keys
 * anywhere. Only the repository's deploy jobs in the chosen GitHub environment may assume it. It
 * may push the four images, hand the deployment to the CDK bootstrap roles (which CloudFormation
 * uses), and watch the cluster's services settle; nothing else.
 */
export class GitHubDeployStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const provider = settings.githubOidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidc', settings.githubOidcProviderArn)
      : new iam.OidcProviderNative(this, 'GitHubOidc', { url: `https://${GITHUB_ISSUER}`, clientIds: ['sts.amazonaws.com'] });

    this.role = new iam.Role(this, 'DeployRole', {
      description: `GitHub Actions deploys of ${settings.githubRepository} (environment ${settings.githubEnvironment})`,
      // Only main's deploy job in the environment. GitHub's default `sub` of an environment job,
      // `repo:O/R:environment:E`, says nothing of the branch, and IAM can test only `sub` and `aud` of
      // GitHub's token. So the repository customizes its `sub` to carry the ref as well (docs/deploy-aws.md:
      // `gh api -X PUT repos/O/R/actions/oidc/customization/sub` with repo, context, ref), giving
      // `repo:O/R:environment:E:ref:refs/heads/main`, matched exactly: a job from another branch, a
      // pull request or another environment presents another `sub` and is refused.
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_ISSUER}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_ISSUER}:sub`]: githubSubject(settings),
        },
      }),
      maxSessionDuration: Duration.hours(1),
    });

    const { account, region, partition } = this;
    const bootstrapRoles = ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
      (kind) => `arn:${partition}:iam::${account}:role/cdk-${settings.bootstrapQualifier}-${kind}-role-${account}-${region}`,
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeployThroughCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: bootstrapRoles,
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LogInToEcr',
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PushImages',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:DescribeImages',
          'ecr:GetDownloadUrlForLayer',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ],
        resources: deployables.map(({ repository }) => `arn:${partition}:ecr:${region}:${account}:repository/${repository}`),
      }),
    );
    const servicesOfCluster = `arn:${partition}:ecs:${region}:${account}:service/${settings.clusterName}/*`;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WaitForServicesStable',
        actions: ['ecs:DescribeServices'],
        resources: [servicesOfCluster],
      }),
    );
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions; pushes are limited to the four repositories.',
    );
    acknowledge(
      this.role,
      `AwsSolutions-IAM5[Resource::${servicesOfCluster}]`,
      'Read-only ecs:DescribeServices for `aws ecs wait services-stable`, on the services of the Free Lunch ' +
        'cluster only; CloudFormation names the services, so they are matched within the cluster.',
    );

    new CfnOutput(this, 'DeployRoleArn', {
      value: this.role.roleArn,
      description: 'Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub environment',
    });
  }
}
