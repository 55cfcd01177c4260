import type { FastifyPluginAsync } from 'fastify';
import { ErrorBody, RecipesResponse } from '@free-lunch/contracts';
import { listRecipes } from '../data/recipes.js';

/** GET /recipes: the recipe book the kitchen cooks from, as the manager's dashboard shows it. */
export const recipesRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/recipes',
    {
      schema: {
        tags: ['recipes'],
        summary: 'The six recipes and the ingredients each dish needs',
        response: { 200: RecipesResponse, 503: ErrorBody },
      },
    },
    // On the read pool: the kitchen's consumers keep their connections however hard this is read.
    async (): Promise<RecipesResponse> => ({ recipes: await listRecipes(app.pgReads) }),
  );
};
