import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OperationRecord, OperationStatus, Store } from '../store/types.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import type { Principal } from '../arm/context.js';
import { ArmError, errors } from '../arm/errors.js';
import { validate } from '../arm/schema.js';
import { newEtag } from '../arm/etag.js';
import { isPlainObject } from '../arm/merge-patch.js';
import { keyOf } from '../arm/ids.js';
import { RuleError, RuleInput, normalizeRule, type Rule } from './rules.js';
import { BACKGROUND_COMMIT_ATTEMPTS, commitWithRetry } from '../arm/lro/commit.js';
import type { TestControl } from './control.js';
import type { StrictAuth } from '../auth/strict.js';

export interface ControlDeps {
  control: TestControl;
  store: Store;
  provisioner: Provisioner;
  /** The management plane's authentication: the control API is guarded the same way. */
  authenticate(req: FastifyRequest): Principal | Promise<Principal>;
  /** Strict mode: the control API then acts for the caller's tenant only (see tenantScope). */
  strict?: StrictAuth;
}

const SERVERLESS = 'microsoft.machinelearningservices/workspaces/serverlessendpoints';
const STATES = ['Online', 'Suspended'];
const OPERATION_STATUSES: readonly OperationStatus[] = ['InProgress', 'Succeeded', 'Failed', 'Canceled'];
/** GET /_amlite/operations: the default and the largest `limit` (the most recent operations, newest first). */
export const OPERATIONS_LIST_DEFAULT = 100;
export const OPERATIONS_LIST_MAX = 1000;

/**
 * Strict mode scopes the control API to the caller's tenant, as ARM scopes a token to its tenant's subscriptions:
 * - operations are listed only when their subscription belongs to the caller's tenant; releasing one, or setting an
 *   endpoint's state, in another tenant's subscription is 401 InvalidAuthenticationTokenTenant (ARM's answer for
 *   that subscription; a subscription nobody has used yet becomes the caller's, as on the management plane);
 * - a rule must name one subscription (`match.subscription`), which must be the caller's tenant's: a rule for every
 *   subscription would act on other tenants. Rules of other tenants are neither listed nor readable (404) nor
 *   deletable (204, as for a rule that is not there); rules without a subscription (from `--rules`, or made before
 *   strict mode) are listed to everyone and changed by nobody through the API (403);
 * - `reset` removes the caller's tenant's rules and releases its held operations only.
 * Loose and none modes are unscoped: any caller can name any tenant there anyway.
 */
interface TenantScope {
  tenant: string;
  owns(subscriptionId: string): Promise<boolean>;
  /** 401 InvalidAuthenticationTokenTenant unless the subscription is (or now becomes) the caller's tenant's. */
  require(subscriptionId: string): Promise<void>;
}

/**
 * The control API under /_amlite: rules (fail, delay, throttle), releasing held operations, and moving a
 * serverless endpoint between Online and Suspended. Same authentication as the management plane.
 */
