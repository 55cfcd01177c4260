import type { Ingredient, PurchaseOutcome, RecipeName } from '@free-lunch/contracts';
import type { PreparingStatus } from './model/restaurant.js';

export const languages = ['en', 'es-CO'] as const;
export type Language = (typeof languages)[number];

// One formatter each: toLocaleString builds a new one on every call, which shows in a burst.
const enFormat = new Intl.NumberFormat('en');
const esFormat = new Intl.NumberFormat('es-CO');
const enNumber = (value: number) => enFormat.format(value);
const esNumber = (value: number) => esFormat.format(value);

const en = {
  languageName: 'English',
  languageLabel: 'Language',
  title: 'Free Lunch',
  subtitle: 'Live kitchen',
  skipToContent: 'Skip to the dashboard',

  tokenTitle: 'Manager sign-in',
  tokenIntro: 'Enter the manager token to watch the kitchen live and place orders. It is kept in this tab only.',
  tokenLabel: 'Manager token',
  tokenSubmit: 'Open the dashboard',
  tokenWrong: 'That manager token is wrong. Check it and try again.',
  tokenHint: 'One of the MANAGER_TOKENS of orders-app; pnpm start prints it when it starts.',
  signOut: 'Change token',

  connectionConnecting: 'Connecting…',
  connectionLive: 'Live',
  connectionLost: 'Disconnected',
  connectionLostDetail: (seconds: number, attempt: number) =>
    `The live connection dropped. Reconnecting in ${enNumber(seconds)} s (attempt ${enNumber(attempt)}); nothing will be missed.`,
  connectionRetryNow: 'Reconnect now',
  loadingSnapshot: 'Loading the restaurant…',
  snapshotFailed: (message: string) => `Could not load the current state (${message}). Retrying…`,
  configFailed: (message: string) => `The dashboard could not read its settings from the orders service (${message}). Retrying…`,

  orderTitle: 'Order lunches',
  orderOne: 'Order one dish',
  orderManyLabel: 'How many dishes',
  orderManyHint: (max: number) => `From 1 to ${enNumber(max)} at once.`,
  orderMany: (quantity: number) =>
    quantity === 0 ? 'Order dishes' : quantity === 1 ? 'Order 1 dish' : `Order ${enNumber(quantity)} dishes`,
  ordering: 'Ordering…',
  ordered: (count: number) => (count === 1 ? '1 dish ordered.' : `${enNumber(count)} dishes ordered.`),
  orderFailed: (message: string) => `The order was not placed: ${message}`,
  orderUnauthorized: 'The order was refused: the manager token is wrong.',
  orderNetwork: 'The orders service did not answer; nothing was ordered. Try again.',

  countersTitle: 'Right now',
  countPlaced: 'Placed',
  countInPreparation: 'In preparation',
  countDelivered: 'Delivered',

  throughputTitle: 'Throughput',
  throughputCaption: 'Dishes per second, last 60 seconds',
  placedPerSecond: 'Placed / s',
  deliveredPerSecond: 'Delivered / s',
  backlogTitle: 'Backlog',
  backlogCaption: 'Orders not yet delivered, last 60 seconds',
  chartSummary: (placed: number, delivered: number) =>
    `Over the last 10 seconds: ${enNumber(placed)} placed and ${enNumber(delivered)} delivered per second on average.`,
  backlogSummary: (now: number, peak: number) => `Now ${enNumber(now)} orders waiting; peak ${enNumber(peak)} in the last minute.`,
  secondsAgo: (seconds: number) => `${enNumber(seconds)} s ago`,
  now: 'now',

  preparationTitle: 'In preparation',
  nothingHere: 'Nothing here.',
  andMore: (count: number) => `and ${enNumber(count)} more`,
  choosingRecipe: 'Recipe not chosen yet',
  waitingFor: 'Waiting for',
  inLine: 'In line for the warehouse',
  age: 'Age',
  order: 'Order',

  historyTitle: 'Delivered orders',
  historyLive: 'Newest first, live',
  historyPage: (page: number) => `Page ${enNumber(page)}`,
  historyPageOf: (page: number, pages: number) => `Page ${enNumber(page)} of ${enNumber(pages)}`,
  historyNewer: 'Newer',
  historyOlder: 'Older',
  historyNewest: 'Back to newest',
  historyEmpty: 'No dish delivered yet.',
  historyLoadFailed: 'Could not load that page.',
  colOrder: 'Order',
  colRecipe: 'Recipe',
  colPlaced: 'Placed',
  colDelivered: 'Delivered',
  colTook: 'Took',

  stockTitle: 'Warehouse stock',
  stockCaption: 'Units on hand per ingredient',
  stockUpdated: (time: string) => `changed at ${time}`,
  stockNeeded: (units: number) => `${enNumber(units)} needed by waiting orders`,
  stockShort: 'short',
  stockUnknown: 'No stock figures yet.',
  onHand: 'on hand',

  purchasesTitle: 'Farmers’ market',
  purchasesSummary: (attempts: number, units: number, none: number, faults: number) =>
    `Last ${enNumber(attempts)} attempts: ${enNumber(units)} units bought, ${enNumber(none)} with nothing to sell, ${enNumber(faults)} faults.`,
  purchasesEmpty: 'No market purchase yet.',
  colTime: 'Time',
  colIngredient: 'Ingredient',
  colOutcome: 'Outcome',
  outcomeSold: (quantity: number) => `Bought ${enNumber(quantity)}`,
  outcomeNone: 'Nothing today',
  outcomeFault: 'Fault',

  recipesTitle: 'Recipes',
  recipesFailed: 'The kitchen’s recipe book could not be read.',
  recipesLoading: 'Loading recipes…',
};

