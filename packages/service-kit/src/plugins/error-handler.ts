import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorBody } from '@free-lunch/contracts';
import { AppError } from '../app-error.js';

interface ClientError {
  statusCode: number;
  error: string;
  message: string;
}

/** Fastify's own client errors, by Fastify error code, reworded for someone calling the API. */
const clientErrors = new Map<string, ClientError>([
  [
    'FST_ERR_CTP_INVALID_JSON_BODY',
    { statusCode: 400, error: 'invalid_json', message: 'The request body is not valid JSON.' },
  ],
  [
    'FST_ERR_CTP_EMPTY_JSON_BODY',
    { statusCode: 400, error: 'missing_body', message: 'The request body is empty; send a JSON object.' },
  ],
  [
    // Answered with 400, not 415: to the caller it is simply a body this API cannot read.
    'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    {
      statusCode: 400,
      error: 'unsupported_content_type',
      message: 'The request body must be JSON, sent with content-type application/json.',
    },
  ],
  [
    'FST_ERR_CTP_BODY_TOO_LARGE',
    { statusCode: 413, error: 'body_too_large', message: 'The request body is too large.' },
  ],
]);

/** Where a failed value was: `body.quantity`, `querystring.limit`, or just `body`. */
function fieldName(context: string | undefined, issue: FastifySchemaValidationError): string {
  const path = issue.instancePath.split('/').filter(Boolean).join('.');
  const location = context ?? 'request';
  return path ? `${location}.${path}` : location;
}

function validationFailed(error: FastifyError, request: FastifyRequest): ErrorBody {
  const context = error.validationContext;
  if (context === 'body' && request.body === undefined) {
    return {
      error: 'validation_failed',
      message: 'body: a request body is required; send a JSON object with content-type application/json.',
    };
  }
  const issues = (error.validation ?? []).map((issue) => ({
    field: fieldName(context, issue),
    message: issue.message ?? 'is invalid',
  }));
  return {
    error: 'validation_failed',
    message: issues.map(({ field, message }) => `${field}: ${message}`).join('; '),
    details: { issues },
  };
}

/**
 * SQLSTATE 57014: the statement was cancelled, by the read pool's statement_timeout or an operator.
 * The read was too heavy for now, not wrong: the caller may try again.
 */
const QUERY_CANCELED = '57014';

/** Seconds an error says the caller should wait before trying again, sent as `Retry-After`. */
function retryAfterSeconds(error: unknown): number | undefined {
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : undefined;
}

function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.validation) {
    const body = validationFailed(error, request);
    request.log.info({ error: body.error }, body.message);
    return reply.code(400).send(body);
  }

  if (error instanceof AppError) {
    if (error.isCatastrophic) request.log.fatal({ err: error }, 'catastrophic error');
    else if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
    else request.log.info({ error: error.code }, error.message);
    const body: ErrorBody = { error: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    const retryAfter = retryAfterSeconds(error);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    return reply.code(error.statusCode).send(body);
  }

  const known = clientErrors.get(error.code);
  if (known) {
    request.log.info({ error: known.error }, known.message);
    return reply.code(known.statusCode).send({ error: known.error, message: known.message } satisfies ErrorBody);
  }

  // Other errors Fastify marks as the caller's fault keep their status; their messages are written
  // for callers.
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ err: error }, error.message);
    return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message } satisfies ErrorBody);
  }

  if (error.code === QUERY_CANCELED) {
    request.log.warn({ err: error }, 'query cancelled: the read took longer than its statement timeout');
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({ error: 'read_timed_out', message: 'This read took too long to answer; try again shortly.' } satisfies ErrorBody);
  }

  // Anything else is our fault: log all of it, tell the caller nothing about our insides.
  request.log.error({ err: error }, 'request failed');
  return reply
    .code(500)
    .send({ error: 'internal_error', message: 'Something went wrong on our side.' } satisfies ErrorBody);
}

/**
 * Every error and unknown route answers `{ error, message }` JSON (see {@link ErrorBody}). An
 * AppError with a numeric `retryAfterSeconds` also sends `Retry-After`; a cancelled statement
 * (a read over its timeout) answers 503.
 */
export const errorHandlerPlugin = fp(
  async (app) => {
    app.setErrorHandler(handleError);
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({
        error: 'not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}.`,
      } satisfies ErrorBody),
    );
  },
  { name: 'free-lunch-errors', fastify: '5.x' },
);
