import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FreeLunchStack } from './free-lunch-stack.js';
import { GitHubDeployStack } from './github-deploy-stack.js';
import { RegistryStack } from './registry-stack.js';
import { readSettings } from './settings.js';

/** The stacks of one Free Lunch deployment. */
export interface FreeLunchStacks {
  registry: RegistryStack;
  app: FreeLunchStack;
  github?: GitHubDeployStack;
}

/**
 * Adds Free Lunch to a CDK app, from its context: the ECR repositories, the system, and (with
 * `githubRepository`) the GitHub deploy role; and checks every resource against cdk-nag's
 * AWS Solutions rules, so a synth with an unacknowledged finding fails. `bin/free-lunch.ts` and
 * the tests both build the app through this.
 */
export function addFreeLunch(app: App): FreeLunchStacks {
  const settings = readSettings(app.node, {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  });
  const env = { account: settings.account, region: settings.region };

  const registry = new RegistryStack(app, 'FreeLunchRegistry', {
    env,
    description: 'Free Lunch: ECR repositories of the service images',
  });
  const system = new FreeLunchStack(app, 'FreeLunch', {
    env,
    settings,
    description: `Free Lunch on ECS (${settings.capacity})`,
  });
  system.addStackDependency(registry, 'the services run images from its repositories');
  const github = settings.githubRepository
    ? new GitHubDeployStack(app, 'FreeLunchGitHubDeploy', {
        env,
        settings: { ...settings, githubRepository: settings.githubRepository },
        description: 'Free Lunch: the role GitHub Actions deploys with (OIDC)',
      })
    : undefined;

  Tags.of(app).add('project', 'free-lunch');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { registry, app: system, github };
}
