/** Requests in flight per endpoint, within one process. */
export class ConcurrencyLimiter {
  private readonly inFlight = new Map<string, number>();

  /** A release function, or undefined when `max` requests are already in flight. No `max`: unlimited. */
  acquire(key: string, max?: number): (() => void) | undefined {
    const n = this.inFlight.get(key) ?? 0;
    if (max !== undefined && n >= max) return undefined;
    this.inFlight.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
  }

  count(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}
