import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const ordersApp = process.env.ORDERS_URL ?? 'http://127.0.0.1:3000';

// orders-app serves the built files (dist) at `/`. `vite dev` proxies the API and the WebSocket to a
// running orders-app, so the page can be worked on with hot reload against `pnpm start`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: {
    proxy: {
      '/orders': ordersApp,
      '/config': ordersApp,
      '/ws': { target: ordersApp.replace(/^http/, 'ws'), ws: true },
    },
  },
});
