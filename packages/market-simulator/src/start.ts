import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createMarketSimulator, type MarketSimulatorOptions } from './app.js';
import { BUY_PATH } from './routes/buy.js';

export interface StartMarketSimulatorOptions extends MarketSimulatorOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0: any free port, which is what parallel tests and benchmarks want. */
  port?: number;
}

/** A listening simulator. */
export interface RunningMarketSimulator {
  /** The full buy URL, e.g. `http://127.0.0.1:41234/api/farmers-market/buy`: what MARKET_URL takes. */
  url: string;
  /** Where `/stats`, `/reset-stats` and `/config` live, e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
  app: FastifyInstance;
  /** Stops listening and cuts off calls still waiting; safe to call more than once. */
  close(): Promise<void>;
}

/** Builds the simulator and listens; for tests, benchmarks and `server.ts`. */
export async function startMarketSimulator(options: StartMarketSimulatorOptions = {}): Promise<RunningMarketSimulator> {
  const { host = '127.0.0.1', port = 0, ...simulatorOptions } = options;
  const app = createMarketSimulator(simulatorOptions);
  await app.listen({ host, port });
  const baseUrl = `http://${reachableHost(app.server.address() as AddressInfo)}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${baseUrl}${BUY_PATH}`,
    baseUrl,
    app,
    close: () => (closing ??= app.close()),
  };
}

/** host:port a client on this machine can dial, even when listening on every interface. */
function reachableHost({ address, family, port }: AddressInfo): string {
  if (address === '0.0.0.0') return `127.0.0.1:${port}`;
  if (address === '::') return `[::1]:${port}`;
  return family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}
