import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addFreeLunch } from '../lib/free-lunch-app.js';
import { ALARM_TOPIC, CERTIFICATE, cdkJsonContext, synthesize, type Synthesized } from './synth.js';
import { asList, container, environmentOf, ingressRules, only, referenced, resources } from './template-queries.js';

// A synth takes seconds on a busy machine: one per variant, shared by its tests.
const SYNTH_TIMEOUT_MS = 120_000;

describe('Free Lunch with HTTPS, the market simulator, one NAT gateway and the GitHub deploy role', () => {
  let deployment: Synthesized;
  beforeAll(() => {
    deployment = synthesize({
      certificateArn: CERTIFICATE,
      alarmTopicArn: ALARM_TOPIC,
      market: 'simulator',
      natGateways: '1',
      githubRepository: 'acme/free-lunch',
    });
  }, SYNTH_TIMEOUT_MS);

  it('when synthesized, then cdk-nag\'s AWS Solutions checks leave no finding unacknowledged', () => {
    expect(deployment.findings).toEqual([]);
    expect(resources(deployment.app, 'AWS::EC2::NatGateway')).toHaveLength(1);
  });

  it('when a certificate is given, then the load balancer serves HTTPS on 443 and redirects HTTP to it', () => {
    const { app } = deployment;
    const listeners = Object.fromEntries(
      resources(app, 'AWS::ElasticLoadBalancingV2::Listener').map(([, { Properties }]) => [Properties.Port, Properties]),
    );
    expect(listeners[443]).toMatchObject({ Protocol: 'HTTPS', Certificates: [{ CertificateArn: CERTIFICATE }] });
    expect(listeners[80]!.DefaultActions).toEqual([
      expect.objectContaining({ Type: 'redirect', RedirectConfig: expect.objectContaining({ Protocol: 'HTTPS', Port: '443' }) }),
    ]);
    const open = ingressRules(app).filter(({ rule }) => rule.CidrIp === '0.0.0.0/0');
    expect(open.map(({ rule }) => rule.FromPort).sort()).toEqual([443, 80]);
    // The dashboard is told to read recipes and stock from the same HTTPS origin.
    expect(JSON.stringify(environmentOf(container(app, 'orders-app')).KITCHEN_PUBLIC_URL)).toContain('https://');
  });

  it('when the market simulator is chosen, then inventory buys from it inside the VPC and only inventory can reach it', () => {
    const { app } = deployment;
    expect(environmentOf(container(app, 'inventory-app')).MARKET_URL).toBe(
      'http://market.free-lunch.internal:3100/api/farmers-market/buy',
    );
    const groupOf = (prefix: string) => {
      const [, service] = resources(app, 'AWS::ECS::Service').find(([id]) => id.startsWith(prefix))!;
      return referenced(service.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]);
    };
    const rules = ingressRules(app).filter(({ group }) => group === groupOf('Market'));
    expect(rules.map(({ rule }) => [referenced(rule.SourceSecurityGroupId), rule.FromPort])).toEqual([
      [groupOf('Inventory'), 3100],
    ]);
  });

  it('when a GitHub repository is named, then only main\'s jobs in its deploy environment can assume the deploy role, through OIDC, with no stored keys', () => {
    const github = deployment.github!;
    expect(github).toBeDefined();
    github.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    github.resourceCountIs('AWS::IAM::User', 0);
    github.resourceCountIs('AWS::IAM::AccessKey', 0);
    const role = only(github, 'AWS::IAM::Role');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            // The customized sub: the environment AND main, nothing else.
            'token.actions.githubusercontent.com:sub': 'repo:acme/free-lunch:environment:production:ref:refs/heads/main',
          },
        },
      }),
    ]);
    const statements = resources(github, 'AWS::IAM::Policy').flatMap(
      ([, policy]) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>,
    );
    for (const statement of statements) for (const action of asList(statement.Action)) expect(action).not.toMatch(/\*/);
    expect(statements.map(({ Sid }) => Sid).sort()).toEqual([
      'DeployThroughCdkBootstrapRoles',
      'LogInToEcr',
      'PushImages',
      'WaitForServicesStable',
    ]);
  });
});

