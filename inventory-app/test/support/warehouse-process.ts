import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const appDirectory = fileURLToPath(new URL('../../', import.meta.url));

/** An inventory-app running as a process of its own, started as `pnpm --filter inventory-app start` does. */
export interface WarehouseProcess {
  url: string;
  /** What it printed (the tail), for a failed test's message. */
  output(): string;
  /** SIGKILL: the process dies mid-work, with whatever it had in memory. */
  kill(): Promise<void>;
  /** SIGTERM and wait: the graceful way out. */
  stop(): Promise<void>;
}

/** Starts the warehouse with `env` on a free port and resolves once `/ready` answers. */
export async function startWarehouseProcess(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<WarehouseProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-old-space-size=128', '--import', 'tsx', 'src/server.ts'], {
    cwd: appDirectory,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-32_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  const warehouse: WarehouseProcess = { url, output: () => output, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ready) return warehouse;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await warehouse.kill();
      throw new Error(`the warehouse process did not become ready\n--- its output ---\n${output}`);
    }
    await sleep(200);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}
