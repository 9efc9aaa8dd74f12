import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Group commit for the SQLite file store. Commits run with `synchronous = NORMAL` (SQLite writes the WAL but does
 * not fsync it); `durable()` then waits for one fsync of the WAL that began after the caller's commit. Every commit
 * made while an fsync runs joins the next one, so N concurrent writers pay for about one fsync, not N, and the
 * fsync runs on libuv's thread pool while the event loop serves other requests. The WAL is appended in commit
 * order, so an fsync that covers a commit covers every commit before it.
 */
export class GroupSync {
  private fd: number | undefined;
  /** Commits made so far, and how many of them the last finished fsync covered. */
  private written = 0;
  private synced = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly walPath: string) {}

  /** Counts a commit (or any write) as made: the next fsync covers it. */
  noteWrite(): void {
    this.written++;
  }

  /** Resolves once every write noted before the call is on disk. */
  async durable(): Promise<void> {
    const target = this.written;
    while (this.synced < target) {
      this.running ??= this.flush();
      await this.running;
    }
  }

  private async flush(): Promise<void> {
    const upTo = this.written;
    try {
      const fd = this.open();
      await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
      this.synced = upTo;
    } finally {
      this.running = undefined;
    }
  }

  /** The WAL's descriptor, opened on the first fsync (SQLite creates the file); its directory entry synced once. */
  private open(): number {
    if (this.fd !== undefined) return this.fd;
    const fd = openSync(this.walPath, 'r+');
    const dir = openSync(dirname(this.walPath), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return (this.fd = fd);
  }

  /** Waits for a running fsync, then closes the descriptor (before SQLite deletes the WAL on close). */
  async close(): Promise<void> {
    await this.running?.catch(() => {});
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