describe('Free Lunch on ECS Anywhere', () => {
  let deployment: Synthesized;
  beforeAll(() => {
    // No load balancer, so no certificate; the alarm topic is required all the same.
    deployment = synthesize({ capacity: 'external', externalCidr: '192.168.50.0/24', alarmTopicArn: ALARM_TOPIC });
  }, SYNTH_TIMEOUT_MS);

  it('when synthesized, then cdk-nag\'s AWS Solutions checks leave no finding unacknowledged', () => {
    expect(deployment.findings).toEqual([]);
  });

  it('when ECS Anywhere capacity is chosen, then the services run as EXTERNAL tasks that reach Redis and PostgreSQL from the registered network only', () => {
    const { app } = deployment;
    const services = resources(app, 'AWS::ECS::Service');
    expect(services).toHaveLength(3);
    for (const [, service] of services) {
      expect(service.Properties.LaunchType).toBe('EXTERNAL');
      expect(service.Properties.NetworkConfiguration).toBeUndefined();
    }
    for (const [, task] of resources(app, 'AWS::ECS::TaskDefinition')) {
      expect(task.Properties.RequiresCompatibilities).toEqual(['EXTERNAL']);
      expect(task.Properties.NetworkMode).toBe('bridge');
    }
    expect(resources(app, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([]);
    const open = ingressRules(app).filter(({ rule }) => rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0');
    expect(open).toEqual([]);
    const fromMachines = ingressRules(app).filter(({ rule }) => rule.CidrIp === '192.168.50.0/24');
    expect(fromMachines.map(({ rule }) => rule.FromPort).sort()).toEqual([5433, 6380]);
    // The role `aws ssm create-activation` registers the machines with.
    app.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Action: 'sts:AssumeRole', Principal: { Service: 'ssm.amazonaws.com' } })],
      },
    });
  });
});

describe('Free Lunch as a throwaway demo (allowPlainHttp, allowNoAlarmTopic)', () => {
  let deployment: Synthesized;
  let warned: string[];
  beforeAll(() => {
    const original = console.warn;
    warned = [];
    console.warn = (...args: unknown[]) => void warned.push(args.join(' '));
    try {
      deployment = synthesize({ allowPlainHttp: 'true', allowNoAlarmTopic: 'true' });
    } finally {
      console.warn = original;
    }
  }, SYNTH_TIMEOUT_MS);

  it('when plain HTTP is allowed out loud, then the load balancer serves HTTP on 80 only and synth warns about it', () => {
    // The warning (Annotations.addWarning) is in the validation report, next to no cdk-nag finding.
    expect(deployment.findings).toEqual([
      { rule: 'Annotation::warning-annotation', path: 'FreeLunch' },
      { rule: 'Annotation::warning-annotation', path: 'FreeLunch' },
    ]);
    const listener = only(deployment.app, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listener.Properties).toMatchObject({ Port: 80, Protocol: 'HTTP' });
    expect(listener.Properties.DefaultActions[0].Type).toBe('forward');
    expect(warned.join('\n')).toMatch(/allowPlainHttp=true: the load balancer serves plain HTTP/);
    expect(warned.join('\n')).toMatch(/allowNoAlarmTopic=true: the alarms notify a topic of the stack's own/);
    // The alarms exist all the same, on an encrypted topic of the stack's own.
    const topic = only(deployment.app, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
  });
});

describe('the CDK context', () => {
  const contextError = (context: Record<string, unknown>) => {
    const app = new App({ context: { ...cdkJsonContext, ...context } });
    try {
      addFreeLunch(app);
    } catch (error) {
      expect(app.node.children).toEqual([]);
      return (error as Error).message;
    }
    return '';
  };

  it('when no certificate is given for Fargate, then synth stops and says to pass one or allowPlainHttp=true', () => {
    const message = contextError({ alarmTopicArn: ALARM_TOPIC });
    expect(message).toMatch(/^Invalid CDK context/);
    expect(message).toMatch(/ {2}certificateArn: is required: .*HTTPS only.*-c allowPlainHttp=true/);
    expect(contextError({ alarmTopicArn: ALARM_TOPIC, allowPlainHttp: 'false' })).toContain('  certificateArn: is required');
    expect(contextError({ alarmTopicArn: ALARM_TOPIC, certificateArn: CERTIFICATE })).toBe('');
    expect(contextError({ alarmTopicArn: ALARM_TOPIC, allowPlainHttp: 'true' })).toBe('');
  });

  it('when no alarm topic is given, then synth stops and says to pass one or allowNoAlarmTopic=true', () => {
    const message = contextError({ certificateArn: CERTIFICATE });
    expect(message).toMatch(/ {2}alarmTopicArn: is required: the SNS topic the alarms notify.*-c allowNoAlarmTopic=true/);
    expect(contextError({ certificateArn: CERTIFICATE, alarmTopicArn: 'not-an-arn' })).toContain('  alarmTopicArn: must be an SNS topic ARN');
    expect(contextError({ certificateArn: CERTIFICATE, allowNoAlarmTopic: true })).toBe('');
  });

  it('when the context is wrong, then synth stops before building anything and names every bad key', () => {
    const app = new App({
      context: { ...cdkJsonContext, capacity: 'external', imageTag: 'not a tag', certificateArn: 'nope' },
    });
    let message = '';
    try {
      addFreeLunch(app);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid CDK context/);
    for (const key of ['externalCidr', 'imageTag', 'certificateArn']) expect(message).toContain(`  ${key}: `);
    expect(app.node.children).toEqual([]);
  });
});
