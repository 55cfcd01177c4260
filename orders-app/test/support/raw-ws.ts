import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { WsServerMessage } from '@free-lunch/contracts';

/** The parts of the `ws` package's client used here (it comes with @fastify/websocket). */
interface WsClient {
  on(event: 'open', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close', listener: (code: number) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): void;
  on(event: 'ping', listener: () => void): void;
  send(data: string): void;
  terminate(): void;
}
type WsClientClass = new (url: string, options: { headers?: Record<string, string>; autoPong?: boolean }) => WsClient;

const requireHere = createRequire(import.meta.url);
const WebSocket = createRequire(requireHere.resolve('@fastify/websocket'))('ws') as WsClientClass;

export type RawConnection =
  | {
      upgraded: true;
      messages: WsServerMessage[];
      closed: Promise<{ code: number }>;
      pings: () => number;
      send(message: unknown): void;
      terminate(): void;
    }
  | { upgraded: false; statusCode: number; headers: IncomingMessage['headers']; body: unknown };

/**
 * Opens `url` over a real TCP connection, as a browser or a script on the internet would: with the
 * headers given, and, with `autoPong: false`, as a client that has stopped answering pings.
 */
export function connectRaw(url: string, options: { headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: options.headers ?? {}, autoPong: options.autoPong ?? true });
    const messages: WsServerMessage[] = [];
    let pings = 0;
    let resolveClosed!: (value: { code: number }) => void;
    const closed = new Promise<{ code: number }>((done) => (resolveClosed = done));
    socket.on('message', (data) => messages.push(JSON.parse(data.toString('utf8')) as WsServerMessage));
    socket.on('ping', () => (pings += 1));
    socket.on('close', (code) => resolveClosed({ code }));
    socket.on('error', reject);
    socket.on('open', () =>
      resolve({
        upgraded: true,
        messages,
        closed,
        pings: () => pings,
        send: (message) => socket.send(JSON.stringify(message)),
        terminate: () => socket.terminate(),
      }),
    );
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        resolve({ upgraded: false, statusCode: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) });
        socket.terminate();
      });
    });
  });
}
