import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { recipeBook, recipeNames, ingredients, orderStatuses, type StreamName } from '@free-lunch/contracts';

/*
 * Property-based fuzzing shared by the three services' fuzz tests: every HTTP route the app itself
 * declares gets random methods, paths, query strings, headers and bodies; every consumed stream gets
 * entries that cannot be a message of it. What must hold: no 5xx, 4xx bodies are `{ error, message }`,
 * nothing changes in the service's state unless the request succeeded, and poison entries end in the
 * dead letter while the consumer carries on.
 */

/** One route as the app's router holds it: a method and a pattern such as `/orders/:id` or `/documentation/*`. */
export interface DeclaredRoute {
  method: string;
  url: string;
}

/**
 * Every route the app answers, read from its router (`printRoutes`), so a route added later is
 * fuzzed without anyone listing it. Call after `app.ready()`.
 */
export function declaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const branch = line.search(/[├└]── /);
    if (branch < 0) continue;
    const depth = branch / 4;
    const match = /^(.*?)(?: \(([^)]*)\))?$/.exec(line.slice(branch + 4))!;
    stack.length = depth;
    stack.push(match[1]!);
    const joined = stack.join('');
    const url = joined.startsWith('/') ? joined : `/${joined}`;
    for (const method of match[2]?.split(',') ?? []) routes.push({ method: method.trim(), url });
  }
  return routes;
}

/** What one fuzzed request was and what came back. */
export interface Exchange {
  route: DeclaredRoute;
  request: InjectOptions & { method: string; url: string; headers: Record<string, string> };
  response: LightMyRequestResponse;
}

export interface HttpFuzzOptions<State> {
  app: FastifyInstance;
  /** The routes to fuzz; {@link declaredRoutes} of the app. */
  routes: DeclaredRoute[];
  /** `Authorization` values the service accepts, mixed in with wrong ones. */
  validAuthorizations?: string[];
  /**
   * The service's state (row counts, table contents): compared before and after every request,
   * and must be equal unless `changed` vouches for the difference.
   */
  snapshot: () => Promise<State>;
  /**
   * For an answer that may change state (e.g. 202 to POST /orders): checks the change against the
   * answer and returns true; returns false to have the state compared as for any other request.
   */
  changed?(exchange: Exchange, before: State): Promise<boolean>;
  /** URL prefixes whose 4xx bodies are not the API's JSON errors (static files, Prometheus text). */
  nonJsonPrefixes?: string[];
  /** URLs allowed to answer 503 (e.g. /ready, which reports a dependency that is slow to answer). */
  may503?: string[];
  /** Runs for a route that takes no input; a route with a body, a parameter or a query gets a few times more. */
  runsPerRoute: number;
}

/** How many requests each route got, and with which statuses; for asserting that every route was reached. */
export type FuzzCoverage = Map<string, Map<number, number>>;

