import { startMarketSimulator } from '@free-lunch/market-simulator';
import { Agent, Pool, request } from 'undici';
import http from 'node:http';
const [variant, url] = [process.argv[2]!, process.argv[3]];
if (url) {
  const full = `${url}?ingredient=tomato`;
  const u = new URL(full);
  const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000, headersTimeout: 2000, bodyTimeout: 2000, pipelining: variant === 'pipe' ? 4 : 1 });
  const pool = new Pool(u.origin, { connections: 16, keepAliveTimeout: 10_000, headersTimeout: 2000, bodyTimeout: 2000 });
  const hagent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const buy: () => Promise<number> = {
    current: async () => { const r = await request(full, { method: 'GET', dispatcher: agent, signal: AbortSignal.timeout(2000) }); const b = await r.body.text(); return JSON.parse(b).quantitySold; },
    nosignal: async () => { const r = await request(full, { method: 'GET', dispatcher: agent }); const b = await r.body.text(); return JSON.parse(b).quantitySold; },
    pipe: async () => { const r = await request(full, { method: 'GET', dispatcher: agent }); const b = await r.body.text(); return JSON.parse(b).quantitySold; },
    pool: async () => { const r = await pool.request({ path: u.pathname + u.search, method: 'GET' }); const b = await r.body.text(); return JSON.parse(b).quantitySold; },
    http: () => new Promise<number>((resolve, reject) => { http.get(full, { agent: hagent, timeout: 2000 }, (res) => { let b = ''; res.setEncoding('utf8'); res.on('data', (c) => (b += c)); res.on('end', () => resolve(JSON.parse(b).quantitySold)); }).on('error', reject); }),
  }[variant]!;
  const run = async (n: number) => { let next = 0; await Promise.all(Array.from({ length: 16 }, async () => { while (next++ < n) await buy(); })); };
  await run(3000);
  const N = 20000; const c0 = process.cpuUsage(); const t0 = performance.now();
  await run(N);
  const c = process.cpuUsage(c0); const t = performance.now() - t0;
  console.log(variant, 'calls/s', Math.round(N / t * 1000), 'cpu µs/call', ((c.user + c.system) / N).toFixed(1));
  process.exit(0);
} else {
  const market = await startMarketSimulator({ logLevel: 'silent', seed: 1 });
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  for (let i = 0; i < 2; i++) for (const v of ['current', 'nosignal', 'pipe', 'pool', 'http'])
    console.log((await promisify(execFile)(process.execPath, ['--import', 'tsx', import.meta.filename, v, market.url])).stdout.trim());
  await market.close();
}
