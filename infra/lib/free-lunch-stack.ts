import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AppService, type ContainerSettings } from './app-service.js';
import { catalog, type Deployable } from './catalog.js';
import { DATABASE_NAME, DataStores, POSTGRES_PORT, REDIS_PORT, type RedisUserName } from './data-stores.js';
import { DatabaseRoles } from './database-roles.js';
import { Monitoring } from './monitoring.js';
import { acknowledge } from './nag.js';
import { Network } from './network.js';
import { PublicEntry } from './public-entry.js';
import { scaleOnBacklog, scaleOnCpu } from './scaling.js';
import type { Settings } from './settings.js';

/** Where the images keep Amazon RDS's CA bundle (see the Dockerfiles), for sslmode=verify-full. */
export const RDS_CA_BUNDLE = '/etc/ssl/certs/rds-global-bundle.pem';
/** The cluster's private DNS namespace; the market simulator answers at market.<namespace>. */
export const PRIVATE_NAMESPACE = 'free-lunch.internal';

export interface FreeLunchStackProps extends StackProps {
  settings: Settings;
}

/**
 * Free Lunch on ECS: the three services (and optionally the market simulator) behind one public
 * load balancer, on Fargate or ECS Anywhere, with PostgreSQL on RDS and Redis on ElastiCache.
 */
export class FreeLunchStack extends Stack {
  readonly orders: AppService;
  readonly kitchen: AppService;
  readonly inventory: AppService;
  readonly market?: AppService;
  readonly entry?: PublicEntry;