/** Runs the HTTP property; throws (with fast-check's seed and shrunk counterexample) when it fails. */
export async function fuzzHttpRoutes<State>(options: HttpFuzzOptions<State>): Promise<FuzzCoverage> {
  const { app, routes, snapshot } = options;
  const nonJson = options.nonJsonPrefixes ?? ['/documentation', '/metrics'];
  const may503 = new Set(options.may503 ?? ['/ready']);
  const coverage: FuzzCoverage = new Map();
  const queryNames = declaredQueryNames(app);
  const property = (route: DeclaredRoute, names: string[]) =>
    fc.asyncProperty(requestFor(route, options.validAuthorizations ?? [], names), async (request) => {
      const before = await snapshot();
      const response = await app.inject(request);
      const key = `${route.method} ${route.url}`;
      const statuses = coverage.get(key) ?? new Map<number, number>();
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      coverage.set(key, statuses);

      const path = request.url.split('?')[0]!;
      const where = `${request.method} ${request.url.slice(0, 200)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
      if (response.statusCode >= 500 && !(response.statusCode === 503 && may503.has(path))) {
        throw new Error(`server error: ${where}`);
      }
      if (
        response.statusCode >= 400 &&
        request.method !== 'HEAD' &&
        !nonJson.some((prefix) => path.startsWith(prefix))
      ) {
        let body: unknown;
        try {
          body = response.json();
        } catch {
          throw new Error(`4xx body is not JSON: ${where}`);
        }
        const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown };
        if (typeof error !== 'string' || typeof message !== 'string') {
          throw new Error(`4xx body is not { error, message }: ${where}`);
        }
      }
      const exchange: Exchange = { route, request, response };
      if (response.statusCode < 300 && options.changed && (await options.changed(exchange, before))) return;
      const after = await snapshot();
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        throw new Error(`state changed: ${where}\nbefore ${JSON.stringify(before)}\nafter  ${JSON.stringify(after)}`);
      }
    });
  // Every route gets runs of its own; those reading a body, a path parameter or a query string
  // have more to get wrong and get more.
  for (const route of routes) {
    const names = queryNames.get(`${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`) ?? [];
    const weight = 1 + (route.method === 'POST' ? 4 : 0) + (route.url.includes(':') ? 2 : 0) + (names.length > 0 ? 3 : 0);
    await fc.assert(property(route, names), { numRuns: options.runsPerRoute * weight, endOnFailure: true });
  }
  return coverage;
}

export interface EveryRouteFuzzOptions<State> extends Omit<HttpFuzzOptions<State>, 'routes' | 'runsPerRoute'> {
  /** Routes (`GET /stock`) the app must declare: one the router lost fails the fuzzing. */
  expectedRoutes: string[];
  /** See {@link HttpFuzzOptions.runsPerRoute}; default 10. */
  runsPerRoute?: number;
}

/**
 * {@link fuzzHttpRoutes} over every route the app declares ({@link declaredRoutes}). Fails when an
 * expected route is not declared, or when a declared one was never reached.
 */
export async function fuzzEveryRoute<State>(options: EveryRouteFuzzOptions<State>): Promise<FuzzCoverage> {
  const routes = declaredRoutes(options.app);
  const declared = new Set(routes.map(({ method, url }) => `${method} ${url}`));
  const missing = options.expectedRoutes.filter((route) => !declared.has(route));
  if (missing.length > 0) throw new Error(`routes not declared by the app: ${missing.join(', ')}`);
  const coverage = await fuzzHttpRoutes({ ...options, routes, runsPerRoute: options.runsPerRoute ?? 10 });
  const unreached = [...declared].filter((route) => !coverage.has(route));
  if (unreached.length > 0) throw new Error(`declared routes never fuzzed: ${unreached.join(', ')}`);
  return coverage;
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Strings with what breaks parsers: percent signs, quotes, NUL, unicode, lone surrogates, huge. */
const junkString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '%', '%zz', '%E0%A4%A', '%00', '..', '../..', '\u0000', '\ud800', 'null', 'undefined', '-1', '0', '1e309', 'NaN', '[]', '{}', "'", '"', '__proto__', 'constructor'),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'x'.repeat(n)),
);

/** An ISO-ish date-time, sometimes valid, sometimes at PostgreSQL's edges (year 0000, +14:00). */
const dateTimeLike: fc.Arbitrary<string> = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 0, 1, 1970, 9999)),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    fraction: fc.option(fc.stringMatching(/^\.\d{1,12}$/), { nil: '' }),
    offset: fc.constantFrom('Z', '+00:00', '+14:00', '-12:00', '+23:59', '-23:59'),
  })
  .map(({ year, month, day, hour, minute, fraction, offset }) => {
    const two = (n: number) => String(n).padStart(2, '0');
    return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:00${fraction}${offset}`;
  });

/** Percent-encodes any string, lone surrogates too (as the bytes UTF-8 replaces them with). */
const encode = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Cursors: random text, and opaque-looking ones shaped like what the services hand out. */
const cursorLike: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: junkString },
  { weight: 1, arbitrary: fc.string().map(base64url) },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => base64url(JSON.stringify(value))) },
  {
    weight: 4,
    arbitrary: fc
      .record({ createdAt: fc.oneof({ weight: 3, arbitrary: dateTimeLike }, { weight: 1, arbitrary: junkString }), id: fc.oneof(fc.uuid(), junkString) })
      .map((cursor) => base64url(JSON.stringify(cursor))),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.bigInt({ min: -1n, max: 10n ** 20n }).map(String), fc.constantFrom('0', '9223372036854775807', '9223372036854775808', '01'), junkString)
      .map((id) => base64url(`purchase:${id}`)),
  },
);

