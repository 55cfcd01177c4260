import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export interface SwaggerOptions {
  service: string;
  description: string;
  version: string;
}

/**
 * OpenAPI built from the routes' zod schemas, and Swagger UI at /documentation. Must be registered
 * before the routes it describes: it collects them as they are added.
 */
export const swaggerPlugin = fp<SwaggerOptions>(
  async (app, { service, description, version }) => {
    await app.register(swagger, {
      openapi: { info: { title: service, description, version } },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, {
      routePrefix: '/documentation',
      // Swagger UI adds <style> elements as it renders: allowed on its own pages only.
      transformStaticCSP: (header) => header.replace(/style-src ([^;]*)/, "style-src $1 'unsafe-inline'"),
    });
  },
  { name: 'free-lunch-swagger', fastify: '5.x' },
);
