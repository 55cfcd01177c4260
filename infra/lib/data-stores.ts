import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** Ports other than the engines' defaults (cdk-nag AEC5, RDS11): scanners for 5432/6379 find nothing. */
export const REDIS_PORT = 6380;
export const POSTGRES_PORT = 5433;
export const DATABASE_NAME = 'free_lunch';

// The services receive whole connection URLs, which the image's entry point builds from these
// secrets: a generated value must never need URL-escaping. Every ASCII punctuation is left out.
export const URL_RESERVED = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/**
 * Redis commands a service may run (ElastiCache RBAC). Streams; Lua (the publisher and the rate
 * limiter are scripts); the few string commands of rate limits, WebSocket tickets and idempotency;
 * transactions; and what ioredis sends on connecting. Nothing that reads the whole keyspace or
 * changes the server (FLUSHALL, FLUSHDB, KEYS, SCAN, CONFIG, DEBUG, SHUTDOWN, ...).
 */
export const REDIS_SERVICE_COMMANDS = [
  'xadd', 'xreadgroup', 'xack', 'xautoclaim', 'xclaim', 'xgroup', 'xinfo', 'xpending', 'xrange', 'xrevrange',
  'xread', 'xlen', 'xtrim', 'xdel',
  'eval', 'evalsha', 'script',
  'get', 'set', 'getdel', 'del', 'pexpire', 'pttl', 'incr',
  'ping', 'multi', 'exec', 'client|setname', 'client|setinfo', 'info',
] as const;
/** The backlog reporter only measures: group lag and pending, dead-letter lengths. */
export const REDIS_REPORTER_COMMANDS = ['xinfo', 'xlen', 'xpending', 'ping', 'client|setname', 'client|setinfo', 'info'] as const;

/**
 * An ElastiCache access string: on, every key under the prefix, no command but `commands`.
 * A first step: each service has its own user and command allowlist, but all of them may touch
 * any `fl:` key (their streams, dead letters, rate limits, tickets). Narrowing each user to its own
 * streams (`~fl:orders.placed ~fl:orders.placed.dead-letter ...`) needs the key list of every
 * script kept in step with the services; see docs/deploy-aws.md.
 */
export function redisAccessString(commands: readonly string[]): string {
  return ['on', '~fl:*', '-@all', ...commands.map((command) => `+${command}`)].join(' ');
}

/** Who logs in to Redis: one user per service, and the read-only backlog reporter. */
export const REDIS_USERS = {
  'orders-app': REDIS_SERVICE_COMMANDS,
  'kitchen-app': REDIS_SERVICE_COMMANDS,
  'inventory-app': REDIS_SERVICE_COMMANDS,
  'backlog-reporter': REDIS_REPORTER_COMMANDS,
} as const;
export type RedisUserName = keyof typeof REDIS_USERS;

export interface DataStoresProps {
  vpc: ec2.IVpc;
  deletionProtection: boolean;
}

/**
 * PostgreSQL (the system of record) and Redis (the streams), both Multi-AZ in the isolated subnets,
 * encrypted at rest and in transit, with credentials generated into Secrets Manager. Their
 * security groups admit nobody until {@link allowFrom} names a peer.
 */
