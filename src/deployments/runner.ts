/**
 * Runs a deployment: the prepared plan's resources in dependency order (independent ones at the same time), each
 * through the engine as its own PUT, then the outputs and, in Complete mode, the deletions. Every step is written to
 * the deployment's stored state first, so a restarted server resumes where it was.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ErrorDetail } from '../arm/errors.js';
import { ArmError } from '../arm/errors.js';
import { keyOf } from '../arm/ids.js';
import { newEtag } from '../arm/etag.js';
import { BACKGROUND_COMMIT_ATTEMPTS, commitWithRetry } from '../arm/lro/commit.js';
import type { TypeRegistry } from '../arm/registry.js';
import type { StoredResource } from '../store/types.js';
import {
  prepareNested,
  prepareTemplate,
  type Json,
  type JsonObject,
  type PreparedTemplate,
  type ResourceInstance,
} from '../templates/index.js';
import { canonicalId, type Caller, type Gateway } from './gateway.js';
import { DeploymentTemplateContext } from './template-context.js';
import {
  ACTIVE,
  DEPLOYMENT_TYPE,
  deploymentId,
  newOperationId,
  renderDeployment,
  scopeKey,
  stateOf,
  statusName,
  templateHash,
  type DeploymentState,
  type DeploymentStatus,
  type ResourceOperation,
  type Scope,
} from './state.js';
import { DEPLOYMENT_MAX_CONCURRENCY, DEPLOYMENT_MAX_RESOURCES_TOTAL } from './limits.js';

const DEPLOYMENTS = DEPLOYMENT_TYPE.toLowerCase();
/** Body members a template resource has that are not the resource's (where it goes, how it is written). */
const NOT_SENT = ['scope', 'metadata', 'resourceGroup', 'subscriptionId', 'dependsOn'];
/** A deployment nobody has written to for this long is taken over by a process starting on a shared store. */
export const DEPLOYMENT_TAKEOVER_MS = 60_000;

/** Thrown to leave a run: the server stops (resume later) or the deployment was canceled. */
class Halted extends Error {}

/** One run of a top-level deployment, nested ones included. */
interface Run {
  key: string;
  cancelled: boolean;
  resources: number;
}

type Outcome = 'ok' | 'skipped' | 'failed' | 'blocked';

export const deploymentFailed = (id: string, details: ErrorDetail[]): ErrorDetail => ({
  code: 'DeploymentFailed',
  target: id,
  message:
    'At least one resource deployment operation failed. Please list deployment operations for details. ' +
    'Please see https://aka.ms/arm-deployment-operations for usage details.',
  details,
});

export function errorDetailOf(e: unknown): { status: number; error: ErrorDetail } {
  if (e instanceof ArmError) return { status: e.status, error: e.toBody().error };
  return { status: 500, error: { code: 'InternalServerError', message: 'An internal error occurred in amlite.' } };
}

export class DeploymentRunner {
  private readonly runs = new Map<string, { run: Run; done: Promise<void> }>();
  /** One writer at a time per deployment record in this process. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly gateway: Gateway,
    private readonly registry: TypeRegistry,
    private readonly log: FastifyBaseLogger,
  ) {}

  private get store() {
    return this.gateway.store;
  }

  /** Starts driving a top-level deployment in the background. */
  start(key: string): void {
    if (this.stopped || this.runs.has(key)) return;
    const run: Run = { key, cancelled: false, resources: 0 };
    const done = this.runTop(run)
      .catch((err) => {
        if (!(err instanceof Halted)) this.log.error({ err, deployment: key }, 'deployment runner failed');
      })
      .finally(() => this.runs.delete(key));
    this.runs.set(key, { run, done });
  }

  isRunning(key: string): boolean {
    return this.runs.has(key);
  }

  /** Tells this process's run of `key` to stop (the record is marked Canceled by the caller). */
  cancel(key: string): void {
    const r = this.runs.get(key);
    if (r) r.run.cancelled = true;
  }

