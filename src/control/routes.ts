import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/types.js';
import type { Provisioner } from '../provisioner/provisioner.js';
import type { Principal } from '../arm/context.js';
import { ArmError, errors } from '../arm/errors.js';
import { validate } from '../arm/schema.js';
import { newEtag } from '../arm/etag.js';
import { isPlainObject } from '../arm/merge-patch.js';
import { keyOf } from '../arm/ids.js';
import { RuleError, RuleInput, normalizeRule } from './rules.js';
import type { TestControl } from './control.js';

export interface ControlDeps {
  control: TestControl;
  store: Store;
  provisioner: Provisioner;
  /** The management plane's authentication: the control API is guarded the same way. */
  authenticate(req: FastifyRequest): Principal;
}

const SERVERLESS = 'microsoft.machinelearningservices/workspaces/serverlessendpoints';
const STATES = ['Online', 'Suspended'];

/**
 * The control API under /_amlite: rules (fail, delay, throttle), releasing held operations, and moving a
 * serverless endpoint between Online and Suspended. Same authentication as the management plane.
 */
export async function controlRoutes(app: FastifyInstance, deps: ControlDeps): Promise<void> {
  const { control, store, provisioner } = deps;
  app.addHook('preHandler', async (req) => { deps.authenticate(req); });

  const parseRule = (body: unknown, id?: string) => {
    try {
      const input = validate<RuleInput>(RuleInput, id ? { ...(body as object), id } : body, true);
      return normalizeRule(input, new Date());
    } catch (e) {
      if (e instanceof RuleError) throw new ArmError(400, 'InvalidRule', e.message, e.target);
      throw e;
    }
  };

  app.get('/_amlite/rules', async () => ({ value: await control.rules.list(true) }));

  app.post('/_amlite/rules', async (req, reply) => {
    if (!isPlainObject(req.body)) throw errors.bodyRequired();
    const rule = parseRule(req.body);
    const created = await control.rules.put(rule);
    req.log.info({ rule: rule.id, kind: rule.kind, match: rule.match }, 'test-control rule added');
    return reply.code(created ? 201 : 200).send(rule);
  });

  app.put('/_amlite/rules/:id', async (req, reply) => {
    if (!isPlainObject(req.body)) throw errors.bodyRequired();
    const rule = parseRule(req.body, (req.params as { id: string }).id);
    const created = await control.rules.put(rule);
    req.log.info({ rule: rule.id, kind: rule.kind, match: rule.match }, 'test-control rule set');
    return reply.code(created ? 201 : 200).send(rule);
  });

  app.get('/_amlite/rules/:id', async (req) => {
    const { id } = req.params as { id: string };
    const rule = await control.rules.get(id);
    if (!rule) throw new ArmError(404, 'RuleNotFound', `There is no test-control rule '${id}'.`);
    return rule;
  });

  app.delete('/_amlite/rules/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const removed = await control.rules.delete(id);
    if (removed) req.log.info({ rule: id }, 'test-control rule removed');
    return reply.code(removed ? 200 : 204).send();
  });

  app.get('/_amlite/operations', async (req) => {
    const q = req.query as { limit?: string; status?: string };
    const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100) || 100));
    const ops = await store.recentOperations(limit);
    return { value: q.status ? ops.filter((o) => o.status.toLowerCase() === q.status!.toLowerCase()) : ops };
  });

  /** Finishes a held operation now (it then succeeds, or fails when an async failure was injected too). */
  async function release(id: string) {
    const op = await store.getOperation(id);
    if (!op) throw errors.operationNotFound(id);
    if (op.status !== 'InProgress') return op;
    const released = { ...op, dueAt: Date.now(), heldBy: undefined };
    if (!(await store.commit([{ op: 'putOperation', operation: released, ifInProgress: true }]))) return (await store.getOperation(id))!;
    await provisioner.complete(id, true);
    return (await store.getOperation(id))!;
  }

  app.post('/_amlite/operations/:id/release', async (req) => {
    const op = await release((req.params as { id: string }).id);
    req.log.info({ operation: op.id }, 'test-control operation released');
    return op;
  });

  app.post('/_amlite/reset', async (req) => {
    const rulesRemoved = await control.rules.reset();
    const held = (await store.openOperations()).filter((o) => o.heldBy);
    for (const op of held) await release(op.id);
    req.log.info({ rulesRemoved, operationsReleased: held.length }, 'test-control reset');
    return { rulesRemoved, operationsReleased: held.length };
  });

  app.post('/_amlite/state', async (req) => {
    const body = req.body as { id?: unknown; endpointState?: unknown } | undefined;
    if (typeof body?.id !== 'string' || typeof body.endpointState !== 'string' || !STATES.includes(body.endpointState))
      throw new ArmError(400, 'InvalidRequestContent', `Send {"id": "<serverless endpoint resource id>", "endpointState": "${STATES.join('" | "')}"}.`, 'endpointState');
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = await store.get(keyOf(body.id));
      if (!r || r.type.toLowerCase() !== SERVERLESS) throw new ArmError(404, 'ResourceNotFound', `There is no serverless endpoint '${body.id}'.`, 'id');
      const properties = { ...(r.body.properties as object), endpointState: body.endpointState };
      if (await store.commit([{ op: 'update', resource: { ...r, body: { ...r.body, properties }, etag: newEtag() }, ifEtag: r.etag }])) {
        req.log.info({ resource: r.id, endpointState: body.endpointState }, 'test-control endpoint state set');
        return { id: r.id, endpointState: body.endpointState };
      }
    }
    throw errors.conflict('The endpoint kept changing; retry.');
  });
}
