import { z } from 'zod';
import { WsAuthMessage, type StreamPositions } from '@free-lunch/contracts';
import { isManagerToken, type ManagerTokens } from '../domain/manager-token.js';
import { parseResumePositions } from '../domain/resume-positions.js';
import type { WsTickets } from './ws-tickets.js';

/** How long a socket that came without a ticket has to send its auth message. */
export const AUTH_TIMEOUT_MS = 5_000;

export type Handshake =
  | { ok: true; resumeFrom: StreamPositions }
  | { ok: false; error: 'unauthorized' | 'invalid_request'; message: string };

/** What the handshake needs of the socket: its first message, if it comes. */
export interface HandshakeSocket {
  once(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[]) => void): unknown;
}

const UNAUTHORIZED = 'The live view needs the manager: connect with ?ticket= from POST /ws-ticket, or send {"type":"auth","token":"…"} first.';

/**
 * Decides whether a `/ws` client may watch, and from where. With `?ticket=` the single-use ticket
 * decides; without one, the first message must be an auth message carrying the manager token (or a
 * ticket). The message listener is attached before anything is awaited, so a client that sends its
 * auth message straight away is not missed.
 */
export function handshake(
  socket: HandshakeSocket,
  query: { ticket?: string; from?: string },
  deps: { tickets: WsTickets; managerToken: ManagerTokens },
): Promise<Handshake> {
  const fromQuery = parseResumePositions(query.from);
  if (!fromQuery.ok) return Promise.resolve({ ok: false, error: 'invalid_request', message: fromQuery.message });

  if (query.ticket !== undefined) {
    return deps.tickets
      .redeem(query.ticket)
      .then((valid): Handshake =>
        valid
          ? { ok: true, resumeFrom: fromQuery.positions }
          : { ok: false, error: 'unauthorized', message: 'The ticket is unknown, used or expired; get a new one from POST /ws-ticket.' },
      );
  }

  return new Promise<Handshake>((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: 'unauthorized', message: UNAUTHORIZED }), AUTH_TIMEOUT_MS);
    // A client that hangs up before authenticating must not hold the process open.
    timer.unref();
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(authenticateMessage(data, fromQuery.positions, deps));
    });
  });
}

async function authenticateMessage(
  data: Buffer | ArrayBuffer | Buffer[],
  fromQuery: StreamPositions,
  deps: { tickets: WsTickets; managerToken: ManagerTokens },
): Promise<Handshake> {
  let json: unknown;
  try {
    json = JSON.parse(textOf(data));
  } catch {
    return { ok: false, error: 'unauthorized', message: UNAUTHORIZED };
  }
  const parsed = WsAuthMessage.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: 'unauthorized', message: `${UNAUTHORIZED} (${z.prettifyError(parsed.error)})` };
  }
  const auth = parsed.data;
  const allowed =
    auth.token !== undefined
      ? isManagerToken(auth.token, deps.managerToken)
      : await deps.tickets.redeem(auth.ticket!);
  if (!allowed) return { ok: false, error: 'unauthorized', message: UNAUTHORIZED };
  return { ok: true, resumeFrom: auth.resumeFrom ?? fromQuery };
}

function textOf(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
