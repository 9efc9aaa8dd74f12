import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { OperationRecord, Store, StoredResource, Write } from '../store/types.js';
import type { ResourceType } from '../arm/resource-type.js';
import { newEtag } from '../arm/etag.js';
import { BACKGROUND_COMMIT_ATTEMPTS, commitWithRetry } from '../arm/lro/commit.js';
import type { Profile } from './profiles.js';

export interface ProvisionerOptions {
  /** How often a process on a shared store looks for operations nobody drives (accepted by a process that died). */
  pollMs: number;
  /** How long a claim on an operation lasts unless renewed; a dead owner's operations are taken over after it. */
  leaseMs: number;
  /** This process's name in the operations' owner column (default: host, pid and a random part). */
  owner?: string;
}

export const PROVISIONER_DEFAULTS: ProvisionerOptions = { pollMs: 250, leaseMs: 5_000 };

/** At most this many operations are claimed per look. */
const CLAIM_BATCH = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Drives accepted operations to a terminal state, on a timer and on demand ("settle on read").
 *
 * On a single-process store (SQLite) this process drives every open operation, and after a restart takes all of
 * them back. On a shared store (PostgreSQL) each open operation is driven by one process at a time, the holder of
 * its lease: the process that accepted it claims it at once, renews the lease while the operation runs, and
 * completes it when it is due; every process also polls for operations whose lease ended (their owner died, or
 * stopped and released them) and takes them over. Completion itself is a conditional commit (the resource's ETag,
 * and the operation still InProgress), so a reader settling a due operation in another process, or a slow former
 * owner, can never complete an operation twice.
 */