/** A path parameter: a UUID (maybe of no order), or anything. Percent-encoded unless raw. */
const pathParam: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  junkString.filter((s) => s !== '').map(encode),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '%2e%2e', 'a;b', 'a%20b', '~'),
);

/** The rest of a wildcard path: segments of junk, traversal attempts, encoded slashes. */
const wildcardTail: fc.Arbitrary<string> = fc.oneof(
  fc.array(pathParam, { maxLength: 4 }).map((segments) => segments.join('/')),
  fc.constantFrom('', 'index.html', '../package.json', '..%2f..%2fpackage.json', '%2e%2e/%2e%2e/etc/passwd', 'static/index.html', 'json', 'yaml', 'assets/x.js'),
);

function fillPath(pattern: string): fc.Arbitrary<string> {
  const parts = pattern.split(/(:[A-Za-z0-9_]+|\*)/).filter((part) => part !== '');
  return fc.tuple(...parts.map((part) => (part === '*' ? wildcardTail : part.startsWith(':') ? pathParam : fc.constant(part)))).map((filled) => filled.join(''));
}

/** The query parameters each route declares in the app's OpenAPI document, by `METHOD /pattern`. */
function declaredQueryNames(app: FastifyInstance): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const swagger = (app as { swagger?: () => { paths?: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>> } }).swagger;
  for (const [path, operations] of Object.entries(swagger?.call(app).paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      const query = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
      names.set(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`, query);
    }
  }
  return names;
}

/** Query parameter names worth guessing: the route's own, others of the API, and parser edge cases. */
function queryKey(declared: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    ...(declared.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...declared) }] : []),
    { weight: 1, arbitrary: fc.constantFrom('status', 'limit', 'cursor', 'ticket', 'from', 'quantity', 'id', 'limit[]', 'status[]', 'limit[0]', 'cursor[a]', '__proto__', 'constructor[prototype][x]', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
}

const anyQueryValue = fc.oneof(
  fc.constantFrom(...orderStatuses, 'QUEUED', 'cooking ', 'unknown'),
  fc.integer({ min: -10, max: 1_000 }).map(String),
  fc.constantFrom('1.5', '1e3', '0x10', '+1', ' 1', '500', '501', '9007199254740993', 'Infinity'),
  cursorLike,
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .dictionary(fc.constantFrom('kitchen.order-status-changed', 'inventory.stock-changed', 'inventory.purchase-recorded', 'x'), fc.oneof(fc.stringMatching(/^\d{1,22}-\d{1,22}$/), junkString))
    .map((positions) => JSON.stringify(positions)),
  junkString,
);

/** Values aimed at what a parameter of that name takes; any value now and then. */
const valuesByName: Record<string, fc.Arbitrary<string>> = {
  cursor: cursorLike,
  limit: fc.oneof(fc.integer({ min: -2, max: 600 }).map(String), fc.constantFrom('0', '1', '500', '501', '1.5', '1e2', '', ' 5')),
  status: fc.constantFrom(...orderStatuses, 'QUEUED', ''),
  ticket: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), junkString),
};

function queryValue(name: string): fc.Arbitrary<string> {
  const base = name.replace(/\[.*$/, '');
  const aimed = Object.hasOwn(valuesByName, base) ? valuesByName[base] : undefined;
  return aimed ? fc.oneof({ weight: 3, arbitrary: aimed }, { weight: 1, arbitrary: anyQueryValue }) : anyQueryValue;
}

/** A query string: encoded pairs, repeated keys, raw junk, or nothing. */
const queryString = (declared: string[]): fc.Arbitrary<string> => fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.tuple(queryKey(declared), fc.boolean()).chain(([key, raw]) => queryValue(key).map((value) => [key, value, raw] as const)),
        { minLength: 1, maxLength: 5 },
      )
      .map((pairs) =>
        pairs
          .map(([key, value, raw]) => (raw ? `${key}=${value}` : `${encode(key)}=${encode(value)}`))
          .join('&'),
      ),
  },
  { weight: 1, arbitrary: fc.constantFrom('&&', '=', '==&=', '%', 'a=%', 'a=%E0%A4%A', '?', 'a&a&a', 'limit=1&limit=2', 'status=queued&status=cooking') },
);

/** Header values Node accepts in a request (visible ASCII, space and tab); the rest cannot be sent. */
const headerText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  fc.constantFrom('', ' ', '\t', 'null', '[]', '{}'),
  fc.integer({ min: 200, max: 8_000 }).map((n) => 'k'.repeat(n)),
);

function authorization(valid: string[]): fc.Arbitrary<string> {
  const tokens = valid.map((value) => value.replace(/^Bearer /, ''));
  return fc.oneof(
    ...(valid.length > 0 ? [{ weight: 8, arbitrary: fc.constantFrom(...valid) }] : []),
    ...(tokens.length > 0
      ? [
          fc.constantFrom(...tokens).map((token) => `bearer ${token}`),
          fc.constantFrom(...tokens).map((token) => `Bearer  ${token} `),
          fc.constantFrom(...tokens).map((token) => `Bearer ${token.slice(0, -1)}`),
          fc.constantFrom(...tokens).map((token) => `Basic ${Buffer.from(`manager:${token}`).toString('base64')}`),
          fc.constantFrom(...tokens),
        ]
      : []
    ).map((arbitrary) => ({ weight: 1, arbitrary })),
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Bearer null', 'Token x', '') },
    { weight: 1, arbitrary: headerText.map((text) => `Bearer ${text}`) },
    { weight: 1, arbitrary: headerText },
  );
}

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'application/json, text/plain',
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'application/vnd.api+json',
    'application/*',
    '*/*',
    ';',
    '',
  ),
  headerText,
);

function headersFor(validAuthorizations: string[]): fc.Arbitrary<Record<string, string>> {
  const named = fc.record(
    {
      authorization: authorization(validAuthorizations),
      'idempotency-key': fc.oneof(headerText, fc.uuid()),
      'content-type': contentType,
      accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', 'x/y;q=oops'),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity;q=0', '*', 'x'),
      'content-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
      origin: fc.constantFrom('http://localhost:3000', 'https://evil.example', 'null', ''),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', 'not-an-ip', '1.2.3.4, 5.6.7.8'),
      'if-none-match': headerText,
      range: fc.constantFrom('bytes=0-1', 'bytes=-1', 'bytes=9-1', 'bytes=x'),
      connection: fc.constantFrom('upgrade', 'close', 'keep-alive'),
      upgrade: fc.constantFrom('websocket', 'h2c'),
      'sec-websocket-version': fc.constantFrom('13', '8', 'x'),
      'sec-websocket-key': fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'x'),
    },
    { requiredKeys: [] },
  );
  // Random names; never the framing headers, whose mismatch with the body the brief leaves out.
  const random = fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((name) => !['content-length', 'transfer-encoding', 'host', 'expect'].includes(name)),
    headerText,
    { maxKeys: 3 },
  );
  return fc.tuple(named, random).map(([a, b]) => ({ ...b, ...a }));
}

/** Objects shaped like the API's bodies (`quantity`), with values near and far from valid. */
const nearValidBody = fc.dictionary(
  fc.constantFrom('quantity', 'type', 'token', 'ticket', '__proto__', 'constructor', 'extra'),
  fc.oneof(
    fc.integer({ min: -3, max: 30 }),
    fc.constantFrom(0, 1, 1_000, 1_001, 1.5, -0, 1e21, Number.MAX_SAFE_INTEGER + 2, null, true, '1', '', [], {}),
    fc.double(),
    junkString,
  ),
  { maxKeys: 3 },
);

const deepNesting = fc.integer({ min: 50, max: 200_000 }).chain((depth) =>
  fc.constantFrom('['.repeat(depth) + ']'.repeat(depth), '{"quantity":'.repeat(depth) + '1' + '}'.repeat(depth), '['.repeat(depth)),
);

/** A body: JSON or not, huge, deeply nested, prototype-poisoning, invalid UTF-8 bytes, or none. */
const body: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: nearValidBody.map((value) => JSON.stringify(value)) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: junkString },
  { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 1_200_000 }).map((n) => JSON.stringify({ quantity: 1, pad: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: deepNesting },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"quantity":1}}',
      '{"constructor":{"prototype":{"quantity":1}}}',
      '{"quantity":1,"quantity":2}',
      '{"quantity":1}garbage',
      '\ufeff{"quantity":1}',
      '{"quantity":1e400}',
      '{"quantity":-0}',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.constant(Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d)))
      .map((bytes) => Buffer.from(bytes)),
  },
);

/** A request to `route`: its declared method, a filled-in path, and random query, headers and body. */
function requestFor(route: DeclaredRoute, validAuthorizations: string[], queryNames: string[]) {
  return fc.record({ path: fillPath(route.url), query: queryString(queryNames), headers: headersFor(validAuthorizations), body }).map(
    ({ path, query, headers, body }) => ({
      method: route.method,
      url: query === '' ? path : `${path}?${query}`,
      headers,
      ...(body === undefined ? {} : { payload: body }),
    }),
  ) as fc.Arbitrary<Exchange['request']>;
}

// ---------------------------------------------------------------------------------------------
// Streams

const isoNow = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
const recipe = fc.constantFrom(...recipeNames);
const ingredientsOf = recipe.map((name) => ({ recipe: name, ingredients: recipeBook[name].map((item) => ({ ...item })) }));

/** Valid messages of each stream, to mutate into invalid ones (and to check that a consumer still works). */
export const validMessages: Record<StreamName, fc.Arbitrary<Record<string, unknown>>> = {
  'orders.placed': fc.record({ type: fc.constant('order.placed'), version: fc.constant(1), orderId: fc.uuid({ version: 4 }), placedAt: isoNow }),
  'kitchen.ingredients-requested': fc
    .record({ orderId: fc.uuid({ version: 4 }), at: isoNow, need: ingredientsOf })
    .map(({ orderId, at, need }) => ({ type: 'ingredients.requested', version: 1, orderId, ...need, requestedAt: at })),
  'inventory.ingredients-dispatched': fc
    .record({ orderId: fc.uuid({ version: 4 }), at: isoNow, need: ingredientsOf })
    .map(({ orderId, at, need }) => ({ type: 'ingredients.dispatched', version: 1, orderId, ...need, dispatchedAt: at })),
  'kitchen.order-status-changed': fc.record({
    type: fc.constant('order.status-changed'),
    version: fc.constant(1),
    orderId: fc.uuid({ version: 4 }),
    status: fc.constantFrom(...orderStatuses),
    recipe: fc.option(recipe, { nil: null }),
    at: isoNow,
  }),
  'inventory.stock-changed': fc.record({
    type: fc.constant('stock.changed'),
    version: fc.constant(1),
    reason: fc.constantFrom('dispatch', 'purchase'),
    stock: fc.constant(ingredients.map((ingredient) => ({ ingredient, onHand: 5 }))),
    at: isoNow,
  }),
  'inventory.purchase-recorded': fc.record({
    type: fc.constant('purchases.recorded'),
    version: fc.constant(2),
    purchases: fc.array(
      fc.record({
        id: fc.nat().map(String),
        ingredient: fc.constantFrom(...ingredients),
        quantitySold: fc.nat({ max: 10 }),
        outcome: fc.constantFrom('sold', 'none', 'fault'),
        error: fc.constant(null),
        at: isoNow,
      }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
};

/** A value that is wrong almost everywhere a message field is: other types, out-of-range, near misses. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, '', 0, -1, 1.5, 2, '1', true, [], {}, 'not-a-uuid', 'unknown', '2024-13-45T00:00:00Z', 'QUEUED'),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(...recipeNames, ...orderStatuses).map((name) => name.toUpperCase()),
);

/** A valid message with one thing broken: a field removed or replaced, the version or type changed, or an array entry spoilt. */
function mutated(message: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(message);
  const arrays = keys.filter((key) => Array.isArray(message[key]) && (message[key] as unknown[]).length > 0);
  return fc.oneof(
    fc.constantFrom(...keys).map((key) => {
      const copy = { ...message };
      delete copy[key];
      return copy;
    }),
    fc.tuple(fc.constantFrom(...keys), wrongValue).map(([key, value]) => ({ ...message, [key]: value })),
    fc.constantFrom(0, 2, 3, '1', null, 1.5).map((version) => ({ ...message, version })),
    ...(arrays.length > 0
      ? [
          fc.tuple(fc.constantFrom(...arrays), fc.constantFrom('ingredient', 'quantity', 'onHand', 'id', 'outcome', 'quantitySold', 'at'), wrongValue).map(
            ([key, field, value]) => {
              const [first, ...rest] = message[key] as Array<Record<string, unknown>>;
              return { ...message, [key]: [{ ...first, [field]: value }, ...rest] };
            },
          ),
          fc.constantFrom(...arrays).map((key) => ({ ...message, [key]: [] })),
        ]
      : []),
    fc.constant([message]),
  );
}

export interface PoisonEntryOptions {
  stream: StreamName;
  /** The field holding the message JSON (`MESSAGE_FIELD` of @free-lunch/streams). */
  messageField: string;
  /** True when the consumer would read the entry as a message: such entries are left out. */
  decodes: (fields: string[]) => boolean;
}

/**
 * Entries of a stream that cannot be read as one of its messages: no message field, text that is
 * not JSON, random JSON, another stream's message, or a valid message with one thing broken.
 * Flat `[field, value, …]` lists, as XADD takes them.
 */
export function poisonEntries({ stream, messageField, decodes }: PoisonEntryOptions): fc.Arbitrary<string[]> {
  const others = (Object.keys(validMessages) as StreamName[]).filter((name) => name !== stream);
  const messageText = fc.oneof(
    junkString,
    fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
    validMessages[stream].chain(mutated).map((value) => JSON.stringify(value)),
    validMessages[stream].chain(mutated).map((value) => JSON.stringify(value)),
    fc.constantFrom(...others).chain((other) => validMessages[other]).map((value) => JSON.stringify(value)),
    validMessages[stream].map((value) => JSON.stringify(value).slice(0, -1)),
  );
  const otherField = fc.tuple(fc.string({ maxLength: 12 }).filter((name) => name !== messageField), fc.oneof(junkString, fc.jsonValue().map((value) => JSON.stringify(value))));
  const entry = fc.oneof(
    fc.array(otherField, { minLength: 1, maxLength: 4 }).map((pairs) => pairs.flat()),
    fc
      .tuple(fc.array(otherField, { maxLength: 2 }), messageText, fc.array(otherField, { maxLength: 2 }))
      .map(([before, text, after]) => [...before.flat(), messageField, text, ...after.flat()]),
  );
  return entry.filter((fields) => !decodes(fields));
}

export interface StreamFuzzOptions<State> {
  redis: Redis;
  /** The stream's Redis key and its dead letter's. */
  key: string;
  deadLetterKey: string;
  group: string;
  entries: fc.Arbitrary<string[]>;
  snapshot: () => Promise<State>;
  numRuns: number;
  /** How long one batch may take to reach the dead letter; default 10 s. */
  timeoutMs?: number;
}

/**
 * Writes batches of poison entries straight into the stream and checks that each one ends in the
 * dead letter with a reason, that the group holds nothing pending afterwards and that the
 * service's state did not move. Returns how many entries were dead-lettered.
 */
export async function fuzzStreamConsumer<State>(options: StreamFuzzOptions<State>): Promise<number> {
  const { redis, key, deadLetterKey, group, snapshot } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let deadLettered = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(options.entries, { minLength: 1, maxLength: 5 }), async (batch) => {
      const before = await snapshot();
      const pipeline = redis.pipeline();
      for (const fields of batch) pipeline.xadd(key, '*', ...fields);
      const ids = (await pipeline.exec())!.map(([error, id]) => {
        if (error) throw error;
        return id as string;
      });
      const letters = new Map<string, { reason?: unknown; stream?: unknown; group?: unknown }>();
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !letters.has(id))) {
        if (Date.now() > deadline) {
          const missing = ids.filter((id) => !letters.has(id));
          throw new Error(`not dead-lettered within ${timeoutMs} ms: ${missing.join(', ')} of ${JSON.stringify(batch).slice(0, 500)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
        for (const [, fields] of await redis.xrange(deadLetterKey, '-', '+')) {
          const letter = JSON.parse(fields[1]!) as { messageId: string; reason?: unknown; stream?: unknown; group?: unknown };
          letters.set(letter.messageId, letter);
        }
      }
      for (const id of ids) {
        const letter = letters.get(id)!;
        if (typeof letter.reason !== 'string' || letter.reason === '' || letter.group !== group) {
          throw new Error(`dead letter of ${id} lacks a reason or names another group: ${JSON.stringify(letter)}`);
        }
      }
      const [pending] = (await redis.xpending(key, group)) as [number];
      if (pending !== 0) throw new Error(`${pending} entries still pending in group ${group}`);
      const after = await snapshot();
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        throw new Error(`state changed: ${JSON.stringify(batch).slice(0, 500)}\nbefore ${JSON.stringify(before)}\nafter  ${JSON.stringify(after)}`);
      }
      deadLettered += ids.length;
    }),
    { numRuns: options.numRuns, endOnFailure: true },
  );
  return deadLettered;
}