export class DataStores extends Construct {
  readonly database: rds.DatabaseInstance;
  readonly databaseSecret: secretsmanager.ISecret;
  readonly redis: elasticache.CfnReplicationGroup;
  /** Each Redis user's `{ username, password }`. */
  readonly redisUsers: Record<RedisUserName, secretsmanager.Secret>;
  private readonly redisSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, { vpc, deletionProtection }: DataStoresProps) {
    super(scope, id);
    const isolated = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });

    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'PostgresSecurityGroup', {
      vpc,
      description: 'Free Lunch PostgreSQL: only the services may connect',
      allowAllOutbound: false,
    });
    this.database = new rds.DatabaseInstance(this, 'Postgres', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc,
      vpcSubnets: isolated,
      securityGroups: [databaseSecurityGroup],
      port: POSTGRES_PORT,
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromGeneratedSecret('free_lunch', { excludeCharacters: URL_RESERVED }),
      multiAz: true,
      storageEncrypted: true,
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      storageType: rds.StorageType.GP3,
      // Encryption in transit: the server refuses unencrypted connections; clients verify it (sslmode=verify-full).
      // random_page_cost as the services' sessions set it (data in memory), so that what an operator
      // EXPLAINs is planned as the services' own statements are.
      parameters: { 'rds.force_ssl': '1', random_page_cost: '1.1' },
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      publiclyAccessible: false,
      backupRetention: Duration.days(7),
      deletionProtection,
      removalPolicy: deletionProtection ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      cloudwatchLogsExports: ['postgresql'],
      autoMinorVersionUpgrade: true,
    });
    if (!deletionProtection) {
      acknowledge(
        this.database,
        'AwsSolutions-RDS10',
        'Deletion protection was turned off in the CDK context (deletionProtection=false), on purpose, for ' +
          'a deployment meant to be torn down; production keeps the default (on, with a final snapshot).',
      );
    }
    this.databaseSecret = this.database.secret!;
    // The generated secret itself (database.secret is its attachment to the instance).
    acknowledge(
      this.database.node.findChild('Secret'),
      'AwsSolutions-SMG4',
      'The services read the password once at start-up into their connection pools; a rotation would cut ' +
        'every new connection until the next deployment. Rotate by hand with a rolling redeploy (docs/operations.md).',
    );

    this.redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSecurityGroup', {
      vpc,
      description: 'Free Lunch Redis: only the services may connect',
      allowAllOutbound: false,
    });
    // RBAC instead of one shared AUTH token: a user per service with its own password and command
    // allowlist, and the default user (which every connection without a user name would be) off.
    const users = Object.entries(REDIS_USERS).map(([name, commands]) => {
      const userName = `free-lunch-${name}`;
      const secret = new secretsmanager.Secret(this, `RedisUser-${name}`, {
        description: `Free Lunch: Redis (ElastiCache RBAC) user ${userName}`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: userName }),
          generateStringKey: 'password',
          passwordLength: 64,
          excludePunctuation: true,
        },
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'ElastiCache changes a user\'s password only through ModifyUser, which a Secrets Manager rotation cannot ' +
          'do in step with the running services; rotated by hand (a second password, redeploy, drop the first: docs/operations.md).',
      );
      const user = new elasticache.CfnUser(this, `RedisUser-${name}-User`, {
        engine: 'redis',
        userId: userName,
        userName,
        accessString: redisAccessString(commands),
        authenticationMode: { Type: 'password', Passwords: [secret.secretValueFromJson('password').unsafeUnwrap()] },
      });
      return { name: name as RedisUserName, secret, user };
    });
    this.redisUsers = Object.fromEntries(users.map(({ name, secret }) => [name, secret])) as DataStores['redisUsers'];
    // A user group must hold a user named `default`: this one is off and may run nothing.
    const defaultUser = new elasticache.CfnUser(this, 'RedisDefaultUserOff', {
      engine: 'redis',
      userId: 'free-lunch-default-off',
      userName: 'default',
      accessString: 'off -@all',
      noPasswordRequired: true,
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'RedisUsers', {
      engine: 'redis',
      userGroupId: 'free-lunch',
      userIds: [defaultUser.userId, ...users.map(({ user }) => user.userId)],
    });
    for (const user of [defaultUser, ...users.map(({ user }) => user)]) userGroup.addDependency(user);
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'Free Lunch Redis: isolated subnets',
      subnetIds: isolated.subnetIds,
    });
    // Streams are the work queue: Redis must refuse writes when full, never evict an entry.
    // Sizing (cache.t4g.small: 1.37 GiB, 25 % reserved by ElastiCache, so about 1 GiB for data): an
    // order makes about five stream entries of about 0.5 KB with their overhead, 2.5 KB an order.
    // Work streams keep an hour (STREAM_RETENTION_MS) of what their groups have finished: 1 GiB holds
    // the entries of about 400,000 orders an hour, some 110 a second sustained, far beyond the
    // restaurant's peak. The six live streams are capped at 10,000 entries (about 5 MB each) and the
    // dead-letter streams at DEAD_LETTER_MAX_LENGTH. An alarm at 80 % of memory (monitoring.ts) calls
    // for a larger node well before writes are refused.
    const parameters = new elasticache.CfnParameterGroup(this, 'RedisParameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'Free Lunch Redis: never evict stream entries',
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    this.redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: 'Free Lunch streams',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: 'cache.t4g.small',
      cacheParameterGroupName: parameters.ref,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      userGroupIds: [userGroup.ref],
      port: REDIS_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.redisSecurityGroup.securityGroupId],
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    });
    this.redis.addDependency(userGroup);
    acknowledge(
      this.redis,
      'AwsSolutions-AEC6',
      'Authentication is ElastiCache RBAC instead of one shared AUTH token: a user per service with its own ' +
        'password and command allowlist (userGroupIds), and the default user switched off.',
    );
    this.redis.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /** Redis primary endpoint host. */
  get redisHost(): string {
    return this.redis.attrPrimaryEndPointAddress;
  }

  /** Lets `peer` (a service's security group, or the ECS Anywhere network) reach both stores. */
  allowFrom(peer: ec2.IConnectable, description: string): void {
    this.database.connections.allowFrom(peer, ec2.Port.tcp(POSTGRES_PORT), `${description} to PostgreSQL`);
    this.redisSecurityGroup.connections.allowFrom(peer, ec2.Port.tcp(REDIS_PORT), `${description} to Redis`);
  }
}
