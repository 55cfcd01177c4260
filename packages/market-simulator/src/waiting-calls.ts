import type { FastifyReply } from 'fastify';

interface WaitingCall {
  reply: FastifyReply;
  timer: NodeJS.Timeout;
}

/**
 * Calls the market is making wait (latency, or a `timeout` fault's hang). Kept so that closing
 * the server cuts them off at once, as a market going down would, instead of holding the
 * shutdown for as long as the longest wait.
 */
export class WaitingCalls {
  private readonly calls = new Set<WaitingCall>();

  /** Runs `answer` after `ms`, unless the caller hangs up or the server closes first. */
  wait(reply: FastifyReply, ms: number, answer: (reply: FastifyReply) => void): void {
    const call: WaitingCall = {
      reply,
      timer: setTimeout(() => {
        this.calls.delete(call);
        answer(reply);
      }, ms),
    };
    this.calls.add(call);
    // A caller that gave up must not keep a timer and its reply alive for the rest of the hang.
    reply.raw.once('close', () => {
      clearTimeout(call.timer);
      this.calls.delete(call);
    });
  }

  /** Drops every waiting call's connection; the callers see it reset. */
  cutOffAll(): void {
    for (const call of this.calls) {
      clearTimeout(call.timer);
      call.reply.raw.destroy();
    }
    this.calls.clear();
  }

  get size(): number {
    return this.calls.size;
  }
}
