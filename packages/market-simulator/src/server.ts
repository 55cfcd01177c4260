import closeWithGrace from 'close-with-grace';
import { parseMarketEnv } from './config.js';
import { defaultMarketOptions } from './options.js';
import { startMarketSimulator } from './start.js';

// Only this file reads the environment; everything else is given its options.
async function main(): Promise<void> {
  const config = parseMarketEnv(process.env);
  const market = await startMarketSimulator({
    ...config.options,
    host: config.host,
    port: config.port,
    logLevel: config.logLevel,
  });
  const { log } = market.app;
  log.info({ url: market.url, options: { ...defaultMarketOptions, ...config.options } }, 'farmers market open');

  closeWithGrace({ delay: 10_000, logger: log }, async ({ err, signal }) => {
    if (err) log.error({ err }, 'closing the farmers market after an error');
    else log.info({ signal }, 'closing the farmers market');
    await market.close();
  });
}

// A bad environment or a taken port is the operator's to fix: say so in one line, not a stack trace.
main().catch((error: unknown) => {
  process.stderr.write(`market simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
