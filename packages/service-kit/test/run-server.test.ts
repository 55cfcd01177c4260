import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/tiny-server.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Starts the tiny server as its own process, collecting its JSON log lines. */
function startTinyServer(port = 0) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') resolve(entry.address as string);
    });
    // Rejecting a promise already resolved does nothing, so this only counts an exit before listening.
    void exited.then(([code]) => reject(new Error(`server exited with code ${code}: ${stderr}`)));
  });
  listening.catch(() => {}); // a test that expects the failure awaits `exited` instead
  return { child, exited, logs, listening };
}

describe('runServer', () => {
  it('when the process gets SIGTERM, then it closes the app and exits cleanly', async () => {
    const server = startTinyServer();
    try {
      const address = await server.listening;
      expect(server.logs.find((entry) => entry.msg === 'listening')).toMatchObject({
        service: 'tiny',
        documentation: `${address}/documentation`,
      });
      expect((await fetch(`${address}/health`)).status).toBe(200);

      server.child.kill('SIGTERM');
      const [code] = await server.exited;

      expect(code).toBe(0);
      expect(server.logs).toContainEqual(expect.objectContaining({ msg: 'closing', signal: 'SIGTERM' }));
      expect(server.logs).toContainEqual(expect.objectContaining({ msg: 'tiny released its resources' }));
      await expect(fetch(`${address}/health`)).rejects.toThrow();
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('when the port is taken, then it logs why, releases what it opened and exits with an error', async () => {
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as { port: number };
    const server = startTinyServer(port);
    try {
      const [code] = await server.exited;

      expect(code).not.toBe(0);
      expect(server.logs).toContainEqual(
        expect.objectContaining({ level: 60, msg: `could not listen on 127.0.0.1:${port}` }),
      );
      expect(server.logs).toContainEqual(expect.objectContaining({ msg: 'tiny released its resources' }));
    } finally {
      server.child.kill('SIGKILL');
      squatter.close();
    }
  });
});
