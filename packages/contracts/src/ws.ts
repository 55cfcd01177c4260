import { z } from 'zod';
import {
  PurchaseRecordedV1,
  PurchasesRecordedV2,
  StockChangedV1,
  OrderStatusChangedV1,
  streamNames,
} from './messages.js';

/**
 * The live view's WebSocket protocol (`/ws` on orders-app).
 *
 * A browser cannot set an Authorization header on a WebSocket, so a client either trades the manager
 * token for a short-lived single-use ticket (`POST /ws-ticket`) and connects to `/ws?ticket=…`, or
 * connects without one and sends an {@link WsAuthMessage} first. Once authenticated it receives one
 * {@link WsReadyMessage}, then {@link WsEventsMessage} frames. Every event carries its stream entry id;
 * a client that reconnects with the last id it saw per stream (`?from=` or `resumeFrom`) receives
 * everything after it exactly once, then live events. A resume reaches back a few minutes at most:
 * further (or from before entries the stream trimmed) it gets `resume_too_old` and must reload its
 * state over REST and connect without a position.
 *
 * Refused before upgrading, over HTTP with an `{error, message}` body: `403 origin_not_allowed`
 * (a browser page of an origin that may not watch) and `429 too_many_connections` with Retry-After.
 * Every socket is pinged; one that stops answering is dropped.
 */

/** The streams the live view shows; every orders-app replica tails them without a consumer group. */
export const liveStreamNames = [
  streamNames.orderStatusChanged,
  streamNames.stockChanged,
  streamNames.purchaseRecorded,
] as const;

export const LiveStreamName = z.enum(liveStreamNames);
export type LiveStreamName = z.infer<typeof LiveStreamName>;

/** A Redis stream entry id, `<milliseconds>-<sequence>`. */
export const StreamEntryId = z
  .string()
  .regex(/^\d{1,20}-\d{1,20}$/, 'a stream entry id looks like "1732780000000-0"');
export type StreamEntryId = z.infer<typeof StreamEntryId>;

/** Last entry id seen per live stream; streams left out start from now. */
export const StreamPositions = z.partialRecord(LiveStreamName, StreamEntryId);
export type StreamPositions = z.infer<typeof StreamPositions>;

/** `POST /ws-ticket` answer: present `ticket` once, within `expiresInMs`, as `/ws?ticket=…`. */
export const WsTicketResponse = z.object({
  ticket: z.string(),
  expiresInMs: z.number().int().positive(),
});
export type WsTicketResponse = z.infer<typeof WsTicketResponse>;

/** Query string of the `/ws` upgrade request. */
export const WsConnectQuery = z.object({
  ticket: z.string().optional().describe('Single-use ticket from POST /ws-ticket'),
  from: z
    .string()
    .optional()
    .describe('JSON object of stream name → last entry id seen, to resume without gaps'),
});
export type WsConnectQuery = z.infer<typeof WsConnectQuery>;

/** Client → server, first message when the upgrade request carried no ticket. */
export const WsAuthMessage = z
  .object({
    type: z.literal('auth'),
    token: z.string().min(1).optional().describe('The manager token'),
    ticket: z.string().min(1).optional().describe('Or a ticket from POST /ws-ticket'),
    resumeFrom: StreamPositions.optional(),
  })
  .strict()
  .refine((m) => m.token !== undefined || m.ticket !== undefined, {
    message: 'an auth message needs a token or a ticket',
  });
export type WsAuthMessage = z.infer<typeof WsAuthMessage>;

/** One stream entry as the live view receives it. */
export const LiveEvent = z.discriminatedUnion('stream', [
  z.object({
    stream: z.literal(streamNames.orderStatusChanged),
    id: StreamEntryId,
    message: OrderStatusChangedV1,
  }),
  z.object({ stream: z.literal(streamNames.stockChanged), id: StreamEntryId, message: StockChangedV1 }),
  z.object({
    stream: z.literal(streamNames.purchaseRecorded),
    id: StreamEntryId,
    message: z.discriminatedUnion('version', [PurchaseRecordedV1, PurchasesRecordedV2]),
  }),
]);
export type LiveEvent = z.infer<typeof LiveEvent>;

/** Server → client once authenticated: where the stream of events starts, per live stream. */
export const WsReadyMessage = z.object({
  type: z.literal('ready'),
  positions: z.record(LiveStreamName, StreamEntryId),
});
export type WsReadyMessage = z.infer<typeof WsReadyMessage>;

/** Server → client: the events of about the last 100 ms, in stream order per stream. */
export const WsEventsMessage = z.object({
  type: z.literal('events'),
  events: z.array(LiveEvent),
});
export type WsEventsMessage = z.infer<typeof WsEventsMessage>;

/**
 * Server → client, then the server closes the socket. The codes: `unauthorized` (no or a wrong
 * token or ticket: ask the manager again), `invalid_request` (a malformed `from`), `resume_too_old`
 * (reload the state over REST, then connect without `from`/`resumeFrom`), `too_slow` (the client
 * fell behind: reconnect with `from`), `internal_error` (reconnect with `from`).
 */
export const WsErrorMessage = z.object({
  type: z.literal('error'),
  error: z.string().describe('Stable code: unauthorized, invalid_request, resume_too_old, too_slow or internal_error'),
  message: z.string(),
});
export type WsErrorMessage = z.infer<typeof WsErrorMessage>;

export const WsServerMessage = z.discriminatedUnion('type', [
  WsReadyMessage,
  WsEventsMessage,
  WsErrorMessage,
]);
export type WsServerMessage = z.infer<typeof WsServerMessage>;
