import { z } from 'zod';
import { BaseConfig, port } from '@free-lunch/service-kit';

/** The kitchen's settings: the shared ones plus how long a dish cooks. */
export const KitchenConfig = BaseConfig.extend({
  PORT: port(3001),
  /** Milliseconds from ingredients in to dish delivered; 0 delivers at once. */
  COOK_TIME_MS: z.coerce.number().int().min(0).default(2000),
});
export type KitchenConfig = z.infer<typeof KitchenConfig>;
