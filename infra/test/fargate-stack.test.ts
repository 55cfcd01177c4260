import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, deployables } from '../lib/catalog.js';
import { ALARM_THRESHOLDS } from '../lib/monitoring.js';
import { HSTS_HEADER_VALUE } from '../lib/public-entry.js';
import { REAL_MARKET_URL } from '../lib/settings.js';
import { BACKLOG_METRIC, BACKLOG_NAMESPACE } from '../runtime/backlog-contract.js';
import { ALARM_TOPIC, CERTIFICATE, PRODUCTION, synthesize, type Synthesized } from './synth.js';
import {
  asList,
  container,
  containers,
  environmentOf,
  ingressRules,
  policyStatements,
  referenced,
  only,
  resources,
} from './template-queries.js';


/** The logical id of the secret of PostgreSQL role `role` (its description names it). */
function roleSecret(template: Template, role: string): string {
  const found = resources(template, 'AWS::SecretsManager::Secret').filter(
    ([, secret]) => secret.Properties.Description === `Free Lunch: PostgreSQL role ${role}`,
  );
  expect(found, role).toHaveLength(1);
  return found[0]![0];
}

/** The logical ids of the secrets a container's `Secrets` point at (ARN, or ARN:field::). */
function secretsReferenced(definition: { Secrets?: Array<{ Name: string; ValueFrom: unknown }> }): Record<string, string> {
  return Object.fromEntries(
    (definition.Secrets ?? []).map(({ Name, ValueFrom }) => [
      Name,
      referenced(ValueFrom) ?? referenced((ValueFrom as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][0])!,
    ]),
  );
}

const ANYWHERE = ['0.0.0.0/0', '::/0'];
const SYNTH_TIMEOUT_MS = 120_000;

