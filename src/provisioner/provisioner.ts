import type { FastifyBaseLogger } from 'fastify';
import type { OperationRecord, Store, StoredResource, Write } from '../store/types.js';
import type { ResourceType } from '../arm/resource-type.js';
import { newEtag } from '../arm/etag.js';
import type { Profile } from './profiles.js';

/** Drives accepted operations to a terminal state, on a timer and on demand; resumes open ones after a restart. */
export class Provisioner {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly typeOf: (type: string) => ResourceType | undefined,
    private readonly profile: Profile,
    private readonly now: () => Date,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Picks up what a previous process accepted and did not finish. The profile in force now sets the pace. */
  async resume(): Promise<number> {
    const open = await this.store.openOperations();
    for (const op of open) {
      const due = Math.min(op.dueAt, Date.parse(op.startTime) + this.profile.delayMs[op.kind]);
      const resumed = { ...op, dueAt: due };
      if (due !== op.dueAt) await this.store.commit([{ op: 'putOperation', operation: resumed }]);
      this.schedule(resumed);
    }
    return open.length;
  }

  schedule(op: OperationRecord): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(op.id));
    const wait = Math.max(0, op.dueAt - this.now().getTime());
    const timer = setTimeout(() => {
      this.timers.delete(op.id);
      this.complete(op.id, true).catch((err) => this.log.error({ err, operation: op.id }, 'operation failed to complete'));
    }, wait);
    timer.unref();
    this.timers.set(op.id, timer);
  }

  /** Completes the operation now if it is due: readers call this so a due operation never shows as running. */
  async settle(opId: string | undefined): Promise<void> {
    if (!opId) return;
    const op = await this.store.getOperation(opId);
    if (op && op.status === 'InProgress' && op.dueAt <= this.now().getTime()) await this.complete(opId, false);
  }

  /** One completion per operation at a time; a second caller waits for the first. */
  complete(opId: string, fromTimer: boolean): Promise<void> {
    let p = this.running.get(opId);
    if (!p) {
      p = this.run(opId, fromTimer).finally(() => this.running.delete(opId));
      this.running.set(opId, p);
    }
    return p;
  }

  private async run(opId: string, fromTimer: boolean): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const op = await this.store.getOperation(opId);
      if (!op || op.status !== 'InProgress') return;
      if (!fromTimer && op.dueAt > this.now().getTime()) return;
      const resource = await this.store.get(op.resourceKey);
      const writes = this.finish(op, resource);
      writes.push({ op: 'putOperation', operation: { ...op, status: 'Succeeded', endTime: this.now().toISOString() } });
      if (await this.store.commit(writes)) {
        clearTimeout(this.timers.get(opId));
        this.timers.delete(opId);
        this.log.debug({ operation: op.id, kind: op.kind, resource: op.resourceId }, 'operation succeeded');
        return;
      }
    }
    throw new Error(`operation ${opId} kept losing races with other writers`);
  }

  /** The writes that take the resource to its terminal state. */
  private finish(op: OperationRecord, resource: StoredResource | undefined): Write[] {
    // The resource moved on (deleted, or another operation owns it now): only the operation record changes.
    if (!resource || resource.internal.pendingOperation !== op.id) return [];
    if (op.kind === 'delete') return [{ op: 'deleteTree', key: op.resourceKey }];
    const type = this.typeOf(op.resourceType);
    let next: StoredResource = resource;
    if (op.kind === 'action') {
      const action = type?.actions?.find((a) => a.path === op.action);
      if (action?.complete) next = action.complete(resource, op);
    } else if (type) {
      const properties = { ...(resource.body.properties as object), ...type.lifecycle('succeeded') };
      next = { ...resource, body: { ...resource.body, properties } };
    }
    const { pendingOperation: _, ...internal } = next.internal;
    return [{ op: 'update', ifEtag: resource.etag, resource: { ...next, internal, etag: newEtag() } }];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }
}
