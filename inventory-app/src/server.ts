import { parseConfig, runServer } from '@free-lunch/service-kit';
import { buildApp } from './app.js';
import { InventoryConfig } from './config.js';

const config = parseConfig(InventoryConfig);
await runServer(() => buildApp(config), { host: config.HOST, port: config.PORT });