/** How @free-lunch/streams names and reads streams (passed in: this package does not depend on it). */
export interface StreamNaming {
  streamKey(prefix: string, stream: StreamName): string;
  deadLetterKey(prefix: string, stream: StreamName): string;
  isDecodable(stream: StreamName, fields: string[]): boolean;
  MESSAGE_FIELD: string;
}

export interface ConsumedStreamFuzzOptions<State> {
  /** The service under test: its key prefix and a Redis connection of the test's. */
  service: { redis: Redis; keyPrefix: string };
  stream: StreamName;
  /** The consumer group of the service that reads `stream`. */
  group: string;
  naming: StreamNaming;
  snapshot: () => Promise<State>;
  numRuns: number;
}

/**
 * {@link fuzzStreamConsumer} with {@link poisonEntries} of `stream`, on the service's own keys.
 * Returns how many entries were dead-lettered (at least one a run).
 */
export async function fuzzConsumedStream<State>({ service, stream, group, naming, snapshot, numRuns }: ConsumedStreamFuzzOptions<State>): Promise<number> {
  return fuzzStreamConsumer({
    redis: service.redis,
    key: naming.streamKey(service.keyPrefix, stream),
    deadLetterKey: naming.deadLetterKey(service.keyPrefix, stream),
    group,
    entries: poisonEntries({ stream, messageField: naming.MESSAGE_FIELD, decodes: (fields) => naming.isDecodable(stream, fields) }),
    snapshot,
    numRuns,
  });
}

/**
 * A fingerprint of tables: row count and an md5 of every row, per table. Equal fingerprints mean
 * nothing in those tables was written.
 */
export async function tableFingerprint(
  pool: { query<R extends object>(text: string): Promise<{ rows: R[] }> },
  tables: string[],
): Promise<Record<string, string>> {
  const query = tables
    .map((table) => `SELECT '${table}' AS t, count(*)::text || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS f FROM ${table} x`)
    .join(' UNION ALL ');
  const { rows } = await pool.query<{ t: string; f: string }>(query);
  return Object.fromEntries(rows.map(({ t, f }) => [t, f]));
}
