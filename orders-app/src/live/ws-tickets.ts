import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long a ticket may wait before it is presented: enough to open a socket, too short to leak usefully. */
export const WS_TICKET_TTL_MS = 30_000;

const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Single-use tickets that stand in for the manager token on `/ws`, where a browser cannot send an
 * Authorization header (and a token in the URL would end up in access logs). Kept in Redis so any
 * replica behind the load balancer can redeem a ticket another one issued.
 */
export class WsTickets {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** A new ticket, valid once within {@link WS_TICKET_TTL_MS}. */
  async issue(): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    await this.redis.set(this.key(ticket), '1', 'PX', WS_TICKET_TTL_MS);
    return ticket;
  }

  /** True once per issued, unexpired ticket: GETDEL reads and deletes it in one atomic step. */
  async redeem(ticket: string): Promise<boolean> {
    if (!TICKET_SHAPE.test(ticket)) return false;
    return (await this.redis.getdel(this.key(ticket))) !== null;
  }

  private key(ticket: string): string {
    return `${this.prefix}ws-ticket:${ticket}`;
  }
}
