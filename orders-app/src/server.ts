import { parseConfig, runServer } from '@free-lunch/service-kit';
import { buildApp } from './app.js';
import { OrdersConfig } from './config.js';

const config = parseConfig(OrdersConfig);
await runServer(() => buildApp(config), { host: config.HOST, port: config.PORT });
