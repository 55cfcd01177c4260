/**
 * The Lambda behind the FreeLunch stack's `DatabaseProvisioning` custom resource: before the
 * services start, it logs in to RDS as the master user and gives each service its two PostgreSQL
 * roles (`fl_<schema>_owner` owns the schema and runs the migrations, `fl_<schema>_app` may only
 * read and write its tables), with the passwords CloudFormation generated into Secrets Manager.
 * The same provisionDatabase as `pnpm db:provision`; idempotent, so every update simply runs it again.
 *
 * It runs in the VPC (RDS sits in isolated subnets) and reads the secrets through the Lambda
 * runtime's own AWS SDK. Nothing is returned that holds a password.
 */
import { provisionDatabase } from '../../packages/service-kit/src/provision.js';

/** What the custom resource passes; every secret by ARN, never by value. */
export interface ProvisioningProperties {
  Host: string;
  Port: string;
  Database: string;
  /** The RDS master user's secret (`username`, `password`). */
  AdminSecretArn: string;
  Schemas: string[];
  /** One secret (`username`, `password`) per role, e.g. fl_orders_app. */
  RoleSecretArns: string[];
}

interface ProviderEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  PhysicalResourceId?: string;
  ResourceProperties: ProvisioningProperties & { ServiceToken: string };
}

interface Credentials {
  username: string;
  password: string;
}

// The runtime's SDK, not a bundled copy (the name in a variable keeps esbuild and tsc out of it).
const SECRETS_MANAGER_SDK = '@aws-sdk/client-secrets-manager';

/** The part of that SDK used here. */
interface SecretsManagerSdk {
  SecretsManagerClient: new (config: object) => { send(command: unknown): Promise<{ SecretString?: string }> };
  GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
}

async function readSecrets(arns: string[]): Promise<Credentials[]> {
  const { SecretsManagerClient, GetSecretValueCommand } = (await import(SECRETS_MANAGER_SDK)) as SecretsManagerSdk;
  const client = new SecretsManagerClient({});
  return Promise.all(
    arns.map(async (arn) => {
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      const { username, password } = JSON.parse(SecretString ?? '{}') as Partial<Credentials>;
      if (!username || !password) throw new Error(`secret ${arn} holds no username and password`);
      return { username, password };
    }),
  );
}

/** `postgresql://…?sslmode=verify-full`: RDS forces TLS; the runtime's CA file (NODE_EXTRA_CA_CERTS) has RDS's CAs. */
export function adminUrl(properties: Pick<ProvisioningProperties, 'Host' | 'Port' | 'Database'>, admin: Credentials): string {
  const url = new URL(`postgresql://${properties.Host}:${properties.Port}/${properties.Database}`);
  url.username = admin.username;
  url.password = admin.password;
  url.searchParams.set('sslmode', 'verify-full');
  return url.toString();
}

export async function handler(event: ProviderEvent): Promise<{ PhysicalResourceId: string }> {
  const properties = event.ResourceProperties;
  const physicalResourceId = `free-lunch-roles-${properties.Database}`;
  // The roles outlive the resource: they own the data, which a stack deletion keeps (RDS snapshot).
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? physicalResourceId };

  const [admin, ...roles] = await readSecrets([properties.AdminSecretArn, ...properties.RoleSecretArns]);
  const passwords = Object.fromEntries(roles.map(({ username, password }) => [username, password]));
  await provisionDatabase({ adminUrl: adminUrl(properties, admin!), schemas: properties.Schemas, passwords });
  console.log(`provisioned ${properties.Database}: ${properties.Schemas.join(', ')} (${roles.map(({ username }) => username).join(', ')})`);
  return { PhysicalResourceId: physicalResourceId };
}