export class Provisioner {
  readonly owner: string;
  private readonly options: ProvisionerOptions;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  /** Operations whose lease this process holds. */
  private readonly held = new Set<string>();
  /** Claims of just-accepted operations still on their way to the store. */
  private readonly claiming = new Set<Promise<unknown>>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastRenewal = 0;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly typeOf: (type: string) => ResourceType | undefined,
    private readonly profile: Profile,
    private readonly now: () => Date,
    private readonly log: FastifyBaseLogger,
    options: Partial<ProvisionerOptions> = {},
  ) {
    this.options = { ...PROVISIONER_DEFAULTS, ...options };
    this.owner = this.options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /**
   * Takes over the open operations nobody drives (accepted by a process that stopped or died); on a shared store,
   * keeps doing so every `pollMs`. The profile in force here sets the pace of what it takes over.
   */
  async resume(): Promise<number> {
    let taken = 0;
    if (!this.store.shared) {
      // One process on the store: every open operation is this process's to finish; no lease is needed.
      for (const op of await this.store.openOperations()) if (await this.take(op, true)) taken++;
      return taken;
    }
    for (;;) {
      const batch = await this.store.claimOperations(
        this.owner,
        this.now().getTime(),
        this.options.leaseMs,
        CLAIM_BATCH,
      );
      for (const op of batch) if (await this.take(op, true)) taken++;
      if (batch.length < CLAIM_BATCH) break;
    }
    this.schedulePoll();
    return taken;
  }

  /** An operation this process just accepted: claim it and complete it when it is due. */
  schedule(op: OperationRecord): void {
    if (this.stopped) return;
    if (this.store.shared && op.dueAt <= this.now().getTime()) {
      // Due already (the fast profile): completed at once from the record in hand, without a lease. A lease would be
      // one more durable commit and a read per request; should this process die first, the operation is open,
      // unowned and due, which is what every process's poll claims. Completion is conditional either way.
      const completing = this.complete(op.id, true, op)
        .catch((err) => this.log.error({ err, operation: op.id }, 'operation failed to complete'))
        .finally(() => this.claiming.delete(completing));
      this.claiming.add(completing);
      return;
    }
    // On a single-process store there is nobody to keep out: no lease is written (SQLite would sync it to disk).
    const claim = this.store.shared
      ? this.store.claimOperation(op.id, this.owner, this.now().getTime(), this.options.leaseMs)
      : Promise.resolve(op);
    const claiming = claim
      .then((claimed) => (claimed ? this.take(claimed, false) : false))
      .catch((err) => this.log.error({ err, operation: op.id }, 'could not claim an operation'))
      .finally(() => this.claiming.delete(claiming));
    this.claiming.add(claiming);
  }

  /** Completes the operation now if it is due: readers call this so a due operation never shows as running. */
  async settle(opId: string | undefined): Promise<void> {
    if (!opId) return;
    const op = await this.store.getOperation(opId);
    if (op && op.status === 'InProgress' && op.dueAt <= this.now().getTime()) await this.complete(opId, false);
  }

  /** One completion per operation at a time in this process; a second caller waits for the first. */
  complete(opId: string, fromTimer: boolean, known?: OperationRecord): Promise<void> {
    let p = this.running.get(opId);
    if (!p) {
      p = this.run(opId, fromTimer, known).finally(() => this.running.delete(opId));
      this.running.set(opId, p);
    }
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.polling?.catch(() => {});
    await Promise.allSettled([...this.claiming, ...this.running.values()]);
    // Hand the rest over now rather than when the leases lapse.
    const held = [...this.held];
    this.held.clear();
    await this.store
      .releaseLeases(this.owner, held)
      .catch((err) => this.log.warn({ err }, 'could not release operation leases'));
  }

  /**
   * Holds a claimed operation and times its completion. One taken over from another (or an earlier) process goes
   * at this process's profile's pace, unless a test-control rule holds it.
   */
  private async take(claimed: OperationRecord, takeover: boolean): Promise<boolean> {
    // Held from the claim on, so that stop() releases it even when stopping overtakes what follows.
    this.held.add(claimed.id);
    if (this.stopped) return false;
    let op = claimed;
    const due =
      takeover && !op.heldBy ? Math.min(op.dueAt, Date.parse(op.startTime) + this.profile.delayMs[op.kind]) : op.dueAt;
    if (due !== op.dueAt) {
      op = { ...op, dueAt: due };
      // Only while it is still open: another process may have completed it since the claim.
      if (!(await this.store.commit([{ op: 'putOperation', operation: op, ifInProgress: true }]))) {
        this.held.delete(op.id);
        return false;
      }
    }
    this.setTimer(op);
    return true;
  }

  private setTimer(op: OperationRecord): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(op.id));
    const wait = Math.max(0, op.dueAt - this.now().getTime());
    // setTimeout fires at once past 2^31-1 ms (about 24.8 days): wait that long, then again.
    const timer =
      wait > MAX_TIMER_MS
        ? setTimeout(() => this.setTimer(op), MAX_TIMER_MS)
        : setTimeout(() => {
            this.timers.delete(op.id);
            this.complete(op.id, true).catch((err) =>
              this.log.error({ err, operation: op.id }, 'operation failed to complete'),
            );
          }, wait);
    timer.unref();
    this.timers.set(op.id, timer);
  }

  /** Stops driving an operation (it finished, here or elsewhere, or another process took it over). */
  private drop(opId: string): void {
    clearTimeout(this.timers.get(opId));
    this.timers.delete(opId);
    this.held.delete(opId);
  }

  /** `known`: the operation as this process just wrote it, read from the store only if that first try loses. */
  private async run(opId: string, fromTimer: boolean, known?: OperationRecord): Promise<void> {
    let first = known;
    const attempt = () => {
      const op = first;
      first = undefined;
      return this.attempt(opId, fromTimer, op);
    };
    await commitWithRetry(attempt, {
      attempts: BACKGROUND_COMMIT_ATTEMPTS,
      exhausted: () => new Error(`operation ${opId} kept losing races with other writers`),
    });
  }

  /** One try at completing the operation: true when there is nothing (more) to do, undefined when a commit lost. */
  private async attempt(opId: string, fromTimer: boolean, known?: OperationRecord): Promise<true | undefined> {
    const op = known ?? (await this.store.getOperation(opId));
    if (!op || op.status !== 'InProgress') {
      this.drop(opId);
      return true;
    }
    if (!fromTimer && op.dueAt > this.now().getTime()) return true;
    const resource = await this.store.get(op.resourceKey);
    const { writes, ended } = this.ending(op, resource);
    if (op.kind === 'delete' && !op.failWith && resource && writes.length) {
      const also = (await this.typeOf(op.resourceType)?.deletesWith?.(this.store, resource)) ?? [];
      writes.push(...also.map((key): Write => ({ op: 'deleteTree', key })));
    }
    const { status } = ended;
    writes.push({ op: 'putOperation', ifInProgress: true, operation: ended });
    if (!(await this.store.commit(writes))) return undefined;
    this.drop(opId);
    this.log.debug(
      { operation: op.id, kind: op.kind, resource: op.resourceId, owner: this.owner, status },
      `operation ${status.toLowerCase()}`,
    );
    return true;
  }

  /**
   * How an operation that was not made to fail ends: Succeeded, unless what it was changing is gone (a parent's
   * delete took it) or belongs to another operation now, which cancels it. A delete whose resource is gone did its job.
   */
  private outcome(op: OperationRecord, resource?: StoredResource): Pick<OperationRecord, 'status' | 'error'> {
    if (op.kind === 'delete' || resource?.internal.pendingOperation === op.id) return { status: 'Succeeded' };
    const why = resource ? 'is owned by another operation now' : 'was deleted (or its parent was) before it completed';
    const message = `The operation was canceled: the resource '${op.resourceId}' ${why}.`;
    return { status: 'Canceled', error: { code: 'OperationCanceled', message } };
  }

  /** The writes that take the resource to its terminal state. */
  private finish(op: OperationRecord, resource: StoredResource | undefined): Write[] {
    // The resource moved on (deleted, or another operation owns it now): only the operation record changes.
    if (!resource || resource.internal.pendingOperation !== op.id) return [];
    if (op.kind === 'delete') return [{ op: 'deleteTree', key: op.resourceKey }];
    const type = this.typeOf(op.resourceType);
    let next: StoredResource = resource;
    if (op.kind === 'action') {
      const action = type?.operations.actions?.find((a) => a.path === op.action);
      if (action?.complete) next = action.complete(resource, op);
    } else if (type) {
      const properties = { ...(resource.body.properties as object), ...type.lifecycle('succeeded') };
      next = { ...resource, body: { ...resource.body, properties } };
    }
    const { pendingOperation: _, ...internal } = next.internal;
    return [{ op: 'update', ifEtag: resource.etag, resource: { ...next, internal, etag: newEtag() } }];
  }

  /** A test-control failure: the resource stays, in its type's failed state for this kind of operation. */
  private fail(op: OperationRecord, resource: StoredResource | undefined): Write[] {
    if (!resource || resource.internal.pendingOperation !== op.id) return [];
    const type = this.typeOf(op.resourceType);
    const phase = op.kind === 'create' ? 'failed' : op.kind === 'delete' ? 'deleteFailed' : 'updateFailed';
    const properties = { ...(resource.body.properties as object), ...type?.lifecycle(phase) };
    const { pendingOperation: _, ...internal } = resource.internal;
    return [
      {
        op: 'update',
        ifEtag: resource.etag,
        resource: { ...resource, body: { ...resource.body, properties }, internal, etag: newEtag() },
      },
    ];
  }

  /**
   * For an operation being accepted that is due at once (the fast profile) and not held by a test-control rule: the
   * resource and the operation record as it ends, for the accepting commit to write instead of the accepted ones. The
   * request still answers with the accepted state (201/202 and Creating, Updating…), and the client's first poll
   * finds the operation ended, as after a timer, but for one commit (one fsync, half the rows) instead of two, with
   * nothing left to schedule and no window where a crash leaves it open. Undefined when it must run on its own: not
   * due yet, held, or a delete (whose cascade reads the store).
   */
  endsWithAcceptance(
    op: OperationRecord,
    resource: StoredResource,
  ): { resource: StoredResource; operation: OperationRecord } | undefined {
    if (op.kind === 'delete' || op.heldBy || op.dueAt > this.now().getTime()) return undefined;
    const { writes, ended } = this.ending(op, resource);
    // finish() and fail() update the resource they are given, once.
    const update = writes.find((w) => w.op === 'update');
    return { resource: update?.op === 'update' ? update.resource : resource, operation: ended };
  }

  /** The resource's writes and the operation's record that end `op`: made to fail, or as it ends by itself. */
  private ending(
    op: OperationRecord,
    resource: StoredResource | undefined,
  ): { writes: Write[]; ended: OperationRecord } {
    const writes = op.failWith ? this.fail(op, resource) : this.finish(op, resource);
    const outcome = op.failWith ? { status: 'Failed' as const, error: op.failWith } : this.outcome(op, resource);
    return { writes, ended: { ...op, ...outcome, endTime: this.now().toISOString() } };
  }

  // ---------- shared stores: look for orphans, keep leases alive ----------

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.poll()
        .catch((err) => this.log.warn({ err }, 'looking for operations to drive failed; trying again'))
        .finally(() => {
          this.polling = undefined;
          this.schedulePoll();
        });
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    const now = this.now().getTime();
    // Renew well before the leases lapse (a third of the way); drop what another process completed or took over.
    if (this.held.size && now - this.lastRenewal >= this.options.leaseMs / 3) {
      const ids = [...this.held];
      const kept = new Set(await this.store.renewLeases(this.owner, ids, now, this.options.leaseMs));
      this.lastRenewal = now;
      for (const id of ids) if (!kept.has(id) && !this.running.has(id)) this.drop(id);
    }
    if (this.stopped) return;
    const claimed = await this.store.claimOperations(this.owner, now, this.options.leaseMs, CLAIM_BATCH);
    for (const op of claimed) {
      // Held already, or being completed here (a due operation is completed without a lease; see schedule).
      if (this.held.has(op.id) || this.running.has(op.id)) continue;
      if (await this.take(op, true))
        this.log.info(
          { operation: op.id, kind: op.kind, resource: op.resourceId, owner: this.owner },
          'took over an operation nobody was driving',
        );
    }
  }
}