export async function controlRoutes(app: FastifyInstance, deps: ControlDeps): Promise<void> {
  const { control, store, provisioner, strict } = deps;
  const scopes = new WeakMap<FastifyRequest, TenantScope>();
  app.addHook('preHandler', async (req) => {
    const principal = await deps.authenticate(req);
    if (!strict) return;
    const tenant = principal.tenantId.toLowerCase();
    const origin = `${req.protocol}://${req.host}`;
    scopes.set(req, {
      tenant,
      owns: async (sub) => (await strict.bindings.tenantOf(sub)) === tenant,
      require: (sub) => strict.requireTenant(sub, principal.tenantId, origin),
    });
  });
  const scopeOf = (req: FastifyRequest) => scopes.get(req);

  /** Strict mode: whose rule it is. Unscoped, every rule is the caller's. */
  async function ruleOwner(req: FastifyRequest, rule: Rule): Promise<'mine' | 'global' | 'other'> {
    const scope = scopeOf(req);
    if (!scope) return 'mine';
    const sub = rule.match?.subscription;
    if (!sub) return 'global';
    return (await scope.owns(sub)) ? 'mine' : 'other';
  }

  /** Strict mode: a new or replaced rule names a subscription of the caller's tenant, and takes no other's id. */
  async function mayWrite(req: FastifyRequest, rule: Rule): Promise<void> {
    const scope = scopeOf(req);
    if (!scope) return;
    const sub = rule.match?.subscription;
    if (!sub) {
      throw new ArmError(
        400,
        'InvalidRule',
        "In strict mode a rule must name a subscription of your tenant in 'match.subscription': " +
          "a rule for every subscription would act on other tenants' resources.",
        'match.subscription',
      );
    }
    await scope.require(sub);
    const existing = await control.rules.get(rule.id);
    if (existing && (await ruleOwner(req, existing)) !== 'mine') throw notYourRule(rule.id);
  }

  const parseRule = (body: unknown, id?: string) => {
    try {
      const input = validate<RuleInput>(RuleInput, id ? { ...(body as object), id } : body, true);
      return normalizeRule(input, new Date());
    } catch (e) {
      if (e instanceof RuleError) throw new ArmError(400, 'InvalidRule', e.message, e.target);
      throw e;
    }
  };

  app.get('/_amlite/rules', async (req) => {
    const rules = await control.rules.list(true);
    if (!scopeOf(req)) return { value: rules };
    const owners = await Promise.all(rules.map((r) => ruleOwner(req, r)));
    return { value: rules.filter((_, i) => owners[i] !== 'other') };
  });

  app.post('/_amlite/rules', async (req, reply) => {
    if (!isPlainObject(req.body)) throw errors.bodyRequired();
    const rule = parseRule(req.body);
    await mayWrite(req, rule);
    const created = await control.rules.put(rule);
    req.log.info({ rule: rule.id, kind: rule.kind, match: rule.match }, 'test-control rule added');
    return reply.code(created ? 201 : 200).send(rule);
  });

  app.put('/_amlite/rules/:id', async (req, reply) => {
    if (!isPlainObject(req.body)) throw errors.bodyRequired();
    const rule = parseRule(req.body, (req.params as { id: string }).id);
    await mayWrite(req, rule);
    const created = await control.rules.put(rule);
    req.log.info({ rule: rule.id, kind: rule.kind, match: rule.match }, 'test-control rule set');
    return reply.code(created ? 201 : 200).send(rule);
  });

  app.get('/_amlite/rules/:id', async (req) => {
    const { id } = req.params as { id: string };
    const rule = await control.rules.get(id);
    if (!rule || (await ruleOwner(req, rule)) === 'other')
      throw new ArmError(404, 'RuleNotFound', `There is no test-control rule '${id}'.`);
    return rule;
  });

  app.delete('/_amlite/rules/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const existing = await control.rules.get(id);
    const owner = existing ? await ruleOwner(req, existing) : 'mine';
    if (owner === 'global') throw notYourRule(id);
    if (owner === 'other') return reply.code(204).send();
    const removed = await control.rules.delete(id);
    if (removed) req.log.info({ rule: id }, 'test-control rule removed');
    return reply.code(removed ? 200 : 204).send();
  });

  app.get('/_amlite/operations', async (req) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const limit = operationsLimit(q.limit);
    const status = operationsStatus(q.status);
    const scope = scopeOf(req);
    if (!status && !scope) return { value: await store.recentOperations(limit) };
    // Filtered: from the most recent OPERATIONS_LIST_MAX, so the answer still holds up to `limit` of them.
    const ops = (await store.recentOperations(OPERATIONS_LIST_MAX)).filter((o) => !status || o.status === status);
    return { value: (scope ? await visibleOperations(scope, ops) : ops).slice(0, limit) };
  });

  /** Finishes a held operation now (it then succeeds, or fails when an async failure was injected too). */
  async function release(id: string) {
    const op = await store.getOperation(id);
    if (!op) throw errors.operationNotFound(id);
    if (op.status !== 'InProgress') return op;
    const released = { ...op, dueAt: Date.now(), heldBy: undefined };
    if (!(await store.commit([{ op: 'putOperation', operation: released, ifInProgress: true }])))
      return (await store.getOperation(id))!;
    await provisioner.complete(id, true);
    return (await store.getOperation(id))!;
  }

  app.post('/_amlite/operations/:id/release', async (req) => {
    const id = (req.params as { id: string }).id;
    const scope = scopeOf(req);
    if (scope) {
      const op = await store.getOperation(id);
      if (op) await scope.require(op.subscriptionId);
    }
    const op = await release(id);
    req.log.info({ operation: op.id }, 'test-control operation released');
    return op;
  });

  app.post('/_amlite/reset', async (req) => {
    const scope = scopeOf(req);
    const rulesRemoved = scope ? await resetOwnRules(req) : await control.rules.reset();
    const open = (await store.openOperations()).filter((o) => o.heldBy);
    const held = scope ? await visibleOperations(scope, open) : open;
    for (const op of held) await release(op.id);
    req.log.info({ rulesRemoved, operationsReleased: held.length }, 'test-control reset');
    return { rulesRemoved, operationsReleased: held.length };
  });

  app.post('/_amlite/state', async (req) => {
    const body = req.body as { id?: unknown; endpointState?: unknown } | undefined;
    if (typeof body?.id !== 'string' || typeof body.endpointState !== 'string' || !STATES.includes(body.endpointState))
      throw new ArmError(
        400,
        'InvalidRequestContent',
        `Send {"id": "<serverless endpoint resource id>", "endpointState": "${STATES.join('" | "')}"}.`,
        'endpointState',
      );
    const scope = scopeOf(req);
    const sub = /^\/subscriptions\/([^/]+)\//i.exec(body.id)?.[1];
    if (scope && sub) await scope.require(sub);
    const { id, endpointState } = body;
    return commitWithRetry(
      async () => {
        const r = await store.get(keyOf(id));
        if (!r || r.type.toLowerCase() !== SERVERLESS)
          throw new ArmError(404, 'ResourceNotFound', `There is no serverless endpoint '${id}'.`, 'id');
        const properties = { ...(r.body.properties as object), endpointState };
        if (
          !(await store.commit([
            { op: 'update', resource: { ...r, body: { ...r.body, properties }, etag: newEtag() }, ifEtag: r.etag },
          ]))
        )
          return undefined;
        req.log.info({ resource: r.id, endpointState }, 'test-control endpoint state set');
        return { id: r.id, endpointState };
      },
      { attempts: BACKGROUND_COMMIT_ATTEMPTS, exhausted: () => errors.conflict('The endpoint kept changing; retry.') },
    );
  });

  /** Strict reset: the caller's tenant's rules only (one by one: the rule book's reset removes every rule). */
  async function resetOwnRules(req: FastifyRequest): Promise<number> {
    let removed = 0;
    for (const rule of await control.rules.list(true)) {
      if ((await ruleOwner(req, rule)) === 'mine' && (await control.rules.delete(rule.id))) removed++;
    }
    return removed;
  }
}

