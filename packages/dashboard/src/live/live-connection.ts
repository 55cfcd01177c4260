import {
  LiveEvent,
  WsErrorMessage,
  WsReadyMessage,
  type LiveStreamName,
  type StreamPositions,
  type WsAuthMessage,
} from '@free-lunch/contracts';

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; attempt: number; retryAt: number }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'stopped' };

export interface LiveConnectionHandlers {
  /** Where to resume, per stream; undefined the first time (start from now). */
  resumeFrom(): StreamPositions | undefined;
  onReady(positions: Record<LiveStreamName, string>): void;
  onEvents(events: LiveEvent[]): void;
  onState(state: ConnectionState): void;
  /**
   * The gateway will not replay from where the page is (too long ago, or the stream was trimmed):
   * forget the state, so the next connection starts from now and a fresh snapshot is read.
   */
  onResumeRefused(): void;
}

/** Reconnect delays: 0.5 s doubling to 10 s, each between half and all of that (jitter). */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** A socket that opened but was not told `ready` by then is treated as dropped. */
const READY_TIMEOUT_MS = 10_000;

/**
 * The dashboard's one WebSocket to `/ws`. It authenticates with the manager token in its first
 * message (a browser cannot send headers on a WebSocket) together with the last entry id it holds
 * per stream, so the gateway replays what was missed; it reconnects by itself with backoff, and
 * stops for good only when the token is refused. When the gateway will not replay that far back,
 * the store starts over from a fresh snapshot.
 */
export class LiveConnection {
  private socket: WebSocket | null = null;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readyTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly handlers: LiveConnectionHandlers,
  ) {}

  start(): void {
    window.addEventListener('online', this.reconnectNow);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.reconnectNow);
    this.clearTimers();
    this.socket?.close(1000, 'dashboard closed');
    this.socket = null;
    this.handlers.onState({ kind: 'stopped' });
  }

  /** Skips the rest of the backoff wait (the "Reconnect now" button, or the browser going online). */
  readonly reconnectNow = (): void => {
    if (this.stopped || this.socket) return;
    this.clearTimers();
    this.connect();
  };

  private connect(): void {
    this.handlers.onState(this.failures === 0 ? { kind: 'connecting' } : this.reconnecting(Date.now()));
    const socket = new WebSocket(this.url);
    this.socket = socket;
    let refused = false;

    socket.onopen = () => {
      const auth: WsAuthMessage = { type: 'auth', token: this.token };
      const resumeFrom = this.handlers.resumeFrom();
      if (resumeFrom) auth.resumeFrom = resumeFrom;
      socket.send(JSON.stringify(auth));
      this.readyTimer = setTimeout(() => socket.close(4000, 'no ready'), READY_TIMEOUT_MS);
    };

    socket.onmessage = (message: MessageEvent<string>) => {
      if (this.socket !== socket) return;
      const frame = parseFrame(message.data);
      if (frame.type === 'events') {
        if (frame.events.length > 0) this.handlers.onEvents(frame.events);
      } else if (frame.type === 'ready') {
        if (this.readyTimer) clearTimeout(this.readyTimer);
        this.failures = 0;
        this.handlers.onState({ kind: 'live' });
        this.handlers.onReady(frame.positions);
      } else if (frame.type === 'error' && frame.error === 'unauthorized') {
        refused = true;
        this.stopped = true;
        this.handlers.onState({ kind: 'unauthorized', message: frame.message });
      } else if (frame.type === 'error' && frame.error === 'resume_too_old') {
        this.handlers.onResumeRefused();
      }
      // Every error is followed by a close: reconnecting resumes (or, after resume_too_old, starts over).
    };

    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.readyTimer) clearTimeout(this.readyTimer);
      if (this.stopped || refused) return;
      this.failures += 1;
      const state = this.reconnecting(Date.now());
      this.handlers.onState(state);
      this.retryTimer = setTimeout(() => this.connect(), state.retryAt - Date.now());
    };
  }

  private reconnecting(now: number): Extract<ConnectionState, { kind: 'reconnecting' }> {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, this.failures - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    return { kind: 'reconnecting', attempt: this.failures, retryAt: now + delay };
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.retryTimer = null;
    this.readyTimer = null;
  }
}

type Frame =
  | { type: 'ready'; positions: Record<LiveStreamName, string> }
  | { type: 'events'; events: LiveEvent[] }
  | { type: 'error'; error: string; message: string }
  | { type: 'unknown' };

/**
 * Checks a server frame against the contract. Events are checked one by one: one the page cannot
 * read is left out rather than losing the frame around it.
 */
function parseFrame(data: string): Frame {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { type: 'unknown' };
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type === 'events') {
    const raw = (json as { events?: unknown }).events;
    const events: LiveEvent[] = [];
    for (const candidate of Array.isArray(raw) ? raw : []) {
      const event = LiveEvent.safeParse(candidate);
      if (event.success) events.push(event.data);
      else console.warn('free-lunch: skipped a live event that does not match the contract', event.error);
    }
    return { type: 'events', events };
  }
  if (type === 'ready') {
    const ready = WsReadyMessage.safeParse(json);
    if (ready.success) return { type: 'ready', positions: ready.data.positions };
  }
  if (type === 'error') {
    const error = WsErrorMessage.safeParse(json);
    if (error.success) return error.data;
  }
  return { type: 'unknown' };
}
