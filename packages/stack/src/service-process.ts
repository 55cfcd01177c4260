import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitUntilReady } from './readiness.js';

/** Where each runnable part of the system lives, relative to the repository root. */
export const serviceDirectories = {
  orders: 'orders-app',
  kitchen: 'kitchen-app',
  inventory: 'inventory-app',
  market: 'packages/market-simulator',
} as const;
export type ServiceName = keyof typeof serviceDirectories;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Node flags every service runs with (also in each app's `start` script). V8 sizes its heap from the
 * machine's memory and, on a large host, lets garbage pile up to several times the live data before
 * collecting it: a service whose live heap stays under 50 MB grew past 250 MB resident in a 10,000-
 * order burst. A 128 MB old generation keeps it near 150 MB at no measurable CPU cost.
 */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=128'];

/** A service running as its own process, started exactly as `pnpm --filter <app> start` does. */
export interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  /** Base URL, e.g. http://127.0.0.1:3001. */
  url: string;
  /** Everything the process printed, for diagnosing a failed test or run. */
  output(): string;
  /** SIGTERM and wait: the graceful way out. */
  stop(): Promise<void>;
  /** SIGKILL: the process dies mid-work, holding whatever it had not acked. */
  kill(): Promise<void>;
}

/**
 * The port given to a service was taken by another process before the service could listen on it
 * (`freePort` only finds one that was free a moment ago): start it again on another.
 */
export class PortTakenError extends Error {}

/**
 * Starts one service as a child process with the given environment and resolves once its
 * readiness endpoint answers (for the market simulator, its health endpoint) and its health
 * endpoint says it is that service, not another process that took the port first
 * ({@link PortTakenError}).
 */
export async function startServiceProcess(
  name: ServiceName,
  port: number,
  env: Record<string, string>,
  { readyTimeoutMs = 60_000 }: { readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const portVariable = name === 'market' ? 'MARKET_PORT' : 'PORT';
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, '--import', 'tsx', 'src/server.ts'], {
    cwd: `${repoRoot}${serviceDirectories[name]}`,
    env: { ...process.env, ...env, [portVariable]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    // Keep the tail only: a long benchmark must not grow this without bound.
    output = (output + chunk.toString()).slice(-64_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');

  const url = `http://127.0.0.1:${port}`;
  const ended = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const service: ServiceProcess = {
    name,
    child,
    url,
    output: () => output,
    stop: () => ended('SIGTERM'),
    kill: () => ended('SIGKILL'),
  };
  try {
    await Promise.race([
      waitUntilReady([`${url}${name === 'market' ? '/health' : '/ready'}`], { timeoutMs: readyTimeoutMs }),
      exited.then(() => {
        throw new Error(`${name} exited before it was ready`);
      }),
    ]);
  } catch (error) {
    await service.kill();
    const Failure = output.includes('EADDRINUSE') ? PortTakenError : Error;
    throw new Failure(`${(error as Error).message}\n--- ${name} output ---\n${output}`, { cause: error });
  }
  const expected = serviceDirectories[name].split('/').at(-1);
  const answering = await fetch(`${url}/health`)
    .then(async (response) => ((await response.json()) as { service?: string }).service)
    .catch(() => undefined);
  if (answering !== expected || child.exitCode !== null) {
    await service.kill();
    throw new PortTakenError(`port ${port} is answered by ${answering ?? 'nobody'}, not ${expected}\n--- ${name} output ---\n${output}`);
  }
  return service;
}