export type Messages = typeof en;

const esCO: Messages = {
  languageName: 'Español (Colombia)',
  languageLabel: 'Idioma',
  title: 'Almuerzo gratis',
  subtitle: 'Cocina en vivo',
  skipToContent: 'Ir al tablero',

  tokenTitle: 'Acceso del gerente',
  tokenIntro: 'Ingrese el token del gerente para ver la cocina en vivo y hacer pedidos. Solo se guarda en esta pestaña.',
  tokenLabel: 'Token del gerente',
  tokenSubmit: 'Abrir el tablero',
  tokenWrong: 'Ese token del gerente no es correcto. Revíselo e intente de nuevo.',
  tokenHint: 'Uno de los MANAGER_TOKENS de orders-app; pnpm start lo muestra al arrancar.',
  signOut: 'Cambiar token',

  connectionConnecting: 'Conectando…',
  connectionLive: 'En vivo',
  connectionLost: 'Desconectado',
  connectionLostDetail: (seconds, attempt) =>
    `Se cayó la conexión en vivo. Reconectando en ${esNumber(seconds)} s (intento ${esNumber(attempt)}); no se perderá nada.`,
  connectionRetryNow: 'Reconectar ya',
  loadingSnapshot: 'Cargando el restaurante…',
  snapshotFailed: (message) => `No se pudo cargar el estado actual (${message}). Reintentando…`,
  configFailed: (message) => `El tablero no pudo leer su configuración del servicio de pedidos (${message}). Reintentando…`,

  orderTitle: 'Pedir almuerzos',
  orderOne: 'Pedir un plato',
  orderManyLabel: 'Cuántos platos',
  orderManyHint: (max) => `De 1 a ${esNumber(max)} a la vez.`,
  orderMany: (quantity) =>
    quantity === 0 ? 'Pedir platos' : quantity === 1 ? 'Pedir 1 plato' : `Pedir ${esNumber(quantity)} platos`,
  ordering: 'Pidiendo…',
  ordered: (count) => (count === 1 ? 'Se pidió 1 plato.' : `Se pidieron ${esNumber(count)} platos.`),
  orderFailed: (message) => `No se hizo el pedido: ${message}`,
  orderUnauthorized: 'Se rechazó el pedido: el token del gerente no es correcto.',
  orderNetwork: 'El servicio de pedidos no respondió; no se pidió nada. Intente de nuevo.',

  countersTitle: 'En este momento',
  countPlaced: 'Pedidos',
  countInPreparation: 'En preparación',
  countDelivered: 'Entregados',

  throughputTitle: 'Ritmo',
  throughputCaption: 'Platos por segundo, últimos 60 segundos',
  placedPerSecond: 'Pedidos / s',
  deliveredPerSecond: 'Entregados / s',
  backlogTitle: 'Pendientes',
  backlogCaption: 'Pedidos sin entregar, últimos 60 segundos',
  chartSummary: (placed, delivered) =>
    `En los últimos 10 segundos: ${esNumber(placed)} pedidos y ${esNumber(delivered)} entregados por segundo en promedio.`,
  backlogSummary: (now, peak) => `Ahora hay ${esNumber(now)} pedidos esperando; máximo ${esNumber(peak)} en el último minuto.`,
  secondsAgo: (seconds) => `hace ${esNumber(seconds)} s`,
  now: 'ahora',

  preparationTitle: 'En preparación',
  nothingHere: 'No hay nada.',
  andMore: (count) => `y ${esNumber(count)} más`,
  choosingRecipe: 'Receta por elegir',
  waitingFor: 'Esperando',
  inLine: 'En fila para la bodega',
  age: 'Tiempo',
  order: 'Pedido',

  historyTitle: 'Pedidos entregados',
  historyLive: 'Los más recientes primero, en vivo',
  historyPage: (page) => `Página ${esNumber(page)}`,
  historyPageOf: (page, pages) => `Página ${esNumber(page)} de ${esNumber(pages)}`,
  historyNewer: 'Más recientes',
  historyOlder: 'Anteriores',
  historyNewest: 'Volver a lo más reciente',
  historyEmpty: 'Todavía no se ha entregado ningún plato.',
  historyLoadFailed: 'No se pudo cargar esa página.',
  colOrder: 'Pedido',
  colRecipe: 'Receta',
  colPlaced: 'Pedido a las',
  colDelivered: 'Entregado a las',
  colTook: 'Demora',

  stockTitle: 'Inventario de la bodega',
  stockCaption: 'Unidades disponibles por ingrediente',
  stockUpdated: (time) => `cambió a las ${time}`,
  stockNeeded: (units) => `${esNumber(units)} para pedidos en espera`,
  stockShort: 'falta',
  stockUnknown: 'Todavía no hay cifras de inventario.',
  onHand: 'disponibles',

  purchasesTitle: 'Plaza de mercado',
  purchasesSummary: (attempts, units, none, faults) =>
    `Últimos ${esNumber(attempts)} intentos: ${esNumber(units)} unidades compradas, ${esNumber(none)} sin nada para vender, ${esNumber(faults)} fallas.`,
  purchasesEmpty: 'Todavía no se ha comprado nada en la plaza.',
  colTime: 'Hora',
  colIngredient: 'Ingrediente',
  colOutcome: 'Resultado',
  outcomeSold: (quantity) => `Compró ${esNumber(quantity)}`,
  outcomeNone: 'Nada hoy',
  outcomeFault: 'Falla',

  recipesTitle: 'Recetas',
  recipesFailed: 'No se pudo leer el recetario de la cocina.',
  recipesLoading: 'Cargando recetas…',
};

