/** Why a socket got no place: the replica holds its most, or this client address does. */
export type FullReason = 'replica_full' | 'address_full';

export type Place = { ok: true; release: () => void } | { ok: false; reason: FullReason };

/**
 * Counts the live view sockets this replica holds, in all and per client address, so that one
 * client (or a crowd) opening sockets by the thousand cannot take the memory and the feed's frames
 * from the rest. In memory and per replica: the load balancer spreads clients over replicas.
 */
export class SocketCaps {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: { max: number; maxPerAddress: number }) {}

  /** Sockets holding a place now. */
  get open(): number {
    return this.total;
  }

  /** A place for a socket from `address`; its `release` may be called any number of times, it counts once. */
  take(address: string): Place {
    if (this.total >= this.limits.max) return { ok: false, reason: 'replica_full' };
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxPerAddress) return { ok: false, reason: 'address_full' };
    this.total += 1;
    this.perAddress.set(address, fromAddress + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left === 0) this.perAddress.delete(address);
        else this.perAddress.set(address, left);
      },
    };
  }
}