describe('Free Lunch on Fargate (the default deployment, with the certificate and alarm topic it requires)', () => {
  let deployment: Synthesized;
  // One synth for every assertion below: a synth takes seconds.
  beforeAll(() => {
    deployment = synthesize(PRODUCTION);
  }, SYNTH_TIMEOUT_MS);

  it('when synthesized, then cdk-nag\'s AWS Solutions checks leave no finding unacknowledged', () => {
    expect(deployment.findings).toEqual([]);
  });

  it('when synthesized, then only the load balancer admits traffic from the internet, on 80 (redirect) and 443', () => {
    const loadBalancers = resources(deployment.app, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(loadBalancers).toHaveLength(1);
    const [, loadBalancer] = loadBalancers[0]!;
    expect(loadBalancer.Properties.Scheme).toBe('internet-facing');
    const loadBalancerGroups = asList(loadBalancer.Properties.SecurityGroups).map(referenced);

    const open = ingressRules(deployment.app).filter(({ rule }) => ANYWHERE.includes(rule.CidrIp ?? rule.CidrIpv6));
    expect(open.length).toBeGreaterThan(0);
    for (const { group, rule } of open) {
      expect(loadBalancerGroups).toContain(group);
      expect(rule.FromPort).toBe(rule.ToPort);
    }
    expect(open.map(({ rule }) => rule.FromPort).sort()).toEqual([443, 80]);
  });

  it('when a browser talks to the load balancer, then port 80 only redirects to HTTPS and every HTTPS answer, the load balancer\'s own included, carries HSTS', () => {
    const listeners = resources(deployment.app, 'AWS::ElasticLoadBalancingV2::Listener').map(([, { Properties }]) => Properties);
    expect(listeners.map(({ Port }) => Port).sort()).toEqual([443, 80]);
    const http = listeners.find(({ Port }) => Port === 80)!;
    expect(http.DefaultActions).toEqual([
      { Type: 'redirect', RedirectConfig: expect.objectContaining({ Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' }) },
    ]);
    // Nothing on port 80 is served: no rule hangs off the HTTP listener.
    const httpId = resources(deployment.app, 'AWS::ElasticLoadBalancingV2::Listener').find(([, l]) => l.Properties.Port === 80)![0];
    const rules = resources(deployment.app, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    expect(rules.filter(([, rule]) => referenced(rule.Properties.ListenerArn) === httpId)).toEqual([]);
    const https = listeners.find(({ Port }) => Port === 443)!;
    expect(https).toMatchObject({ Protocol: 'HTTPS', Certificates: [{ CertificateArn: CERTIFICATE }] });
    expect(https.ListenerAttributes).toContainEqual({
      Key: 'routing.http.response.strict_transport_security.header_value',
      Value: HSTS_HEADER_VALUE,
    });
    // The services send the same policy (helmet's default), so both sources agree.
    expect(HSTS_HEADER_VALUE).toBe('max-age=31536000; includeSubDomains');
  });

  it('when nothing about the market is said, then inventory buys at the real market', () => {
    expect(environmentOf(container(deployment.app, 'inventory-app')).MARKET_URL).toBe(REAL_MARKET_URL);
    expect(resources(deployment.app, 'AWS::ECS::Service').map(([id]) => id)).not.toContainEqual(
      expect.stringMatching(/^Market/),
    );
  });

  it('when synthesized, then every task runs in the private subnets without a public IP', () => {
    const privateSubnets = resources(deployment.app, 'AWS::EC2::Subnet')
      .filter(([, subnet]) => subnet.Properties.MapPublicIpOnLaunch !== true)
      .filter(([, subnet]) =>
        asList(subnet.Properties.Tags).some(
          (tag: { Key: string; Value: string }) => tag.Key === 'aws-cdk:subnet-type' && tag.Value === 'Private',
        ),
      )
      .map(([id]) => id);
    expect(privateSubnets).toHaveLength(2);

    const services = resources(deployment.app, 'AWS::ECS::Service');
    expect(services).toHaveLength(3);
    for (const [, service] of services) {
      const network = service.Properties.NetworkConfiguration.AwsvpcConfiguration;
      expect(network.AssignPublicIp).toBe('DISABLED');
      expect(asList(network.Subnets).map(referenced).sort()).toEqual([...privateSubnets].sort());
      expect(service.Properties.LaunchType).toBe('FARGATE');
    }
  });

  it('when synthesized, then Redis is encrypted at rest and in transit, needs a user and password and sits in the isolated subnets', () => {
    deployment.app.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      // ElastiCache RBAC users, not one shared AUTH token.
      UserGroupIds: [Match.anyValue()],
      AuthToken: Match.absent(),
    });
    const subnetGroup = only(deployment.app, 'AWS::ElastiCache::SubnetGroup');
    expect(asList(subnetGroup.Properties.SubnetIds).map(referenced).every((id) => /data/i.test(id!))).toBe(true);
  });

  it('when synthesized, then PostgreSQL is encrypted at rest, refuses unencrypted connections and is not public', () => {
    deployment.app.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^15'),
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: true,
      DeletionProtection: true,
    });
    deployment.app.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: { 'rds.force_ssl': '1', random_page_cost: '1.1' },
    });
    const subnetGroup = only(deployment.app, 'AWS::RDS::DBSubnetGroup');
    expect(asList(subnetGroup.Properties.SubnetIds).map(referenced).every((id) => /data/i.test(id!))).toBe(true);
    // The services verify the server's certificate against the RDS CA bundle in their images.
    expect(environmentOf(container(deployment.app, 'kitchen-app'))).toMatchObject({
      DB_OPTIONS: 'sslmode=verify-full',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/rds-global-bundle.pem',
    });
  });

  it('when synthesized, then each service behind the load balancer believes exactly one proxy hop, for per-address limits', () => {
    for (const name of ['orders-app', 'kitchen-app', 'inventory-app']) {
      expect(environmentOf(container(deployment.app, name)).TRUST_PROXY, name).toBe('1');
    }
  });

  it('when synthesized, then Redis and PostgreSQL admit the three services\' security groups and nothing else', () => {
    const serviceGroups = resources(deployment.app, 'AWS::ECS::Service')
      .map(([, service]) => referenced(service.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]))
      .sort();
    const storeGroups = [
      ...resources(deployment.app, 'AWS::ElastiCache::ReplicationGroup').map(([, redis]) =>
        referenced(redis.Properties.SecurityGroupIds[0]),
      ),
      ...resources(deployment.app, 'AWS::RDS::DBInstance').map(([, db]) => referenced(db.Properties.VPCSecurityGroups[0])),
    ];
    expect(storeGroups).toHaveLength(2);
    const [redisGroup, postgresGroup] = storeGroups;
    for (const store of storeGroups) {
      const rules = ingressRules(deployment.app).filter(({ group }) => group === store);
      expect(rules.map(({ rule }) => rule.CidrIp ?? rule.CidrIpv6).filter(Boolean)).toEqual([]);
      // PostgreSQL also admits the provisioning Lambda (asserted below); Redis the services alone.
      const expected = store === postgresGroup ? [...serviceGroups, provisioningGroup()].sort() : serviceGroups;
      expect(rules.map(({ rule }) => referenced(rule.SourceSecurityGroupId)).sort(), store).toEqual(expected);
    }
    expect(redisGroup).not.toBe(postgresGroup);
  });

  it('when synthesized, then the password, the Redis token and the manager token come from Secrets Manager, never as plain variables', () => {
    const secretIds = resources(deployment.app, 'AWS::SecretsManager::Secret').map(([id]) => id);
    const attachments = resources(deployment.app, 'AWS::SecretsManager::SecretTargetAttachment').map(([id]) => id);
    const fromSecretsManager = (valueFrom: unknown) => {
      const target = referenced(valueFrom) ?? referenced((valueFrom as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][0]);
      return [...secretIds, ...attachments].includes(target!);
    };
    for (const { container: definition } of containers(deployment.app)) {
      const environment = environmentOf(definition);
      for (const name of Object.keys(environment)) expect(name).not.toMatch(/PASSWORD|TOKEN|SECRET|DATABASE_URL|REDIS_URL/);
      expect(JSON.stringify(environment)).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\//);
      for (const { ValueFrom } of definition.Secrets ?? []) expect(fromSecretsManager(ValueFrom)).toBe(true);
    }
    const secretNames = (name: string) => (container(deployment.app, name).Secrets ?? []).map(({ Name }) => Name).sort();
    const database = ['DB_OWNER_PASSWORD', 'DB_OWNER_USER', 'DB_PASSWORD', 'DB_USER'];
    expect(secretNames('orders-app')).toEqual([...database, 'MANAGER_TOKENS', 'REDIS_AUTH_TOKEN', 'REDIS_USER']);
    expect(secretNames('kitchen-app')).toEqual([...database, 'REDIS_AUTH_TOKEN', 'REDIS_USER']);
    expect(secretNames('inventory-app')).toEqual([...database, 'REDIS_AUTH_TOKEN', 'REDIS_USER']);
    expect(secretNames('backlog-reporter')).toEqual(['REDIS_AUTH_TOKEN', 'REDIS_USER']);
  });

  it('when synthesized, then no policy grants a wildcard action and the tasks\' own roles hold no permission at all', () => {
    const statements = policyStatements(deployment.app);
    expect(statements.length).toBeGreaterThan(0);
    for (const { statement } of statements) {
      for (const action of asList(statement.Action)) expect(action).not.toMatch(/\*/);
      expect(statement.NotAction).toBeUndefined();
    }
    const taskRoles = resources(deployment.app, 'AWS::ECS::TaskDefinition').map(([, task]) => referenced(task.Properties.TaskRoleArn));
    expect(taskRoles).toHaveLength(3);
    for (const [, policy] of resources(deployment.app, 'AWS::IAM::Policy')) {
      for (const role of asList(policy.Properties.Roles).map(referenced)) expect(taskRoles).not.toContain(role);
    }
    for (const role of taskRoles) {
      const [, definition] = resources(deployment.app, 'AWS::IAM::Role').find(([id]) => id === role)!;
      expect(definition.Properties.Policies ?? []).toEqual([]);
      expect(definition.Properties.ManagedPolicyArns ?? []).toEqual([]);
    }
  });

  it('when synthesized, then each service pulls only its own image and reads only the secrets it is given', () => {
    for (const [id, policy] of resources(deployment.app, 'AWS::IAM::Policy').filter(([id]) => /ExecutionRole/.test(id))) {
      const service = deployables.find(({ name }) => id.toLowerCase().startsWith(name.split('-')[0]!))!;
      const pulls = (policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>).filter((statement) =>
        asList(statement.Action).includes('ecr:BatchGetImage'),
      );
      expect(pulls.map(({ Resource }) => Resource)).toEqual([
        `arn:aws:ecr:us-east-1:111111111111:repository/${service.repository}`,
      ]);
    }
  });

  it('when synthesized, then the image repositories scan every push and never move a tag', () => {
    const repositories = resources(deployment.registry, 'AWS::ECR::Repository');
    expect(repositories.map(([, repository]) => repository.Properties.RepositoryName).sort()).toEqual(
      deployables.map(({ repository }) => repository).sort(),
    );
    for (const [, repository] of repositories) {
      expect(repository.Properties.ImageScanningConfiguration).toEqual({ ScanOnPush: true });
      expect(repository.Properties.ImageTagMutability).toBe('IMMUTABLE');
    }
  });

  it('when synthesized, then kitchen and inventory scale in steps on their stream backlog and orders on CPU', () => {
    for (const service of [catalog.kitchen, catalog.inventory]) {
      const alarms = resources(deployment.app, 'AWS::CloudWatch::Alarm').filter(
        ([, alarm]) =>
          alarm.Properties.Namespace === BACKLOG_NAMESPACE &&
          alarm.Properties.MetricName === BACKLOG_METRIC &&
          // The operator's backlog alarm (asserted with the other alarms) is not a scaling step.
          !asList(alarm.Properties.AlarmActions).includes(ALARM_TOPIC) &&
          alarm.Properties.Dimensions.some(({ Value }: { Value: string }) => Value === service.name),
      );
      expect(alarms.map(([, alarm]) => alarm.Properties.ComparisonOperator).sort()).toEqual([
        'GreaterThanOrEqualToThreshold',
        'LessThanOrEqualToThreshold',
      ]);
      const policies = Object.fromEntries(resources(deployment.app, 'AWS::ApplicationAutoScaling::ScalingPolicy'));
      for (const [, alarm] of alarms) {
        const [policy] = asList(alarm.Properties.AlarmActions).map(referenced);
        expect(policies[policy!]?.Properties.PolicyType).toBe('StepScaling');
      }
      // The reporter next to the service measures exactly the streams its consumer group reads.
      const reporters = containers(deployment.app).filter(
        ({ container: definition }) =>
          definition.Name === 'backlog-reporter' && environmentOf(definition).BACKLOG_SERVICE === service.name,
      );
      expect(reporters).toHaveLength(1);
      expect(environmentOf(reporters[0]!.container).BACKLOG_STREAMS).toBe(
        service.consumes.map(({ stream, group }) => `${stream}:${group}`).join(','),
      );
    }
    deployment.app.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
    // At least two tasks of each, and a deployment never resets the count the scaling reached.
    const targets = resources(deployment.app, 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(targets.map(([, target]) => target.Properties.MinCapacity)).toEqual([2, 2, 2]);
    for (const [, service] of resources(deployment.app, 'AWS::ECS::Service')) {
      expect(service.Properties.DesiredCount).toBeUndefined();
    }
  });

  it('when a request reaches the load balancer, then /recipes goes to kitchen, /stock, /stock/audit and /purchases to inventory, /metrics nowhere, the rest to orders', () => {
    const targetGroupOf = (name: string) =>
      resources(deployment.app, 'AWS::ECS::Service')
        .map(([, service]) => service.Properties.LoadBalancers[0])
        .find(({ ContainerName }: { ContainerName: string }) => ContainerName === name).TargetGroupArn;
    const [, listener] = resources(deployment.app, 'AWS::ElasticLoadBalancingV2::Listener').find(([, l]) => l.Properties.Port === 443)!;
    expect(listener.Properties.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: targetGroupOf('orders-app') }]);

    const rules = resources(deployment.app, 'AWS::ElasticLoadBalancingV2::ListenerRule').map(([, rule]) => rule.Properties);
    const paths = (rule: Record<string, any>) =>
      rule.Conditions.find(({ Field }: { Field: string }) => Field === 'path-pattern').PathPatternConfig.Values;
    const forwardTo = (name: string) =>
      rules.filter(({ Actions }) => Actions[0].Type === 'forward' && Actions[0].TargetGroupArn.Ref === targetGroupOf(name).Ref);
    expect(forwardTo('kitchen-app').map(paths)).toEqual([['/recipes']]);
    expect(forwardTo('inventory-app').map(paths)).toEqual([['/stock', '/stock/audit', '/purchases']]);
    const hidden = rules.filter(({ Actions }) => Actions[0].Type === 'fixed-response');
    expect(hidden.map(paths)).toEqual([['/metrics']]);
    expect(hidden[0]!.Actions[0].FixedResponseConfig.StatusCode).toBe('404');
  });

  /** The provisioning Lambda's security group. */
  const provisioningGroup = () => {
    const [, fn] = resources(deployment.app, 'AWS::Lambda::Function').find(([id]) => id.startsWith('DatabaseRolesFunction'))!;
    return referenced(fn.Properties.VpcConfig.SecurityGroupIds[0])!;
  };

  it('when synthesized, then each service gets only its own PostgreSQL roles\' secrets, never another service\'s nor the master user\'s', () => {
    const master = [
      ...resources(deployment.app, 'AWS::SecretsManager::SecretTargetAttachment').map(([id]) => id),
      ...resources(deployment.app, 'AWS::SecretsManager::Secret')
        .filter(([, secret]) => JSON.stringify(secret.Properties.GenerateSecretString ?? {}).includes('free_lunch'))
        .map(([id]) => id),
    ];
    expect(master.length).toBeGreaterThan(0);
    const schemas = { 'orders-app': 'orders', 'kitchen-app': 'kitchen', 'inventory-app': 'inventory' } as const;
    for (const [service, schema] of Object.entries(schemas)) {
      const referencedBy = secretsReferenced(container(deployment.app, service));
      expect(referencedBy.DB_USER, service).toBe(roleSecret(deployment.app, `fl_${schema}_app`));
      expect(referencedBy.DB_PASSWORD, service).toBe(roleSecret(deployment.app, `fl_${schema}_app`));
      expect(referencedBy.DB_OWNER_USER, service).toBe(roleSecret(deployment.app, `fl_${schema}_owner`));
      expect(referencedBy.DB_OWNER_PASSWORD, service).toBe(roleSecret(deployment.app, `fl_${schema}_owner`));
      const others = Object.values(schemas)
        .filter((other) => other !== schema)
        .flatMap((other) => [`fl_${other}_app`, `fl_${other}_owner`].map((role) => roleSecret(deployment.app, role)));
      for (const forbidden of [...others, ...master]) expect(Object.values(referencedBy), service).not.toContain(forbidden);
      // Nor may its execution role read them.
      const [, policy] = resources(deployment.app, 'AWS::IAM::Policy').find(
        ([id]) => id.toLowerCase().startsWith(schema) && /ExecutionRole/.test(id),
      )!;
      const readable = (policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>)
        .filter((statement) => asList(statement.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((statement) => asList(statement.Resource).map(referenced));
      for (const forbidden of [...others, ...master]) expect(readable, service).not.toContain(forbidden);
    }
  });

  it('when deployed, then the roles are provisioned with the master user before any service starts', () => {
    const [provisioning] = resources(deployment.app, 'Custom::FreeLunchDatabaseRoles');
    expect(provisioning).toBeDefined();
    const [provisioningId, { Properties }] = provisioning!;
    expect(Properties.Schemas).toEqual(['orders', 'kitchen', 'inventory']);
    expect(asList(Properties.RoleSecretArns).map(referenced).sort()).toEqual(
      ['orders', 'kitchen', 'inventory'].flatMap((schema) => [`fl_${schema}_owner`, `fl_${schema}_app`].map((role) => roleSecret(deployment.app, role))).sort(),
    );
    expect(referenced(Properties.AdminSecretArn)).toMatch(/^DataPostgresSecretAttachment/);
    const services = Object.entries(deployment.app.toJSON().Resources as Record<string, { Type: string; DependsOn?: string[] }>).filter(
      ([, resource]) => resource.Type === 'AWS::ECS::Service',
    );
    expect(services).toHaveLength(3);
    for (const [id, service] of services) expect(asList(service.DependsOn), id).toContain(provisioningId);
  });

  it('when synthesized, then the provisioning Lambda reaches PostgreSQL on its port only, and HTTPS for Secrets Manager', () => {
    const lambdaGroup = provisioningGroup();
    const [, group] = resources(deployment.app, 'AWS::EC2::SecurityGroup').find(([id]) => id === lambdaGroup)!;
    const egress = [
      ...asList(group.Properties.SecurityGroupEgress),
      ...resources(deployment.app, 'AWS::EC2::SecurityGroupEgress')
        .filter(([, rule]) => referenced(rule.Properties.GroupId) === lambdaGroup)
        .map(([, rule]) => rule.Properties),
    ] as Array<Record<string, any>>;
    const [, database] = only(deployment.app, 'AWS::RDS::DBInstance') && resources(deployment.app, 'AWS::RDS::DBInstance')[0]!;
    const postgresGroup = referenced(database.Properties.VPCSecurityGroups[0]);
    expect(egress.map((rule) => [rule.DestinationSecurityGroupId ? referenced(rule.DestinationSecurityGroupId) : rule.CidrIp ?? rule.CidrIpv6, rule.FromPort, rule.ToPort]).sort()).toEqual(
      [
        [postgresGroup, 5433, 5433],
        ['0.0.0.0/0', 443, 443],
        ['::/0', 443, 443],
      ].sort(),
    );
    const intoPostgres = ingressRules(deployment.app).filter(
      ({ group: target, rule }) => target === postgresGroup && referenced(rule.SourceSecurityGroupId) === lambdaGroup,
    );
    expect(intoPostgres.map(({ rule }) => [rule.FromPort, rule.ToPort])).toEqual([[5433, 5433]]);
  });

  it('when a process logs in to Redis, then it is its own ElastiCache user, limited to fl: keys and a command allowlist, and the default user is off', () => {
    const users = Object.fromEntries(
      resources(deployment.app, 'AWS::ElastiCache::User').map(([id, user]) => [id, user.Properties]),
    );
    const byName = (name: string) => Object.entries(users).find(([, user]) => user.UserId === name)!;
    const [defaultId, defaultUser] = byName('free-lunch-default-off');
    expect(defaultUser).toMatchObject({ UserName: 'default', AccessString: 'off -@all' });
    const group = only(deployment.app, 'AWS::ElastiCache::UserGroup');
    expect([...group.Properties.UserIds].sort()).toEqual(Object.values(users).map(({ UserId }) => UserId).sort());
    expect(defaultId).toBeDefined();
    const dangerous = ['flushall', 'flushdb', 'keys', 'scan', 'config', 'debug', 'shutdown', 'monitor', '@all', '@admin', '@dangerous'];
    const granted = (accessString: string) => accessString.split(' ').filter((part) => part.startsWith('+')).map((part) => part.slice(1));
    for (const name of ['orders-app', 'kitchen-app', 'inventory-app', 'backlog-reporter']) {
      const [id, user] = byName(`free-lunch-${name}`);
      const parts = (user.AccessString as string).split(' ');
      expect(parts.slice(0, 3), name).toEqual(['on', '~fl:*', '-@all']);
      for (const command of dangerous) expect(granted(user.AccessString), name).not.toContain(command);
      expect(user.AuthenticationMode.Type).toBe('password');
      // The password is resolved by CloudFormation from the user's secret, never written in the template.
      expect(JSON.stringify(user.AuthenticationMode.Passwords)).toMatch(/resolve:secretsmanager:/);
      // And the containers that log in as this user get that same secret, nobody else's.
      const secret = JSON.stringify(user.AuthenticationMode.Passwords).match(/"Ref":"([^"]+)"/)![1];
      const logins = containers(deployment.app).filter(({ container: definition }) =>
        (definition.Secrets ?? []).some(({ Name, ValueFrom }) => Name === 'REDIS_USER' && JSON.stringify(ValueFrom).includes(`"${secret}"`)),
      );
      expect(logins.map(({ container: definition }) => definition.Name), `${id}`).toEqual(
        name === 'backlog-reporter' ? ['backlog-reporter', 'backlog-reporter', 'backlog-reporter'] : [name],
      );
      for (const { container: definition } of logins) {
        const password = definition.Secrets!.find(({ Name }) => Name === 'REDIS_AUTH_TOKEN')!;
        expect(JSON.stringify(password.ValueFrom)).toContain(`"${secret}"`);
      }
    }
    const services = granted(byName('free-lunch-orders-app')[1].AccessString);
    expect(services).toEqual(expect.arrayContaining(['xadd', 'xreadgroup', 'xack', 'xautoclaim', 'evalsha', 'getdel', 'multi', 'exec']));
    // The reporter only reads.
    expect(granted(byName('free-lunch-backlog-reporter')[1].AccessString).sort()).toEqual(
      ['client|setinfo', 'client|setname', 'info', 'ping', 'xinfo', 'xlen', 'xpending'].sort(),
    );
  });

  it('when something goes wrong, then an alarm with its metric and threshold tells the operator\'s SNS topic, when it fires and when it clears', () => {
    const alarms = resources(deployment.app, 'AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) => asList(alarm.AlarmActions).includes(ALARM_TOPIC));
    for (const alarm of alarms) expect(alarm.OKActions).toEqual([ALARM_TOPIC]);
    const find = (namespace: string, metric: string, dimension?: [string, string]) =>
      alarms.filter(
        (alarm) =>
          alarm.Namespace === namespace &&
          alarm.MetricName === metric &&
          (!dimension || JSON.stringify(alarm.Dimensions).includes(`"Value":"${dimension[1]}"`)),
      );
    const expectAlarm = (found: Array<Record<string, any>>, count: number, threshold: number, comparison: string) => {
      expect(found).toHaveLength(count);
      for (const alarm of found) expect([alarm.Threshold, alarm.ComparisonOperator]).toEqual([threshold, comparison]);
    };
    const atLeast = 'GreaterThanOrEqualToThreshold';
    expectAlarm(find('AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count'), 1, ALARM_THRESHOLDS.http5xx, atLeast);
    expectAlarm(find('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count'), 1, ALARM_THRESHOLDS.http5xx, atLeast);
    expectAlarm(find('AWS/ApplicationELB', 'UnHealthyHostCount'), 3, 1, atLeast);
    for (const service of ['orders-app', 'kitchen-app', 'inventory-app']) {
      expectAlarm(find(BACKLOG_NAMESPACE, BACKLOG_METRIC, ['Service', service]).filter((a) => a.AlarmActions.length === 1 && a.AlarmActions[0] === ALARM_TOPIC), 1, ALARM_THRESHOLDS.backlog, atLeast);
      expectAlarm(find(BACKLOG_NAMESPACE, 'DeadLetters', ['Service', service]), 1, 0, 'GreaterThanThreshold');
    }
    expectAlarm(find('AWS/ElastiCache', 'DatabaseMemoryUsagePercentage'), 2, ALARM_THRESHOLDS.redisMemoryPercent, atLeast);
    expectAlarm(find('AWS/ElastiCache', 'Evictions'), 2, 0, 'GreaterThanThreshold');
    expectAlarm(find('AWS/RDS', 'CPUUtilization'), 1, ALARM_THRESHOLDS.rdsCpuPercent, atLeast);
    expectAlarm(find('AWS/RDS', 'FreeStorageSpace'), 1, ALARM_THRESHOLDS.rdsFreeStorageBytes, 'LessThanThreshold');
    expectAlarm(find('AWS/RDS', 'DatabaseConnections'), 1, ALARM_THRESHOLDS.rdsConnections, atLeast);
    // Task restarts: desired minus running tasks (Container Insights), one alarm per service.
    const missing = alarms.filter((alarm) => alarm.Metrics?.some((m: { Expression?: string }) => m.Expression === 'desired - running'));
    expect(missing).toHaveLength(3);
    for (const alarm of missing) {
      expect([alarm.Threshold, alarm.EvaluationPeriods]).toEqual([1, 5]);
      const names = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.MetricName).sort();
      expect(names).toEqual(['DesiredTaskCount', 'RunningTaskCount']);
    }
    // Nothing else is on the topic, and no topic of the stack's own when the operator gave one.
    expect(alarms).toHaveLength(1 + 1 + 3 + 6 + 4 + 3 + 3);
    expect(resources(deployment.app, 'AWS::SNS::Topic')).toEqual([]);
  });

  it('when synthesized, then every container checks its own /health, logs to CloudWatch and runs with a read-only root file system', () => {
    for (const { container: definition } of containers(deployment.app)) {
      expect(definition.LogConfiguration.LogDriver).toBe('awslogs');
      expect(definition.ReadonlyRootFilesystem).toBe(true);
      if (definition.Name !== 'backlog-reporter') {
        expect(definition.HealthCheck.Command.join(' ')).toContain('/health');
        expect(environmentOf(definition).HOST).toBe('0.0.0.0');
      }
    }
  });
});