  /** Resumes the deployments a stopped (or crashed) server left running; returns how many. */
  async resume(owner: string): Promise<number> {
    let after: string | undefined;
    let count = 0;
    for (;;) {
      const page = await this.store.listBelow('', DEPLOYMENT_TYPE, { after, limit: 200 });
      for (const r of page) {
        const s = stateOf(r);
        if (!s || !ACTIVE.includes(s.status) || s.parent) continue;
        if (this.store.shared && Date.now() - Date.parse(r.updatedAt) < DEPLOYMENT_TAKEOVER_MS) continue;
        // Claim it: on a shared store, one process of those starting together wins this write.
        const claimed = { ...r, internal: { ...r.internal, runner: owner }, etag: newEtag(), updatedAt: now() };
        if (!(await this.store.commit([{ op: 'update', resource: claimed, ifEtag: r.etag }]))) continue;
        this.start(r.key);
        count++;
      }
      if (page.length < 200) break;
      after = page.at(-1)!.key;
    }
    return count;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }

  // ---------- the state, written step by step ----------

  /** Read-modify-write of a deployment's state; Halted when it is no longer active (canceled) or we stop. */
  private update(key: string, change: (s: DeploymentState) => void, force = false): Promise<DeploymentState> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(() =>
        commitWithRetry(
          async () => {
            if (this.stopped && !force) throw new Halted();
            const r = await this.store.get(key);
            if (!r) throw new Halted();
            const s = structuredClone(stateOf(r));
            if (!force && !ACTIVE.includes(s.status)) throw new Halted();
            change(s);
            const resource: StoredResource = {
              ...r,
              internal: { ...r.internal, deployment: s },
              etag: newEtag(),
              updatedAt: now(),
            };
            return (await this.store.commit([{ op: 'update', resource, ifEtag: r.etag }])) ? s : undefined;
          },
          {
            attempts: BACKGROUND_COMMIT_ATTEMPTS,
            exhausted: () => new Error(`deployment ${key} kept losing races with other writers`),
          },
        ),
      );
    this.locks.set(key, next);
    // The caller handles `next`'s rejection (Halted when the server stops); this cleanup must not re-raise it.
    const release = () => {
      if (this.locks.get(key) === next) this.locks.delete(key);
    };
    next.then(release, release);
    return next;
  }

  private async finish(key: string, status: DeploymentStatus, extra: Partial<DeploymentState> = {}) {
    return this.update(key, (s) => {
      Object.assign(s, extra);
      s.status = status;
      s.endedAt = now();
      for (const op of s.operations) if (op.provisioningState === 'Running') op.provisioningState = 'Canceled';
    });
  }

  // ---------- running ----------

  private async runTop(run: Run): Promise<void> {
    const r = await this.store.get(run.key);
    if (!r) return;
    const s = stateOf(r);
    try {
      const ctx = await this.contextOf(r, s);
      const plan = prepareTemplate(s.template, ctx, { parameters: s.parameters, nesting: s.nesting });
      await this.update(run.key, (st) => {
        st.status = 'Running';
      });
      await this.executePlan(plan, ctx, run.key, run, s.mode);
    } catch (e) {
      if (e instanceof Halted) return this.haltedTop(run);
      const { error } = errorDetailOf(e);
      await this.finish(run.key, 'Failed', { error }).catch(() => {});
    }
  }

  private async haltedTop(run: Run): Promise<void> {
    if (!run.cancelled) return;
    // Canceled: what it had started inside (nested deployments) ends Canceled too.
    const r = await this.store.get(run.key);
    for (const op of r ? stateOf(r).operations : []) {
      if (op.target.resourceType !== DEPLOYMENT_TYPE) continue;
      await this.update(keyOf(op.target.id), (s) => {
        s.status = 'Canceled';
        s.endedAt = now();
      }).catch(() => {});
    }
  }

  /** The template context of a stored deployment: its scope's resource group read once. */
  private async contextOf(r: StoredResource, s: DeploymentState): Promise<DeploymentTemplateContext> {
    const group = s.scope.resourceGroup ? await this.groupOf(s.scope) : undefined;
    return new DeploymentTemplateContext(this.gateway, s.caller, s.scope, group, {
      name: r.name,
      location: r.body.location as string | undefined,
      template: s.template,
      templateHash: s.templateHash,
      parameters: s.reportedParameters,
      mode: s.mode,
    });
  }

  async groupOf(scope: Scope): Promise<JsonObject> {
    const g = await this.store.get(scopeKey(scope));
    if (!g)
      throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${scope.resourceGroup}' could not be found.`);
    return {
      id: g.id,
      name: g.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: g.body.location as Json,
      ...(g.body.managedBy !== undefined ? { managedBy: g.body.managedBy as Json } : {}),
      tags: (g.body.tags as Json) ?? {},
      properties: { provisioningState: 'Succeeded' },
    };
  }

  /**
   * Deploys `plan` into the deployment `key` and writes its end (Succeeded with outputs, or Failed); returns it.
   * Instances whose dependencies failed do not start; independent ones go on.
   */
  private async executePlan(
    plan: PreparedTemplate,
    ctx: DeploymentTemplateContext,
    key: string,
    run: Run,
    mode: DeploymentState['mode'],
  ): Promise<DeploymentStatus> {
    run.resources += plan.resources.length;
    if (run.resources > DEPLOYMENT_MAX_RESOURCES_TOTAL) {
      throw new ArmError(
        400,
        'DeploymentQuotaExceeded',
        `The deployment '${run.key}' deploys more than ${DEPLOYMENT_MAX_RESOURCES_TOTAL} resources, nested ` +
          'deployments included.',
      );
    }
    const initial = stateOf((await this.store.get(key))!);
    const outcome = new Map<string, Outcome>();
    for (const op of initial.operations) if (op.provisioningState === 'Succeeded' && op.key) outcome.set(op.key, 'ok');
    const deployedIds: string[] = [...(initial.outputResources ?? [])];
    const running = new Map<string, Promise<void>>();
    const resume = new Map(initial.operations.filter((o) => o.provisioningState === 'Running').map((o) => [o.key, o]));

    for (;;) {
      if (run.cancelled) throw new Halted();
      let changed = true;
      while (changed) {
        changed = false;
        for (const inst of plan.resources) {
          if (outcome.has(inst.key) || running.has(inst.key)) continue;
          const deps = inst.dependsOn.map((d) => outcome.get(d));
          if (deps.some((d) => d === undefined)) continue;
          if (deps.some((d) => d === 'failed' || d === 'blocked')) {
            outcome.set(inst.key, 'blocked');
            changed = true;
            continue;
          }
          if (running.size >= DEPLOYMENT_MAX_CONCURRENCY) break;
          const p = this.deployOne(plan, inst, ctx, key, run, resume.get(inst.key)).then(
            (result) => {
              if (result.outcome === 'ok') deployedIds.push(...result.ids);
              outcome.set(inst.key, result.outcome);
              running.delete(inst.key);
            },
            (err) => {
              running.delete(inst.key);
              throw err;
            },
          );
          running.set(inst.key, p);
        }
      }
      if (!running.size) break;
      await Promise.race(running.values());
    }

    const s = stateOf((await this.store.get(key))!);
    const failed = s.operations.filter((o) => o.provisioningState === 'Failed');
    const id = (await this.store.get(key))!.id;
    if (failed.length) {
      const details = failed.map((o) => ({
        ...((o.statusMessage as unknown as { error?: ErrorDetail })?.error ?? {}),
      }));
      await this.finish(key, 'Failed', { error: deploymentFailed(id, details as ErrorDetail[]) });
      return 'Failed';
    }
    if (mode === 'Complete' && ctx.scope.resourceGroup) {
      const deleted = await this.completeMode(plan, ctx, key, run, deployedIds);
      if (!deleted) {
        const after = stateOf((await this.store.get(key))!);
        const details = after.operations
          .filter((o) => o.provisioningState === 'Failed')
          .map((o) => (o.statusMessage as unknown as { error: ErrorDetail }).error);
        await this.finish(key, 'Failed', { error: deploymentFailed(id, details) });
        return 'Failed';
      }
    }
    let outputs: DeploymentState['outputs'];
    try {
      outputs = await ctx.evaluateWithFetch(() => plan.outputs(ctx));
    } catch (e) {
      if (e instanceof Halted) throw e;
      await this.finish(key, 'Failed', { error: errorDetailOf(e).error });
      return 'Failed';
    }
    await this.finish(key, 'Succeeded', { outputs, outputResources: unique(deployedIds) });
    return 'Succeeded';
  }

  /** One instance: its condition, its deferred values, then the PUT (or the nested deployment, or the read). */
  private async deployOne(
    plan: PreparedTemplate,
    planned: ResourceInstance,
    ctx: DeploymentTemplateContext,
    key: string,
    run: Run,
    resumed: ResourceOperation | undefined,
  ): Promise<{ outcome: Outcome; ids: string[] }> {
    if (planned.condition === false) return { outcome: 'skipped', ids: [] };
    const target = { id: canonicalId(planned.id), resourceType: planned.type, resourceName: planned.name };
    let inst = planned;
    try {
      if (planned.condition === 'deferred' || planned.deferred.length)
        inst = await ctx.evaluateWithFetch(() => plan.resolve(planned.key, ctx));
    } catch (e) {
      if (e instanceof Halted) throw e;
      await this.recordFailure(key, planned.key, target, e, 'Create');
      return { outcome: 'failed', ids: [] };
    }
    if (inst.condition === false) return { outcome: 'skipped', ids: [] };
    if (inst.existing) {
      try {
        ctx.remember(
          planned.id,
          (await this.gateway.get(callerOf(await this.stateOf(key)), target.id, inst.apiVersion)) as JsonObject,
        );
        return { outcome: 'ok', ids: [] };
      } catch (e) {
        await this.recordFailure(key, planned.key, target, e, 'Read');
        return { outcome: 'failed', ids: [] };
      }
    }
    if (inst.type.toLowerCase() === DEPLOYMENTS) return this.deployNested(plan, inst, ctx, key, run);
    return this.deployResource(inst, ctx, key, run, target, resumed);
  }

  private async stateOf(key: string): Promise<DeploymentState> {
    const r = await this.store.get(key);
    if (!r) throw new Halted();
    return stateOf(r);
  }

  private async deployResource(
    inst: ResourceInstance,
    ctx: DeploymentTemplateContext,
    key: string,
    run: Run,
    target: ResourceOperation['target'],
    resumed: ResourceOperation | undefined,
  ): Promise<{ outcome: Outcome; ids: string[] }> {
    const s = await this.stateOf(key);
    const caller = callerOf(s);
    const body: JsonObject = { ...inst.body };
    for (const m of NOT_SENT) delete body[m];
    const detail = String(s.debugSetting?.detailLevel ?? '').toLowerCase();
    const opId = resumed?.operationId ?? newOperationId();
    const started = resumed?.startedAt ?? now();
    const entry = (patch: Partial<ResourceOperation>): ResourceOperation => ({
      operationId: opId,
      key: inst.key,
      provisioningOperation: 'Create',
      provisioningState: 'Running',
      target: { ...target, apiVersion: inst.apiVersion },
      startedAt: started,
      ...(detail.includes('requestcontent') ? { request: body } : {}),
      ...patch,
    });
    await this.putOperation(key, entry({ resourceOperationId: resumed?.resourceOperationId }));
    try {
      let resourceOp = resumed?.resourceOperationId;
      let status = 200;
      if (!resourceOp || (await this.store.getOperation(resourceOp))?.status === undefined) {
        await this.waitForIdle(target.id, run);
        const put = await this.gateway.put(caller, target.id, inst.apiVersion, body);
        status = put.reply.status;
        resourceOp = put.operationId;
        if (resourceOp) await this.putOperation(key, entry({ resourceOperationId: resourceOp }));
      }
      if (resourceOp) {
        const op = await this.gateway.waitFor(resourceOp, () => run.cancelled || this.stopped);
        if (!op) throw new Halted();
        if (op.status !== 'Succeeded') {
          const error = op.error ?? { code: op.status, message: `The operation ended ${op.status}.` };
          await this.putOperation(
            key,
            entry({
              provisioningState: 'Failed',
              statusCode: 'Conflict',
              statusMessage: { status: 'Failed', error: { ...error, target: target.id } } as unknown as Json,
              endedAt: now(),
              resourceOperationId: resourceOp,
            }),
          );
          return { outcome: 'failed', ids: [] };
        }
      }
      const rendered = (await this.gateway.get(caller, target.id, inst.apiVersion)) as JsonObject;
      ctx.remember(inst.id, rendered);
      ctx.remember(target.id, rendered);
      await this.putOperation(
        key,
        entry({
          provisioningState: 'Succeeded',
          statusCode: statusName(status),
          statusMessage: { status: 'Succeeded' },
          endedAt: now(),
          resourceOperationId: resourceOp,
          ...(detail.includes('responsecontent') ? { response: rendered } : {}),
        }),
      );
      return { outcome: 'ok', ids: [target.id] };
    } catch (e) {
      if (e instanceof Halted) throw e;
      await this.recordFailure(key, inst.key, target, e, 'Create', opId, started);
      return { outcome: 'failed', ids: [] };
    }
  }

  /** A resource still owned by an operation (a run before a restart started it): wait for it to end first. */
  private async waitForIdle(id: string, run: Run): Promise<void> {
    const r = await this.store.get(keyOf(id));
    const pending = r?.internal.pendingOperation;
    if (pending && !(await this.gateway.waitFor(pending, () => run.cancelled || this.stopped))) throw new Halted();
  }

  private async deployNested(
    parentPlan: PreparedTemplate,
    inst: ResourceInstance,
    parentCtx: DeploymentTemplateContext,
    parentKey: string,
    run: Run,
  ): Promise<{ outcome: Outcome; ids: string[] }> {
    const parent = await this.stateOf(parentKey);
    const scope: Scope = {
      subscriptionId:
        typeof inst.body.subscriptionId === 'string' ? inst.body.subscriptionId : parent.scope.subscriptionId,
      resourceGroup: typeof inst.body.resourceGroup === 'string' ? inst.body.resourceGroup : parent.scope.resourceGroup,
    };
    const id = deploymentId(scope, inst.name);
    const target = { id, resourceType: DEPLOYMENT_TYPE, resourceName: inst.name };
    const opId = newOperationId();
    const started = now();
    const entry = (patch: Partial<ResourceOperation>): ResourceOperation => ({
      operationId: opId,
      key: inst.key,
      provisioningOperation: 'Create',
      provisioningState: 'Running',
      target,
      startedAt: started,
      ...patch,
    });
    await this.putOperation(parentKey, entry({}));
    try {
      if (!inst.nested)
        throw new ArmError(
          400,
          'InvalidTemplate',
          `The nested deployment '${inst.name}' has no inline template: templateLink is not supported offline.`,
        );
      const props = inst.body.properties as JsonObject;
      const template = props.template as JsonObject;
      const group = scope.resourceGroup ? await this.groupOf(scope) : undefined;
      const mode = String(props.mode ?? 'Incremental').toLowerCase() === 'complete' ? 'Complete' : 'Incremental';
      const ctx = parentCtx.child(scope, group, {
        name: inst.name,
        template,
        templateHash: templateHash(template),
        parameters: (props.parameters as JsonObject) ?? {},
        mode,
      });
      const plan = prepareNested(parentPlan, inst, ctx, parent.nesting + 1);
      const key = keyOf(id);
      await this.writeChild(key, id, inst, scope, parent, parentKey, plan, template, mode);
      let status: DeploymentStatus;
      try {
        status = await this.executePlan(plan, ctx, key, run, mode);
      } catch (e) {
        if (e instanceof Halted) throw e;
        await this.update(key, (s) => {
          s.status = 'Failed';
          s.endedAt = now();
          s.error = errorDetailOf(e).error;
        });
        status = 'Failed';
      }
      const child = (await this.store.get(key))!;
      const rendered = renderDeployment(child, new Date()) as JsonObject;
      parentCtx.remember(inst.id, rendered);
      parentCtx.remember(id, rendered);
      const cs = stateOf(child);
      if (status !== 'Succeeded') {
        await this.putOperation(
          parentKey,
          entry({
            provisioningState: 'Failed',
            statusCode: 'Conflict',
            statusMessage: { status: 'Failed', error: (cs.error ?? {}) as Json },
            endedAt: now(),
          }),
        );
        return { outcome: 'failed', ids: [] };
      }
      await this.putOperation(
        parentKey,
        entry({
          provisioningState: 'Succeeded',
          statusCode: 'OK',
          statusMessage: { status: 'Succeeded' },
          endedAt: now(),
        }),
      );
      return { outcome: 'ok', ids: cs.outputResources ?? [] };
    } catch (e) {
      if (e instanceof Halted) throw e;
      await this.recordFailure(parentKey, inst.key, target, e, 'Create', opId, started);
      return { outcome: 'failed', ids: [] };
    }
  }

  /** The nested deployment's own history entry, written fresh for this run. */
  private async writeChild(
    key: string,
    id: string,
    inst: ResourceInstance,
    scope: Scope,
    parent: DeploymentState,
    parentKey: string,
    plan: PreparedTemplate,
    template: JsonObject,
    mode: DeploymentState['mode'],
  ): Promise<void> {
    const props = inst.body.properties as JsonObject;
    const state: DeploymentState = {
      operationId: newOperationId(),
      status: 'Running',
      scope,
      template,
      parameters: (props.parameters as DeploymentState['parameters']) ?? {},
      reportedParameters: plan.reportedParameters(),
      mode,
      correlationId: parent.correlationId,
      templateHash: templateHash(template),
      startedAt: now(),
      caller: parent.caller,
      operations: [],
      dependencies: dependenciesOf(plan),
      providers: providersOf(plan),
      parent: parentKey,
      nesting: parent.nesting + 1,
    };
    const stamp = now();
    await commitWithRetry(
      async () => {
        const existing = await this.store.get(key);
        const resource: StoredResource = {
          key,
          id,
          name: inst.name,
          parentKey: scopeKey(scope),
          type: DEPLOYMENT_TYPE,
          body: {},
          systemData: existing?.systemData ?? systemData(parent, stamp),
          internal: { deployment: state },
          etag: newEtag(),
          createdAt: existing?.createdAt ?? stamp,
          updatedAt: stamp,
        };
        const write = existing
          ? ({ op: 'update', resource, ifEtag: existing.etag } as const)
          : ({ op: 'insert', resource } as const);
        return (await this.store.commit([write])) ? true : undefined;
      },
      { attempts: BACKGROUND_COMMIT_ATTEMPTS, exhausted: () => new Error(`could not write deployment ${id}`) },
    );
  }

  /** Complete mode: what the resource group holds of amlite's types and the template no longer names goes. */
  private async completeMode(
    plan: PreparedTemplate,
    ctx: DeploymentTemplateContext,
    key: string,
    run: Run,
    deployedIds: string[],
  ): Promise<boolean> {
    const keep = new Set([...plan.resources.map((r) => keyOf(canonicalId(r.id))), ...deployedIds.map(keyOf)]);
    const groupKey = scopeKey(ctx.scope);
    const candidates: StoredResource[] = [];
    for (const t of this.registry.providerTypes) {
      let after: string | undefined;
      for (;;) {
        const page = await this.store.listBelow(groupKey, t.type, { after, limit: 500 });
        candidates.push(...page.filter((r) => !keep.has(r.key)));
        if (page.length < 500) break;
        after = page.at(-1)!.key;
      }
    }
    // Deleting a parent deletes what is below it.
    const doomed = candidates.filter((r) => !candidates.some((p) => p !== r && r.key.startsWith(`${p.key}/`)));
    const caller = callerOf(await this.stateOf(key));
    let ok = true;
    for (const r of doomed) {
      const opId = newOperationId();
      const started = now();
      const entry = (patch: Partial<ResourceOperation>): ResourceOperation => ({
        operationId: opId,
        key: '',
        provisioningOperation: 'Delete',
        provisioningState: 'Running',
        target: { id: r.id, resourceType: r.type, resourceName: r.name },
        startedAt: started,
        ...patch,
      });
      await this.putOperation(key, entry({}));
      try {
        const resourceOp = await this.gateway.delete(caller, r.id);
        const op = resourceOp ? await this.gateway.waitFor(resourceOp, () => run.cancelled || this.stopped) : undefined;
        if (resourceOp && !op) throw new Halted();
        if (op && op.status !== 'Succeeded')
          throw new ArmError(409, op.error?.code ?? 'Conflict', op.error?.message ?? 'The delete failed.');
        ctx.forget(r.id);
        await this.putOperation(key, entry({ provisioningState: 'Succeeded', statusCode: 'OK', endedAt: now() }));
      } catch (e) {
        if (e instanceof Halted) throw e;
        await this.recordFailure(key, '', entry({}).target, e, 'Delete', opId, started);
        ok = false;
      }
    }
    return ok;
  }

  private putOperation(key: string, op: ResourceOperation): Promise<DeploymentState> {
    return this.update(key, (s) => {
      const i = s.operations.findIndex((o) => o.operationId === op.operationId);
      if (i < 0) s.operations.push(op);
      else s.operations[i] = op;
    });
  }

  private async recordFailure(
    key: string,
    instKey: string,
    target: ResourceOperation['target'],
    e: unknown,
    provisioningOperation: ResourceOperation['provisioningOperation'],
    operationId = newOperationId(),
    startedAt = now(),
  ): Promise<void> {
    if (!(e instanceof ArmError)) this.log.error({ err: e, deployment: key }, 'a deployment step failed unexpectedly');
    const { status, error } = errorDetailOf(e);
    await this.putOperation(key, {
      operationId,
      key: instKey,
      provisioningOperation,
      provisioningState: 'Failed',
      target,
      statusCode: statusName(status),
      statusMessage: { status: 'Failed', error: { ...error, target: error.target ?? target.id } } as unknown as Json,
      startedAt,
      endedAt: now(),
    });
  }
}

