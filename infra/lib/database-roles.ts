import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ProvisioningProperties } from '../runtime/provision-database.js';
import { bundledCode } from './bundle.js';
import { DATABASE_NAME, POSTGRES_PORT, URL_RESERVED, type DataStores } from './data-stores.js';
import { acknowledge } from './nag.js';

/** The services' PostgreSQL schemas: one per service, named as its migrations name it. */
export const SCHEMAS = { 'orders-app': 'orders', 'kitchen-app': 'kitchen', 'inventory-app': 'inventory' } as const;
export type ServiceName = keyof typeof SCHEMAS;

/** `fl_<schema>_owner` and `fl_<schema>_app`, as @free-lunch/service-kit's serviceRoles names them. */
export const rolesOf = (schema: string) => ({ owner: `fl_${schema}_owner`, app: `fl_${schema}_app` });

/** A role's credentials in Secrets Manager: `{ username, password }`. */
export interface RoleSecret {
  role: string;
  secret: secretsmanager.Secret;
}

export interface DatabaseRolesProps {
  vpc: ec2.IVpc;
  stores: DataStores;
}

/**
 * Least privilege in PostgreSQL: two roles per service, each with a password generated into a
 * Secrets Manager secret of its own, created by a custom resource before any service starts. A
 * service is handed only its own two secrets ({@link secretsFor}); the master user's secret goes to
 * the provisioning Lambda alone.
 */
export class DatabaseRoles extends Construct {
  readonly secrets: Record<ServiceName, { owner: RoleSecret; app: RoleSecret }>;
  /** The custom resource: services that depend on it start after the roles exist. */
  readonly provisioning: CustomResource;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, { vpc, stores }: DatabaseRolesProps) {
    super(scope, id);
    const secretOf = (role: string): RoleSecret => {
      const secret = new secretsmanager.Secret(this, role, {
        description: `Free Lunch: PostgreSQL role ${role}`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: role }),
          generateStringKey: 'password',
          passwordLength: 40,
          // The entry point puts it into a URL: nothing that would need escaping.
          excludeCharacters: URL_RESERVED,
        },
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'The services read their role passwords once at start-up into their pools; a timed rotation would cut ' +
          'new connections until the next deployment. Rotated by hand: new value, a stack update (which re-runs ' +
          'the provisioning with it), then a forced new deployment (docs/operations.md).',
      );
      return { role, secret };
    };
    this.secrets = Object.fromEntries(
      Object.entries(SCHEMAS).map(([service, schema]) => {
        const { owner, app } = rolesOf(schema);
        return [service, { owner: secretOf(owner), app: secretOf(app) }];
      }),
    ) as DatabaseRoles['secrets'];

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Free Lunch database provisioning Lambda: PostgreSQL, and Secrets Manager over HTTPS',
      allowAllOutbound: false,
    });
    // Secrets Manager's endpoint through the NAT gateways (no interface endpoint in this VPC).
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Secrets Manager API (HTTPS)');
    securityGroup.addEgressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(443), 'Secrets Manager API (HTTPS)');
    stores.database.connections.allowFrom(securityGroup, ec2.Port.tcp(POSTGRES_PORT), 'provisioning Lambda to PostgreSQL');

    this.function = new lambda.Function(this, 'Function', {
      description: 'Free Lunch: creates the services\' PostgreSQL roles (least privilege) before they start',
      // The SDK is the runtime's; pg's optional native binding is never loaded.
      code: bundledCode('provision-database.ts', ['@aws-sdk/*', 'pg-native']),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
      environment: {
        // The runtime's CA bundle, which holds Amazon RDS's CAs, for sslmode=verify-full.
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      },
    });
    const adminSecret = stores.databaseSecret;
    const roleSecrets = Object.values(this.secrets).flatMap(({ owner, app }) => [owner, app]);
    for (const secret of [adminSecret, ...roleSecrets.map(({ secret }) => secret)]) secret.grantRead(this.function);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    acknowledge(
      this.function.role!,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The AWS-managed policy Lambda documents for writing a function\'s own logs; the function\'s other ' +
        'permissions are reads of exactly the seven database secrets it provisions with.',
    );
    acknowledge(
      this.function.role!,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'The AWS-managed policy Lambda requires for a function in a VPC (its network interfaces, which have no ' +
        'resource-level permissions); the function must be in the VPC to reach RDS in the isolated subnets.',
    );
    const framework = provider.node.findChild('framework-onEvent') as lambda.Function;
    acknowledge(
      framework.role!,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK\'s custom-resource Provider framework function, which only relays CloudFormation\'s event to the ' +
        'provisioning function; the AWS-managed policy lets it write its own logs.',
    );
    acknowledge(
      framework.role!,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      'CDK\'s Provider framework may invoke the provisioning function and its versions (the `:*` qualifier), ' +
        'that one function and nothing else.',
    );
    const properties: ProvisioningProperties = {
      Host: stores.database.instanceEndpoint.hostname,
      Port: String(POSTGRES_PORT),
      Database: DATABASE_NAME,
      AdminSecretArn: adminSecret.secretArn,
      Schemas: Object.values(SCHEMAS),
      RoleSecretArns: roleSecrets.map(({ secret }) => secret.secretArn),
    };
    this.provisioning = new CustomResource(this, 'Provisioning', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::FreeLunchDatabaseRoles',
      properties,
    });
    // The instance must accept connections (its endpoint alone does not order after the SG rule).
    this.provisioning.node.addDependency(stores.database);
  }

  /** DB_USER/DB_PASSWORD (the app role) and DB_OWNER_USER/DB_OWNER_PASSWORD (the schema owner) of one service. */
  secretsFor(service: ServiceName): Record<string, ecs.Secret> {
    const { owner, app } = this.secrets[service];
    return {
      DB_USER: ecs.Secret.fromSecretsManager(app.secret, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(app.secret, 'password'),
      DB_OWNER_USER: ecs.Secret.fromSecretsManager(owner.secret, 'username'),
      DB_OWNER_PASSWORD: ecs.Secret.fromSecretsManager(owner.secret, 'password'),
    };
  }
}
