// Vitest loads a global-setup file under a `/@fs/` URL, from which bare imports such as 'pg'
// resolve against the workspace root, where pnpm does not hoist them. Relative imports resolve
// normally, so the work lives in a module next to this one.
export { default } from './check-services.js';
