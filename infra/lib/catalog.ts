import { streamNames, type StreamName } from '@free-lunch/contracts';

/** What the infrastructure needs to know about one deployable of the repository. */
export interface Deployable {
  /** Workspace package and container name, e.g. `kitchen-app`. */
  name: string;
  /** `@free-lunch/<name>`, for `pnpm deploy --filter`. */
  packageName: string;
  /** Its Dockerfile, relative to the repository root (the build context). */
  dockerfile: string;
  /** ECR repository name. */
  repository: string;
  port: number;
  /** Variable holding the port (the simulator has its own). */
  portVariable: 'PORT' | 'MARKET_PORT';
  /** Streams its consumer group reads, i.e. what its backlog is made of; empty for no scaling on it. */
  consumes: Array<{ stream: StreamName; group: string }>;
}

function deployable(
  name: string,
  folder: string,
  port: number,
  consumes: Deployable['consumes'] = [],
  portVariable: Deployable['portVariable'] = 'PORT',
): Deployable {
  return {
    name,
    packageName: `@free-lunch/${name}`,
    dockerfile: `${folder}/Dockerfile`,
    repository: `free-lunch/${name}`,
    port,
    portVariable,
    consumes,
  };
}

/** The three services and the market simulator: one image, one ECR repository each. */
export const catalog = {
  orders: deployable('orders-app', 'orders-app', 3000, [{ stream: streamNames.orderStatusChanged, group: 'orders' }]),
  kitchen: deployable('kitchen-app', 'kitchen-app', 3001, [
    { stream: streamNames.orderPlaced, group: 'kitchen' },
    { stream: streamNames.ingredientsDispatched, group: 'kitchen' },
  ]),
  inventory: deployable('inventory-app', 'inventory-app', 3002, [
    { stream: streamNames.ingredientsRequested, group: 'inventory' },
  ]),
  market: deployable('market-simulator', 'packages/market-simulator', 3100, [], 'MARKET_PORT'),
} as const satisfies Record<string, Deployable>;

export const deployables: Deployable[] = Object.values(catalog);

/** The image's HEALTHCHECK and the ECS container health check: the same node one-liner. */
export function healthCheckScript(portVariable: Deployable['portVariable']): string {
  return (
    `fetch('http://127.0.0.1:'+process.env.${portVariable}+'/health')` +
    `.then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`
  );
}
