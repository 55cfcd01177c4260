import type { FastifyReply } from 'fastify';
import type { MarketAnswer } from './sale.js';

const JSON_TYPE = 'application/json; charset=utf-8';

// Bodies that never change are built once: this runs thousands of times a second in the benchmark.
const MARKET_FAILURE_BODY = JSON.stringify({
  error: 'market_failure',
  message: 'The market had a problem selling; try again later.',
});
const MARKET_TIMEOUT_BODY = JSON.stringify({
  error: 'market_timeout',
  message: 'The market took too long to answer.',
});
// What a misconfigured proxy in front of a market tends to send: a page, not JSON.
const NOT_JSON_BODY = '<html><body><h1>Farmers market</h1><p>Come back later.</p></body></html>';

/**
 * Sends what the market decided. For a `timeout` that is the 504 a caller gets only if it waits
 * out the whole hang; the hang itself is the call's delay (see FarmersMarket.serve).
 */
export function sendAnswer(reply: FastifyReply, answer: MarketAnswer): void {
  if (answer.kind === 'sale') {
    sendQuantitySold(reply, answer.quantitySold);
    return;
  }
  switch (answer.fault) {
    case 'http500':
      reply.code(500).header('content-type', JSON_TYPE).send(MARKET_FAILURE_BODY);
      return;
    case 'nonJson':
      reply.code(200).header('content-type', 'text/html; charset=utf-8').send(NOT_JSON_BODY);
      return;
    case 'timeout':
      reply.code(504).header('content-type', JSON_TYPE).send(MARKET_TIMEOUT_BODY);
      return;
    default:
      sendQuantitySold(reply, answer.quantitySold);
  }
}

function sendQuantitySold(reply: FastifyReply, quantitySold: number): void {
  // A pre-serialised string skips Fastify's serializer on the hot path.
  reply.code(200).header('content-type', JSON_TYPE).send(`{"quantitySold":${quantitySold}}`);
}
