import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRODUCTION, synthesize } from './synth.js';

const policy = JSON.parse(readFileSync(new URL('../bootstrap/cloudformation-execution-policy.json', import.meta.url), 'utf8')) as {
  Statement: Array<{ Action: string | string[]; Resource: string | string[] }>;
};
const actions = policy.Statement.flatMap(({ Action }) => (Array.isArray(Action) ? Action : [Action]));

// CloudFormation resource type → the IAM service prefix creating it needs.
const SERVICE_OF: Record<string, string> = { ElasticLoadBalancingV2: 'elasticloadbalancing', ApplicationAutoScaling: 'application-autoscaling', CloudWatch: 'cloudwatch', SecretsManager: 'secretsmanager', ServiceDiscovery: 'servicediscovery' };

describe('the CDK bootstrap\'s CloudFormation execution policy (instead of AdministratorAccess)', () => {
  it('when every variant of the app is synthesized, then each resource type it creates is within the policy, and the policy grants no IAM wildcard', () => {
    const variants = [
      synthesize({ ...PRODUCTION, githubRepository: 'acme/free-lunch', market: 'simulator' }),
      synthesize({ capacity: 'external', externalCidr: '10.99.0.0/16', alarmTopicArn: PRODUCTION.alarmTopicArn }),
    ];
    const types = new Set(
      variants.flatMap((deployment) =>
        [deployment.app, deployment.registry, deployment.github].flatMap((template) =>
          template ? Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map(({ Type }) => Type) : [],
        ),
      ),
    );
    for (const type of types) {
      const [owner, service] = type.split('::');
      if (owner !== 'AWS' || service === 'CDK') continue;
      const prefix = SERVICE_OF[service!] ?? service!.toLowerCase();
      const allowed = actions.some((action) => action === `${prefix}:*` || (prefix === 'iam' && action.startsWith('iam:')));
      expect(allowed, type).toBe(true);
    }
    expect(actions).not.toContain('*');
    expect(actions).not.toContain('iam:*');
  }, 180_000);
});
