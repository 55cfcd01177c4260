import type { FastifyInstance } from 'fastify';
import type { WsServerMessage } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';

/** What a dashboard sees on `/ws`: every message in order, and whether and how the socket closed. */
export interface LiveViewClient {
  messages: WsServerMessage[];
  closed: Promise<{ code: number }>;
  send(message: unknown): void;
  /** The first message matching `predicate`, once it has come. */
  received<T extends WsServerMessage>(predicate: (message: WsServerMessage) => message is T): Promise<T>;
  /** Every event received so far, across frames. */
  events(): Extract<WsServerMessage, { type: 'events' }>['events'];
  close(): void;
}

interface WsLike {
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close', listener: (code: number) => void): void;
  send(data: string): void;
  terminate(): void;
}

/** Opens the live view the way a browser would, listening before the connection opens. */
export async function openLiveView(app: FastifyInstance, path: string): Promise<LiveViewClient> {
  const messages: WsServerMessage[] = [];
  let resolveClosed!: (value: { code: number }) => void;
  const closed = new Promise<{ code: number }>((resolve) => (resolveClosed = resolve));
  const socket = (await app.injectWS(path, {}, {
    onInit: (ws: WsLike) => {
      ws.on('message', (data) => messages.push(JSON.parse(data.toString('utf8')) as WsServerMessage));
      ws.on('close', (code) => resolveClosed({ code }));
    },
  })) as unknown as WsLike;
  return {
    messages,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async received(predicate) {
      return eventually(`a ${predicate.name || 'matching'} message on ${path}`, () => {
        const found = messages.find(predicate);
        if (!found) throw new Error(`got ${JSON.stringify(messages).slice(0, 500)}`);
        return found;
      });
    },
    events: () => messages.flatMap((message) => (message.type === 'events' ? message.events : [])),
    close: () => socket.terminate(),
  };
}

export const isReady = (message: WsServerMessage): message is Extract<WsServerMessage, { type: 'ready' }> =>
  message.type === 'ready';
export const isError = (message: WsServerMessage): message is Extract<WsServerMessage, { type: 'error' }> =>
  message.type === 'error';
