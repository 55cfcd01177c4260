import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify';
import { ErrorBody, WsConnectQuery, WsTicketResponse } from '@free-lunch/contracts';
import { handshake, type HandshakeSocket } from '../live/handshake.js';
import type { LiveFeed } from '../live/live-feed.js';
import { LiveSession, type LiveSessionOptions, type LiveSocket } from '../live/live-session.js';
import { SocketCaps } from '../live/socket-caps.js';
import { guardUpgrades, releasePlace, releasePlaceOnResponse } from '../live/upgrade-guard.js';
import { WS_TICKET_TTL_MS, type WsTickets } from '../live/ws-tickets.js';
import { refuseWhileGuessing, type ManagerAccess } from './manager-auth.js';

export interface LiveRoutesOptions {
  /** The manager's tokens, and the count of wrong ones per address (a wrong token on /ws counts too). */
  manager: ManagerAccess;
  /** Lets only the manager through, within the per-token limit on tickets (see managerOnly). */
  managerOnly: onRequestAsyncHookHandler;
  tickets: WsTickets;
  feed: LiveFeed;
  /** Who may open `/ws` and what it may cost (WS_* and CORS_ORIGINS in the config). */
  guard: LiveViewGuard;
  /** `/ws` handshakes one client address may make per minute. */
  handshakesPerMinute: number;
}

export interface LiveViewGuard extends LiveSessionOptions {
  /** Page origins besides the service's own allowed to open the live view. */
  allowedOrigins: readonly string[];
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

const PROTOCOL = `WebSocket. Authenticate with \`?ticket=\` (from POST /ws-ticket) or by sending
\`{"type":"auth","token":"<MANAGER_TOKEN>"}\` first; otherwise one \`{"type":"error","error":"unauthorized"}\`
message arrives and the socket closes. Then: one \`{"type":"ready","positions":{stream: id}}\`, and
\`{"type":"events","events":[{stream,id,message}]}\` frames (about one per 100 ms) from
kitchen.order-status-changed, inventory.stock-changed and inventory.purchase-recorded (version 2: a whole
purchase round per entry). To resume without
gaps, pass the last id seen per stream as \`?from={"<stream>":"<id>"}\` (or \`resumeFrom\` in the auth
message): everything after it is replayed once, then live events follow.

Refusals. Before upgrading: \`403 origin_not_allowed\` for a browser page whose Origin is neither this
service nor in CORS_ORIGINS (clients that send no Origin are let through to authenticate), and
\`429 too_many_connections\` with Retry-After when this server, or the client's address, holds its most
live view sockets; \`429 rate_limited\` with Retry-After when the address opened too many sockets this
minute, or presented too many wrong tokens (here or on the HTTP API). After upgrading, one error message then a close: \`unauthorized\` and
\`invalid_request\` (1008); \`resume_too_old\` (1008) when the resume position reaches back further than
the server replays (minutes) or before entries the stream has trimmed: reload the state from the REST
API and connect without from; \`too_slow\` (1013) when the client fell too far behind: reconnect with
from. Every socket is pinged about every 25 s; one that does not answer a ping before the next is dropped.`;

/** The live view: tickets for browsers, and the WebSocket itself. */
export const liveRoutes: FastifyPluginAsync<LiveRoutesOptions> = async (app, { manager, managerOnly, tickets, feed, guard, handshakesPerMinute }) => {
  const caps = new SocketCaps({ max: guard.maxConnections, maxPerAddress: guard.maxConnectionsPerAddress });
  app.post<{ Reply: WsTicketResponse }>(
    '/ws-ticket',
    {
      onRequest: managerOnly,
      schema: {
        tags: ['live view'],
        summary: 'A single-use ticket to open the live view WebSocket',
        description: `Needs \`Authorization: Bearer <MANAGER_TOKEN>\`. Present the ticket once, within ${WS_TICKET_TTL_MS / 1000} s, as \`/ws?ticket=…\`.`,
        response: { 201: WsTicketResponse, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (_request, reply) => reply.code(201).send({ ticket: await tickets.issue(), expiresInMs: WS_TICKET_TTL_MS }),
  );

  // Declared with an HTTP handler too, so /ws appears in the OpenAPI document and a plain GET is
  // told what to do instead of getting an empty 404.
  app.route<{ Querystring: WsConnectQuery }>({
    method: 'GET',
    url: '/ws',
    config: { rateLimit: { max: handshakesPerMinute, timeWindow: 60_000 } },
    // An address that has used up its wrong tokens may not try more through the WebSocket either.
    onRequest: (request, reply) => refuseWhileGuessing(manager, request, reply),
    preValidation: guardUpgrades({ allowedOrigins: guard.allowedOrigins, caps }),
    onResponse: releasePlaceOnResponse,
    schema: {
      tags: ['live view'],
      summary: 'Live order status, stock and purchase events (WebSocket)',
      description: PROTOCOL,
      querystring: WsConnectQuery,
      response: { 403: ErrorBody, 426: ErrorBody, 429: ErrorBody },
    },
    handler: async (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send({
        error: 'upgrade_required',
        message: '/ws is a WebSocket: connect with a WebSocket client.',
      }),
    wsHandler: (socket: LiveSocket & HandshakeSocket, request) => {
      socket.on('close', () => releasePlace(request));
      const session = new LiveSession(socket, feed, request.log, guard);
      handshake(socket, request.query, { tickets, managerToken: manager.tokens })
        .then(async (outcome) => {
          if (outcome.ok) return session.open(outcome.resumeFrom);
          if (outcome.error === 'unauthorized') await manager.authFailures.check(request);
          session.refuse(outcome.error, outcome.message);
        })
        .catch((error: unknown) => {
          request.log.error({ err: error }, 'live view session failed');
          session.refuse('internal_error', 'The live view failed on our side; reconnect with from= to resume.');
        });
    },
  });
};
