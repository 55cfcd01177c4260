/**
 * `pnpm db:provision` (and the images' one-off provisioning run): creates the database and each
 * service's two roles with least privilege (see provisionDatabase), as the admin user.
 *
 *   DATABASE_ADMIN_URL   a superuser's URL (RDS: the master user's), naming the services' database
 *   SCHEMAS              which services, default `orders,kitchen,inventory`
 *   <ROLE>_PASSWORD      a role's password, e.g. FL_ORDERS_APP_PASSWORD, FL_ORDERS_OWNER_PASSWORD;
 *                        a role without one gets none (trust or peer authentication)
 */
import { provisionDatabase, serviceRoles } from './provision.js';

const adminUrl = process.env.DATABASE_ADMIN_URL;
if (!adminUrl) {
  console.error('DATABASE_ADMIN_URL is required: a superuser URL naming the database to provision.');
  process.exit(2);
}
const schemas = (process.env.SCHEMAS ?? 'orders,kitchen,inventory').split(',').map((schema) => schema.trim()).filter(Boolean);
const passwords: Record<string, string> = {};
for (const { owner, app } of schemas.map(serviceRoles)) {
  for (const role of [owner, app]) {
    const password = process.env[`${role.toUpperCase()}_PASSWORD`];
    if (password) passwords[role] = password;
  }
}

try {
  await provisionDatabase({ adminUrl, schemas, passwords });
  const { pathname, host } = new URL(adminUrl);
  console.log(`provisioned ${pathname.slice(1)} on ${host}: ${schemas.map((schema) => Object.values(serviceRoles(schema)).slice(1).join(' + ')).join(', ')}`);
} catch (error) {
  console.error(`provisioning failed: ${(error as Error).message}`);
  process.exit(1);
}