const now = () => new Date().toISOString();
const unique = (ids: string[]) => [...new Map(ids.map((id) => [keyOf(id), id])).values()];
const callerOf = (s: DeploymentState): Caller => s.caller;

function systemData(parent: DeploymentState, at: string) {
  const { name, type } = parent.caller.principal;
  return {
    createdBy: name,
    createdByType: type,
    createdAt: at,
    lastModifiedBy: name,
    lastModifiedByType: type,
    lastModifiedAt: at,
  };
}

/** ARM's `dependencies`: each resource with what it waits for. */
export function dependenciesOf(plan: PreparedTemplate): Json[] {
  const byKey = new Map(plan.resources.map((r) => [r.key, r]));
  return plan.resources
    .filter((r) => r.dependsOn.length)
    .map((r) => ({
      dependsOn: r.dependsOn
        .map((d) => byKey.get(d))
        .filter((d): d is ResourceInstance => d !== undefined)
        .map((d) => ({ id: canonicalId(d.id), resourceType: d.type, resourceName: d.name })),
      id: canonicalId(r.id),
      resourceType: r.type,
      resourceName: r.name,
    }));
}

/** ARM's `providers`: the namespaces and types the template deploys, with their locations. */
export function providersOf(plan: PreparedTemplate): Json[] {
  const byNamespace = new Map<string, Map<string, Set<string>>>();
  for (const r of plan.resources) {
    const [ns, ...rest] = r.type.split('/');
    const types = byNamespace.get(ns) ?? new Map<string, Set<string>>();
    byNamespace.set(ns, types);
    const locations = types.get(rest.join('/')) ?? new Set<string>();
    types.set(rest.join('/'), locations);
    if (typeof r.body.location === 'string') locations.add(r.body.location);
  }
  return [...byNamespace].map(([namespace, types]) => ({
    namespace,
    resourceTypes: [...types].map(([resourceType, locations]) => ({ resourceType, locations: [...locations] })),
  }));
}
