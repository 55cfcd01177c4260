import type { FastifyError, FastifyInstance } from 'fastify';

/** Error codes for the client mistakes Fastify itself detects before a route runs. */
const clientErrorCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
};

/** Makes every error the simulator sends the project's `{error, message}` JSON. */
export function registerErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'market simulator failed to answer');
      return reply.code(500).send({ error: 'internal_error', message: 'The market simulator failed unexpectedly.' });
    }
    return reply
      .code(statusCode)
      .send({ error: clientErrorCodes[error.code] ?? 'bad_request', message: error.message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `There is no ${request.method} ${request.url} here.` }),
  );
}