  constructor(scope: Construct, id: string, props: FreeLunchStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const onFargate = settings.capacity === 'fargate';

    const { vpc } = new Network(this, 'Network', { natGateways: settings.natGateways });
    const stores = new DataStores(this, 'Data', { vpc, deletionProtection: settings.deletionProtection });
    // Each service's own PostgreSQL roles, made by the master user before any service starts.
    const roles = new DatabaseRoles(this, 'DatabaseRoles', { vpc, stores });
    const managerToken = this.managerToken(settings);
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      clusterName: settings.clusterName,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      defaultCloudMapNamespace: settings.market === 'simulator' ? { name: PRIVATE_NAMESPACE, vpc } : undefined,
    });

    // What every service and backlog reporter is told; secrets as references, never values.
    const redis: ContainerSettings = {
      environment: { KEY_PREFIX: 'fl:', REDIS_HOST: stores.redisHost, REDIS_PORT: String(REDIS_PORT) },
      secrets: {},
    };
    /** REDIS_USER and its password (REDIS_AUTH_TOKEN): the entry point logs in as that ElastiCache user. */
    const redisUser = (name: RedisUserName): Record<string, ecs.Secret> => ({
      REDIS_USER: ecs.Secret.fromSecretsManager(stores.redisUsers[name], 'username'),
      REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(stores.redisUsers[name], 'password'),
    });
    const service: ContainerSettings = {
      environment: {
        ...redis.environment,
        HOST: '0.0.0.0',
        LOG_LEVEL: 'info',
        DB_HOST: stores.database.instanceEndpoint.hostname,
        DB_PORT: String(POSTGRES_PORT),
        DB_NAME: DATABASE_NAME,
        DB_OPTIONS: 'sslmode=verify-full',
        NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
      },
      // The database credentials are each service's own (roles.secretsFor), never the master user's.
      secrets: redis.secrets,
    };
    const reporterOf = (deployable: Deployable): ContainerSettings => ({
      environment: {
        ...redis.environment,
        BACKLOG_SERVICE: deployable.name,
        BACKLOG_STREAMS: deployable.consumes.map(({ stream, group }) => `${stream}:${group}`).join(','),
        BACKLOG_INTERVAL_MS: '15000',
      },
      secrets: redisUser('backlog-reporter'),
    });
    const common = { cluster, imageTag: settings.imageTag, capacity: settings.capacity };
    // On Fargate the scaling policies own the task count: a deployment must not reset a kitchen
    // scaled out under load back to a fixed number. On ECS Anywhere the machines set it.
    const desiredCount = onFargate ? undefined : 2;
    const repository = (deployable: Deployable) =>
      ecr.Repository.fromRepositoryName(this, `${deployable.name}-repository`, deployable.repository);

    let marketUrl = settings.marketUrl;
    if (settings.market === 'simulator') {
      this.market = new AppService(this, 'Market', {
        ...common,
        deployable: catalog.market,
        repository: repository(catalog.market),
        environment: { MARKET_HOST: '0.0.0.0', MARKET_PORT: String(catalog.market.port), LOG_LEVEL: 'info' },
        secrets: {},
        cpu: 256,
        memoryMiB: 512,
        desiredCount: 1,
        cloudMapName: 'market',
      });
      marketUrl = `http://market.${PRIVATE_NAMESPACE}:${catalog.market.port}/api/farmers-market/buy`;
    }

    this.orders = new AppService(this, 'Orders', {
      ...common,
      deployable: catalog.orders,
      repository: repository(catalog.orders),
      environment: { ...service.environment, PORT: String(catalog.orders.port) },
      // The secret holds a comma-separated list: during a rotation both the old and the new token.
      secrets: {
        ...service.secrets,
        ...redisUser('orders-app'),
        ...roles.secretsFor('orders-app'),
        MANAGER_TOKENS: ecs.Secret.fromSecretsManager(managerToken),
      },
      cpu: 512,
      memoryMiB: 1024,
      desiredCount,
      loadBalanced: true,
      // orders-app scales on CPU, but its group's backlog and dead letters are watched like the others'.
      backlogReporter: reporterOf(catalog.orders),
    });
    this.kitchen = new AppService(this, 'Kitchen', {
      ...common,
      deployable: catalog.kitchen,
      repository: repository(catalog.kitchen),
      environment: { ...service.environment, PORT: String(catalog.kitchen.port) },
      secrets: { ...service.secrets, ...redisUser('kitchen-app'), ...roles.secretsFor('kitchen-app') },
      cpu: 512,
      memoryMiB: 1024,
      desiredCount,
      loadBalanced: true,
      backlogReporter: reporterOf(catalog.kitchen),
    });
    this.inventory = new AppService(this, 'Inventory', {
      ...common,
      deployable: catalog.inventory,
      repository: repository(catalog.inventory),
      environment: { ...service.environment, PORT: String(catalog.inventory.port), MARKET_URL: marketUrl },
      secrets: { ...service.secrets, ...redisUser('inventory-app'), ...roles.secretsFor('inventory-app') },
      cpu: 512,
      memoryMiB: 1024,
      desiredCount,
      loadBalanced: true,
      backlogReporter: reporterOf(catalog.inventory),
    });

    // The services migrate as their schema's owner at start-up: the roles must exist first.
    for (const app of [this.orders, this.kitchen, this.inventory]) app.service.node.addDependency(roles.provisioning);

    if (onFargate) {
      scaleOnCpu(this.orders, { min: 2, max: 6 });
      scaleOnBacklog(this.kitchen, { min: 2, max: 12 });
      scaleOnBacklog(this.inventory, { min: 2, max: 8 });
      for (const app of [this.orders, this.kitchen, this.inventory]) {
        stores.allowFrom(app.securityGroup!, app.container.containerName);
      }
      this.market?.securityGroup!.connections.allowFrom(
        this.inventory.securityGroup!,
        ec2.Port.tcp(catalog.market.port),
        'inventory-app buys at the market simulator',
      );
      if (!settings.certificateArn) {
        const warning =
          'allowPlainHttp=true: the load balancer serves plain HTTP, manager token included. For a ' +
          'throwaway demo only; production passes -c certificateArn=<ACM certificate ARN>.';
        Annotations.of(this).addWarning(warning);
        console.warn(`[FreeLunch] WARNING: ${warning}`);
      }
      this.entry = new PublicEntry(this, 'Entry', {
        vpc,
        certificateArn: settings.certificateArn,
        orders: this.orders,
        kitchen: this.kitchen,
        inventory: this.inventory,
      });
      // The dashboard reads recipes and stock from where the browser reaches kitchen and inventory:
      // the same load balancer, which routes those paths to them.
      this.orders.container.addEnvironment('KITCHEN_PUBLIC_URL', this.entry.url);
      this.orders.container.addEnvironment('INVENTORY_PUBLIC_URL', this.entry.url);
      // Behind exactly one proxy, the load balancer: the address it saw is the client's, which the
      // per-address rate limits count by. Nothing further along X-Forwarded-For is believed.
      for (const app of [this.orders, this.kitchen, this.inventory]) app.container.addEnvironment('TRUST_PROXY', '1');
      new CfnOutput(this, 'Url', { value: this.entry.url, description: 'Dashboard and API' });
    } else {
      // ECS Anywhere: the machines you registered are the capacity, with one task of a service per
      // machine (bridge networking, fixed ports); scale by registering machines and raising the
      // desired count. (Application Auto Scaling of EXTERNAL services is not offered by CDK.)
      stores.allowFrom(ec2.Peer.ipv4(settings.externalCidr!), 'ECS Anywhere machines');
      this.ecsAnywhereInstanceRole();
    }

    new Monitoring(this, 'Alarms', {
      alarmTopicArn: settings.alarmTopicArn,
      services: [this.orders, this.kitchen, this.inventory],
      consumers: [this.orders, this.kitchen, this.inventory],
      loadBalancer: this.entry?.loadBalancer,
      targetGroups: this.entry?.targetGroups ?? [],
      redis: stores.redis,
      redisNodes: stores.redis.numCacheClusters!,
      database: stores.database,
    });
    if (!settings.alarmTopicArn) {
      const warning =
        'allowNoAlarmTopic=true: the alarms notify a topic of the stack\'s own that nobody is subscribed to. ' +
        'For a throwaway demo only; production passes -c alarmTopicArn=<SNS topic ARN>.';
      Annotations.of(this).addWarning(warning);
      console.warn(`[FreeLunch] WARNING: ${warning}`);
    }

    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'ServiceNames', {
      value: [this.orders, this.kitchen, this.inventory, ...(this.market ? [this.market] : [])]
        .map((app) => app.service.serviceName)
        .join(' '),
      description: 'For `aws ecs wait services-stable --services`',
    });
    new CfnOutput(this, 'ManagerTokenSecret', {
      value: managerToken.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
    });
  }

  /** MANAGER_TOKENS: generated into Secrets Manager, or a secret the operator created (one token, or several comma-separated). */
  private managerToken(settings: Settings): secretsmanager.ISecret {
    if (settings.managerTokenSecretName) {
      return secretsmanager.Secret.fromSecretNameV2(this, 'ManagerToken', settings.managerTokenSecretName);
    }
    const secret = new secretsmanager.Secret(this, 'ManagerToken', {
      description: 'Free Lunch: the manager\'s bearer tokens, comma-separated (POST /orders, the dashboard)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'The manager types this token into the dashboard; it changes when the manager is told, by ' +
        'put-secret-value and a redeploy of orders-app, not on a timer that would lock the manager out.',
    );
    return secret;
  }

  /**
   * The role ECS Anywhere machines get when registered with an SSM activation
   * (`aws ssm create-activation --iam-role <this>`): the two AWS-managed policies ECS Anywhere
   * documents for the SSM agent and the ECS agent.
   */
  private ecsAnywhereInstanceRole(): void {
    const policies = ['AmazonSSMManagedInstanceCore', 'service-role/AmazonEC2ContainerServiceforEC2Role'];
    const role = new iam.Role(this, 'EcsAnywhereInstanceRole', {
      description: 'ECS Anywhere machines of the Free Lunch cluster (SSM and ECS agents)',
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com'),
      managedPolicies: policies.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    for (const name of policies) {
      acknowledge(
        role,
        `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
        'ECS Anywhere requires this AWS-managed policy on the instance role of registered machines ' +
          '(AWS documents exactly these two for the SSM and ECS agents and keeps them current with the agents).',
      );
    }
    new CfnOutput(this, 'EcsAnywhereInstanceRoleName', { value: role.roleName });
  }
}
