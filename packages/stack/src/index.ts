/** Runs the whole Free Lunch system: in this process for tests, or as processes for `pnpm start`. */
export { startInProcessStack, type InProcessStack, type StackEnvironment } from './in-process-stack.js';
export { FreeLunchClient } from './api-client.js';
export { waitUntilReady } from './readiness.js';
export { PortTakenError, startServiceProcess, serviceDirectories, type ServiceProcess, type ServiceName } from './service-process.js';
export { freePort } from './free-port.js';
