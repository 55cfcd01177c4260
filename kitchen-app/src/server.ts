import { parseConfig, runServer } from '@free-lunch/service-kit';
import { buildApp } from './app.js';
import { KitchenConfig } from './config.js';

const config = parseConfig(KitchenConfig);
await runServer(() => buildApp(config), { host: config.HOST, port: config.PORT });