const ingredientNames: Record<Language, Record<Ingredient, string>> = {
  en: {
    tomato: 'Tomato',
    lemon: 'Lemon',
    potato: 'Potato',
    rice: 'Rice',
    ketchup: 'Ketchup',
    lettuce: 'Lettuce',
    onion: 'Onion',
    cheese: 'Cheese',
    meat: 'Meat',
    chicken: 'Chicken',
  },
  'es-CO': {
    tomato: 'Tomate',
    lemon: 'Limón',
    potato: 'Papa',
    rice: 'Arroz',
    ketchup: 'Salsa de tomate',
    lettuce: 'Lechuga',
    onion: 'Cebolla',
    cheese: 'Queso',
    meat: 'Carne',
    chicken: 'Pollo',
  },
};

const recipeNames: Record<Language, Record<RecipeName, string>> = {
  en: {
    rice_with_chicken: 'Rice with chicken',
    rice_with_meat: 'Rice with meat',
    burger: 'Burger',
    french_fries: 'French fries',
    pizza: 'Pizza',
    salad: 'Salad',
  },
  'es-CO': {
    rice_with_chicken: 'Arroz con pollo',
    rice_with_meat: 'Arroz con carne',
    burger: 'Hamburguesa',
    french_fries: 'Papas a la francesa',
    pizza: 'Pizza',
    salad: 'Ensalada',
  },
};

const statusNames: Record<Language, Record<PreparingStatus | 'delivered', string>> = {
  en: { queued: 'Queued', awaiting_ingredients: 'Awaiting ingredients', cooking: 'Cooking', delivered: 'Delivered' },
  'es-CO': {
    queued: 'En cola',
    awaiting_ingredients: 'Esperando ingredientes',
    cooking: 'Cocinando',
    delivered: 'Entregado',
  },
};

/** Everything a component needs to speak the chosen language. */
export interface Translator {
  language: Language;
  t: Messages;
  ingredient: (name: Ingredient) => string;
  recipe: (name: RecipeName) => string;
  status: (status: PreparingStatus | 'delivered') => string;
  outcome: (outcome: PurchaseOutcome, quantity: number) => string;
  number: (value: number) => string;
  time: (at: number) => string;
  duration: (ms: number) => string;
}

export function translator(language: Language): Translator {
  const t = language === 'es-CO' ? esCO : en;
  const numbers = new Intl.NumberFormat(language);
  const tenths = new Intl.NumberFormat(language, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const times = new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return {
    language,
    t,
    ingredient: (name) => ingredientNames[language][name],
    recipe: (name) => recipeNames[language][name],
    status: (status) => statusNames[language][status],
    outcome: (outcome, quantity) =>
      outcome === 'sold' ? t.outcomeSold(quantity) : outcome === 'none' ? t.outcomeNone : t.outcomeFault,
    number: (value) => numbers.format(value),
    time: (at) => times.format(at),
    duration: (ms) => (ms < 10_000 ? `${tenths.format(Math.max(0, ms) / 1000)} s` : formatDuration(ms)),
  };
}

/** "4 s", "2 min 05 s", "1 h 03 min": the same in both languages. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const LANGUAGE_KEY = 'free-lunch.language';

/** The remembered choice, else the browser's preference when it is Spanish, else English. */
export function initialLanguage(): Language {
  const saved = safeStorage(() => localStorage.getItem(LANGUAGE_KEY));
  if (saved === 'en' || saved === 'es-CO') return saved;
  return navigator.language.toLowerCase().startsWith('es') ? 'es-CO' : 'en';
}

export function rememberLanguage(language: Language): void {
  safeStorage(() => localStorage.setItem(LANGUAGE_KEY, language));
  document.documentElement.lang = language;
  const { t } = translator(language);
  document.title = `${t.title} — ${t.subtitle}`;
}

/** Storage throws in some privacy modes; the dashboard works without remembering. */
export function safeStorage<T>(access: () => T): T | null {
  try {
    return access();
  } catch {
    return null;
  }
}