async function visibleOperations(scope: TenantScope, ops: OperationRecord[]): Promise<OperationRecord[]> {
  const owned = new Map<string, boolean>();
  for (const sub of new Set(ops.map((o) => o.subscriptionId.toLowerCase()))) owned.set(sub, await scope.owns(sub));
  return ops.filter((o) => owned.get(o.subscriptionId.toLowerCase()));
}

const notYourRule = (id: string) =>
  new ArmError(
    403,
    'AuthorizationFailed',
    `The test-control rule '${id}' is not one of your tenant's rules: it cannot be changed with this token. Choose another id.`,
    'id',
  );

function single(raw: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(raw))
    throw errors.badRequest(`The query parameter '${name}' may be given once, not ${raw.length} times.`, name);
  return raw === '' ? undefined : raw;
}

function operationsLimit(raw: string | string[] | undefined): number {
  const text = single(raw, 'limit');
  if (text === undefined) return OPERATIONS_LIST_DEFAULT;
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= OPERATIONS_LIST_MAX))
    throw errors.badRequest(
      `The query parameter 'limit' must be a whole number from 1 to ${OPERATIONS_LIST_MAX}, not '${text.slice(0, 40)}'.`,
      'limit',
    );
  return n;
}

function operationsStatus(raw: string | string[] | undefined): OperationStatus | undefined {
  const text = single(raw, 'status');
  if (text === undefined) return undefined;
  const status = OPERATION_STATUSES.find((s) => s.toLowerCase() === text.toLowerCase());
  if (!status) {
    throw errors.badRequest(
      `The query parameter 'status' must be one of ${OPERATION_STATUSES.join(', ')}, not '${text.slice(0, 40)}'.`,
      'status',
    );
  }
  return status;
}
