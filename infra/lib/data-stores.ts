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
  readonly redisAuthToken: secretsmanager.Secret;
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
        'every new connection until the next deployment. Rotate by hand with a rolling redeploy (README, Deploy).',
    );

    this.redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSecurityGroup', {
      vpc,
      description: 'Free Lunch Redis: only the services may connect',
      allowAllOutbound: false,
    });
    this.redisAuthToken = new secretsmanager.Secret(this, 'RedisAuthToken', {
      description: 'Free Lunch: Redis AUTH token of the ElastiCache replication group',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledge(
      this.redisAuthToken,
      'AwsSolutions-SMG4',
      'ElastiCache changes an AUTH token only through ModifyReplicationGroup (ROTATE then SET), which a ' +
        'Secrets Manager rotation cannot do in step with the running services; rotated by hand (README, Deploy).',
    );
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'Free Lunch Redis: isolated subnets',
      subnetIds: isolated.subnetIds,
    });
    // Streams are the work queue: Redis must refuse writes when full, never evict an entry.
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
      authToken: this.redisAuthToken.secretValue.unsafeUnwrap(),
      port: REDIS_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.redisSecurityGroup.securityGroupId],
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    });
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
