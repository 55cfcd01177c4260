/**
 * The stack as separate processes, without the in-process one: starting a service as a process, its
 * readiness, free ports and the API client. For tools that only run processes (`pnpm chaos`), so
 * they do not load every service's code into their own process.
 */
export { FreeLunchClient } from './api-client.js';
export { waitUntilReady } from './readiness.js';
export { startServiceProcess, serviceDirectories, type ServiceProcess, type ServiceName } from './service-process.js';
export { freePort } from './free-port.js';
