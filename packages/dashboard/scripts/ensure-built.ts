/**
 * Builds the dashboard when `dist` is missing or older than what it is built from (its sources and
 * the contracts it bundles). `pnpm start` and the browser tests call it so a fresh clone just works;
 * run directly (`node --import tsx scripts/ensure-built.ts`) it does the same from a shell.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const dashboardDist = join(root, 'dist');

const inputs = [
  join(root, 'src'),
  join(root, 'index.html'),
  join(root, 'vite.config.ts'),
  join(root, 'package.json'),
  join(root, '..', 'contracts', 'src'),
];

/** True when `dist/index.html` is missing or older than any input. */
export function isDashboardStale(): boolean {
  const built = join(dashboardDist, 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return inputs.some((input) => newestChange(input) > builtAt);
}

/** Builds with Vite if stale; resolves to whether it built. */
export async function ensureDashboardBuilt(): Promise<boolean> {
  if (!isDashboardStale()) return false;
  // Vite bundles React for whatever NODE_ENV the process has (read when Vite loads); vitest sets
  // "test", which would ship React's development build. This is the production build, whoever asks.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const { build } = await import('vite');
    await build({ root, configFile: join(root, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return true;
}

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const built = await ensureDashboardBuilt();
  console.log(built ? `dashboard built into ${dashboardDist}` : 'dashboard is up to date');
}
