import type { FastifyPluginAsync } from 'fastify';
import { DashboardConfig } from '@free-lunch/contracts';

/** `GET /config`: what the dashboard needs before it starts. Nothing secret, so no token. */
export const dashboardConfigRoutes: FastifyPluginAsync<DashboardConfig> = async (app, options) => {
  const { maxOrderQuantity, kitchenUrl, inventoryUrl } = options;
  const config: DashboardConfig = { maxOrderQuantity, kitchenUrl, inventoryUrl };
  app.get(
    '/config',
    {
      schema: {
        tags: ['dashboard'],
        summary: "The dashboard's settings",
        description:
          'The largest `quantity` POST /orders accepts, and the base URLs at which the browser reads the ' +
          "kitchen's recipes and the warehouse's stock and purchases.",
        response: { 200: DashboardConfig },
      },
    },
    async () => config,
  );
};
