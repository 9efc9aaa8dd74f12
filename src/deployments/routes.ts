/**
 * Microsoft.Resources/deployments at resource-group and subscription scope: PUT (201 + Azure-AsyncOperation), GET,
 * HEAD, LIST, DELETE (202 + Location), cancel, validate, whatIf (202 + Location), exportTemplate, and the
 * deployment operations. Mounted inside the management plane (authentication, test-control hooks).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../arm/context.js';
import type { Reply } from '../arm/engine.js';
import { ArmError, errors } from '../arm/errors.js';
import { checkName, keyOf, nameRule } from '../arm/ids.js';
import { newEtag } from '../arm/etag.js';
import { ARM_OPERATION_URLS, RESOURCE_GROUP_API_VERSIONS } from '../arm/resource-groups.js';
import { acceptedHeaders, commitWithRetry, newOperation, REQUEST_COMMIT_ATTEMPTS } from '../arm/lro/index.js';
import type { ArmRouteHelpers } from '../arm/routes.js';
import type { TypeRegistry } from '../arm/registry.js';
import { PAGE_SIZE, decodeToken, encodeToken, nextLink } from '../arm/paging.js';
import type { Profile } from '../provisioner/profiles.js';
import { isBeingDeleted, type StoredResource, type Write } from '../store/types.js';
import type { Json } from '../templates/index.js';
import type { Gateway } from './gateway.js';
import { DEPLOYMENT_HISTORY_MAX } from './limits.js';
import { preflight, readRequest, type DeploymentRequest } from './preflight.js';
import { dependenciesOf, providersOf, type DeploymentRunner } from './runner.js';
import { DeploymentTemplateContext } from './template-context.js';
import {
  ACTIVE,
  armTyped,
  DEPLOYMENT_TYPE,
  deploymentId,
  isoDuration,
  newOperationId,
  renderDeployment,
  renderOperation,
  scopeKey,
  stateOf,
  templateHash,
  type DeploymentState,
  type Scope,
} from './state.js';
import { whatIf } from './whatif.js';
import { useLenientJson } from './lenient-json.js';

export interface DeploymentRoutesDeps {
  gateway: Gateway;
  runner: DeploymentRunner;
  registry: TypeRegistry;
  profile: Profile;
}

type Params = Record<string, string>;

/** ARM's deployment names: 1 to 64 of letters, digits, '-', '.', '_', '(' and ')'. */
const DEPLOYMENT_NAME = nameRule('^[-\\w._()]{1,64}$');
/**
 * Microsoft.Resources api-versions of deployments: every one resource groups take (one list, shared), and those
 * only deployments have: older ones templates and clients still use, and 2026-06-01 (the split-out deployments
 * spec, the default of @azure/arm-resourcesdeployments 2 and azure-mgmt-resource-deployments 2).
 */
export const DEPLOYMENT_API_VERSIONS: readonly string[] = [
  ...new Set([
    '2016-09-01',
    '2017-05-10',
    '2018-02-01',
    '2018-05-01',
    '2019-03-01',
    '2019-05-10',
    '2019-07-01',
    '2019-08-01',
    '2020-08-01',
    ...RESOURCE_GROUP_API_VERSIONS,
    '2026-06-01',
  ]),
].sort();
const VERSIONS = DEPLOYMENT_API_VERSIONS;

export function deploymentRoutes(deps: DeploymentRoutesDeps) {
  const { gateway, runner, registry, profile } = deps;
  const store = gateway.store;

  return (app: FastifyInstance, helpers: ArmRouteHelpers): void => {
    const { send } = helpers;

    function context(req: FastifyRequest): RequestContext {
      const ctx = helpers.context(req, undefined, []);
      const known = VERSIONS.find((v) => v.toLowerCase() === ctx.apiVersion.toLowerCase());
      if (known) return { ...ctx, apiVersion: known };
      if (helpers.anyApiVersion) return { ...ctx, apiVersion: VERSIONS.at(-1)! };
      throw errors.invalidApiVersion(ctx.apiVersion, VERSIONS);
    }

    const scopeOf = (p: Params): Scope => ({ subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroupName });

    /** The scope exists: a resource group that is there (and, for writes, not being deleted). */
    async function checkScope(scope: Scope, write = false): Promise<void> {
      if (!scope.resourceGroup) return;
      const g = await store.get(scopeKey(scope));
      if (!g) throw errors.resourceGroupNotFound(scope.resourceGroup);
      if (write && isBeingDeleted(g)) throw errors.resourceGroupBeingDeleted(scope.resourceGroup);
    }

    function checkDeploymentName(name: string): void {
      const broken = checkName(name, DEPLOYMENT_NAME);
      if (broken) throw errors.invalidResourceName(name, DEPLOYMENT_TYPE, broken);
    }

    const notFound = (name: string) =>
      new ArmError(404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);

    async function load(req: FastifyRequest): Promise<{ r: StoredResource; scope: Scope }> {
      const p = req.params as Params;
      const scope = scopeOf(p);
      const r = await store.get(keyOf(deploymentId(scope, p.deploymentName)));
      if (!r) {
        await checkScope(scope);
        throw notFound(p.deploymentName);
      }
      return { r, scope };
    }

    /** A template context for a request that does not deploy (validate, whatIf) or before the deployment runs. */
    async function requestContext(
      req: FastifyRequest,
      ctx: RequestContext,
      scope: Scope,
      body: DeploymentRequest,
    ): Promise<DeploymentTemplateContext> {
      const group = scope.resourceGroup ? await runner.groupOf(scope) : undefined;
      return new DeploymentTemplateContext(gateway, { principal: ctx.principal, origin: ctx.origin }, scope, group, {
        name: (req.params as Params).deploymentName,
        location: body.location,
        template: body.template,
        templateHash: templateHash(body.template),
        parameters: body.parameters,
        mode: body.mode,
      });
    }

    async function put(req: FastifyRequest, reply: FastifyReply) {
      const ctx = context(req);
      const p = req.params as Params;
      const scope = scopeOf(p);
      checkDeploymentName(p.deploymentName);
      await checkScope(scope, true);
      const body = readRequest(req.body, scope);
      const tctx = await requestContext(req, ctx, scope, body);
      const plan = preflight(body, tctx, gateway, registry);
      const id = deploymentId(scope, p.deploymentName);
      const key = keyOf(id);
      const nowIso = new Date().toISOString();
      const state: DeploymentState = {
        operationId: newOperationId(),
        status: 'Accepted',
        scope,
        template: body.template,
        parameters: body.parameters,
        reportedParameters: plan.reportedParameters(),
        mode: body.mode,
        ...(body.debugSetting ? { debugSetting: body.debugSetting } : {}),
        correlationId: ctx.header('x-ms-correlation-request-id') ?? randomUUID(),
        templateHash: templateHash(body.template),
        startedAt: nowIso,
        caller: { principal: ctx.principal, origin: ctx.origin },
        operations: [],
        dependencies: dependenciesOf(plan),
        providers: providersOf(plan),
        nesting: 0,
      };
      const { resource, created } = await commitWithRetry(
        async () => {
          const existing = await store.get(key);
          if (existing && ACTIVE.includes(stateOf(existing).status))
            throw new ArmError(
              409,
              'DeploymentActive',
              `The deployment with resource id '${id}' cannot be saved, because this would overwrite an existing ` +
                'deployment which is still active.',
            );
          const resource: StoredResource = {
            key,
            id,
            name: p.deploymentName,
            parentKey: scopeKey(scope),
            type: DEPLOYMENT_TYPE,
            body: {
              ...(body.location ? { location: body.location } : {}),
              ...(body.tags ? { tags: body.tags } : {}),
            },
            systemData: {
              createdBy: ctx.principal.name,
              createdByType: ctx.principal.type,
              createdAt: existing?.systemData.createdAt ?? nowIso,
              lastModifiedBy: ctx.principal.name,
              lastModifiedByType: ctx.principal.type,
              lastModifiedAt: nowIso,
            },
            internal: { deployment: state },
            etag: newEtag(),
            createdAt: existing?.createdAt ?? nowIso,
            updatedAt: nowIso,
          };
          const writes: Write[] = [
            ...(scope.resourceGroup ? [{ op: 'requireParent', key: scopeKey(scope), notDeleting: true } as const] : []),
            existing ? { op: 'update', resource, ifEtag: existing.etag } : { op: 'insert', resource },
          ];
          if (!(await store.commit(writes))) {
            await checkScope(scope, true);
            return undefined;
          }
          return { resource, created: !existing };
        },
        {
          attempts: REQUEST_COMMIT_ATTEMPTS,
          exhausted: () => errors.conflict('The deployment is being changed by other requests; retry the request.'),
        },
      );
      if (created) await trimHistory(scope, key);
      runner.start(key);
      const statusUrl = `${ctx.origin}${id}/operationStatuses/${state.operationId}?api-version=${ctx.apiVersion}`;
      return send(reply, {
        status: created ? 201 : 200,
        body: renderDeployment(resource, new Date()),
        headers: { 'azure-asyncoperation': statusUrl, 'retry-after': String(profile.pollRetryAfterSeconds) },
      });
    }

    /** ARM keeps 800 deployments per scope: beyond that the oldest finished ones are deleted. */
    async function trimHistory(scope: Scope, keep: string): Promise<void> {
      const rows = await store.listChildren(scopeKey(scope), DEPLOYMENT_TYPE, { limit: DEPLOYMENT_HISTORY_MAX + 50 });
      if (rows.length <= DEPLOYMENT_HISTORY_MAX) return;
      const finished = rows
        .filter((r) => r.key !== keep && !ACTIVE.includes(stateOf(r).status))
        .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : 1));
      const excess = finished.slice(0, rows.length - DEPLOYMENT_HISTORY_MAX);
      if (excess.length) await store.commit(excess.map((r) => ({ op: 'deleteTree', key: r.key })));
    }

    async function get(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const { r } = await load(req);
      return send(reply, { status: 200, body: renderDeployment(r, new Date()) });
    }

    async function head(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const p = req.params as Params;
      const r = await store.get(keyOf(deploymentId(scopeOf(p), p.deploymentName)));
      return send(reply, { status: r ? 204 : 404 });
    }

    async function list(req: FastifyRequest, reply: FastifyReply) {
      const ctx = context(req);
      const scope = scopeOf(req.params as Params);
      await checkScope(scope);
      const q = ctx.url.searchParams;
      const filter = parseFilter(q.get('$filter'));
      const top = q.get('$top') ? Number(q.get('$top')) : undefined;
      if (top !== undefined && (!Number.isInteger(top) || top < 1))
        throw errors.badRequest(`The $top value '${q.get('$top')}' must be a positive whole number.`, '$top');
      const limit = Math.min(top ?? PAGE_SIZE, PAGE_SIZE);
      const rows = await store.listChildren(scopeKey(scope), DEPLOYMENT_TYPE, {
        after: decodeToken(q.get('$skipToken')),
        limit: limit + 1,
      });
      const more = rows.length > limit && top === undefined;
      const shown = rows.slice(0, limit);
      const now = new Date();
      const value = shown
        .filter((r) => !filter || stateOf(r).status.toLowerCase() === filter.toLowerCase())
        .map((r) => renderDeployment(r, now));
      const body: Record<string, unknown> = { value };
      if (more) body.nextLink = nextLink(ctx, '$skipToken', encodeToken(shown.at(-1)!.key));
      return send(reply, { status: 200, body });
    }

    async function remove(req: FastifyRequest, reply: FastifyReply) {
      const ctx = context(req);
      const p = req.params as Params;
      const scope = scopeOf(p);
      const key = keyOf(deploymentId(scope, p.deploymentName));
      const r = await store.get(key);
      if (!r) {
        await checkScope(scope);
        return send(reply, { status: 204 });
      }
      if (ACTIVE.includes(stateOf(r).status))
        throw new ArmError(
          409,
          'DeploymentActive',
          `The deployment '${p.deploymentName}' is still active: cancel it or wait for it to end before deleting it.`,
        );
      // The history entry goes now; the operation record answers the Location URL (ARM's own shape).
      const op = newOperation('delete', { ...r, body: { location: r.body.location ?? 'global' } }, ctx, profile);
      const done = { ...op, status: 'Succeeded' as const, endTime: new Date().toISOString() };
      if (
        !(await store.commit([
          { op: 'deleteTree', key },
          { op: 'putOperation', operation: done },
        ]))
      )
        throw errors.conflict('The deployment is being changed by other requests; retry the request.');
      return send(reply, { status: 202, headers: acceptedHeaders(done, ARM_OPERATION_URLS, ctx, profile, 'location') });
    }

    async function cancel(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const { r } = await load(req);
      const name = (req.params as Params).deploymentName;
      const cancelled = await commitWithRetry(
        async () => {
          const cur = await store.get(r.key);
          if (!cur) throw notFound(name);
          const s = structuredClone(stateOf(cur));
          if (!ACTIVE.includes(s.status))
            throw errors.conflict(
              `The deployment '${name}' cannot be canceled: it is ${s.status}. Only an Accepted or Running ` +
                'deployment can be canceled.',
            );
          s.status = 'Canceled';
          s.cancelRequested = true;
          s.endedAt = new Date().toISOString();
          for (const op of s.operations) if (op.provisioningState === 'Running') op.provisioningState = 'Canceled';
          const next = { ...cur, internal: { ...cur.internal, deployment: s }, etag: newEtag(), updatedAt: s.endedAt };
          return (await store.commit([{ op: 'update', resource: next, ifEtag: cur.etag }])) ? true : undefined;
        },
        { attempts: REQUEST_COMMIT_ATTEMPTS, exhausted: () => errors.conflict('The deployment is busy; retry.') },
      );
      if (cancelled) runner.cancel(r.key);
      return send(reply, { status: 204 });
    }

    /** What validate and whatIf start from: the request's deployment, scope, body and template context. */
    async function posted(req: FastifyRequest) {
      const ctx = context(req);
      const p = req.params as Params;
      const scope = scopeOf(p);
      checkDeploymentName(p.deploymentName);
      await checkScope(scope);
      const body = readRequest(req.body, scope);
      return { ctx, p, scope, body, tctx: await requestContext(req, ctx, scope, body) };
    }

    async function validate(req: FastifyRequest, reply: FastifyReply) {
      const { ctx, p, scope, body, tctx } = await posted(req);
      let plan;
      try {
        plan = preflight(body, tctx, gateway, registry);
      } catch (e) {
        if (e instanceof ArmError && e.status === 400) return send(reply, { status: 400, body: e.toBody() });
        throw e;
      }
      const now = new Date();
      const id = deploymentId(scope, p.deploymentName);
      return send(reply, {
        status: 200,
        body: {
          id,
          name: p.deploymentName,
          type: DEPLOYMENT_TYPE,
          ...(body.location ? { location: body.location } : {}),
          properties: {
            templateHash: templateHash(body.template),
            parameters: armTyped(plan.reportedParameters()),
            mode: body.mode,
            provisioningState: 'Succeeded',
            timestamp: now.toISOString(),
            duration: isoDuration(now.toISOString(), now),
            correlationId: ctx.header('x-ms-correlation-request-id') ?? randomUUID(),
            providers: providersOf(plan),
            dependencies: dependenciesOf(plan),
            validatedResources: plan.resources
              .filter((r) => r.condition !== false && !r.existing)
              .map((r) => ({ id: r.id })),
          },
        },
      });
    }

    async function whatIfRoute(req: FastifyRequest, reply: FastifyReply) {
      const { ctx, p, scope, body, tctx } = await posted(req);
      const caller = { principal: ctx.principal, origin: ctx.origin };
      let result: Record<string, unknown>;
      try {
        const plan = preflight(body, tctx, gateway, registry);
        const format = String(body.whatIfSettings?.resultFormat ?? 'FullResourcePayloads');
        const changes = await whatIf(plan, tctx, gateway, registry, caller, body.mode, format);
        result = { status: 'Succeeded', properties: { changes } };
      } catch (e) {
        if (!(e instanceof ArmError) || e.status >= 500) throw e;
        result = { status: 'Failed', error: e.toBody().error };
      }
      // The result waits at the Location URL, kept with the operation record (pruned with finished operations).
      const id = deploymentId(scope, p.deploymentName);
      const subject = whatIfSubject(id, body.location);
      const op = newOperation('action', subject, ctx, profile, { action: 'whatIf', payload: result });
      const done = { ...op, status: 'Succeeded' as const, endTime: new Date().toISOString() };
      await store.commit([{ op: 'putOperation', operation: done }]);
      const location = `${ctx.origin}${id}/whatIfResults/${op.id}?api-version=${ctx.apiVersion}`;
      return send(reply, {
        status: 202,
        headers: { location, 'retry-after': String(profile.pollRetryAfterSeconds) },
      });
    }

    async function whatIfResult(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const p = req.params as Params;
      const op = await store.getOperation(p.operationId);
      if (!op || op.action !== 'whatIf' || op.subscriptionId.toLowerCase() !== p.subscriptionId.toLowerCase())
        throw errors.operationNotFound(p.operationId);
      const result = op.payload as { status: string };
      return send(reply, { status: result.status === 'Failed' ? 400 : 200, body: result });
    }

    async function exportTemplate(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const { r } = await load(req);
      return send(reply, { status: 200, body: { template: stateOf(r).template } });
    }

    async function operationStatus(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const { r } = await load(req);
      const s = stateOf(r);
      const body: Record<string, unknown> = { status: s.status };
      if (s.error) body.error = s.error;
      const headers: Record<string, string> = ACTIVE.includes(s.status)
        ? { 'retry-after': String(profile.pollRetryAfterSeconds) }
        : {};
      return send(reply, { status: 200, body, headers });
    }

    async function operations(req: FastifyRequest, reply: FastifyReply) {
      const ctx = context(req);
      const { r } = await load(req);
      const now = new Date();
      const top = ctx.url.searchParams.get('$top');
      let ops = stateOf(r).operations;
      if (top !== null) {
        const n = Number(top);
        if (!Number.isInteger(n) || n < 1)
          throw errors.badRequest(`The $top value '${top}' must be a positive whole number.`, '$top');
        ops = ops.slice(0, n);
      }
      return send(reply, { status: 200, body: { value: ops.map((o) => renderOperation(r.id, o, now)) } });
    }

    async function operation(req: FastifyRequest, reply: FastifyReply) {
      context(req);
      const { r } = await load(req);
      const wanted = (req.params as Params).operationId;
      const op = stateOf(r).operations.find((o) => o.operationId.toLowerCase() === wanted.toLowerCase());
      if (!op)
        throw new ArmError(404, 'DeploymentOperationNotFound', `Deployment operation '${wanted}' could not be found.`);
      return send(reply, { status: 200, body: renderOperation(r.id, op, new Date()) });
    }

    const bases = [
      '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.Resources/deployments',
      '/subscriptions/:subscriptionId/providers/Microsoft.Resources/deployments',
    ];
    const config = { armType: DEPLOYMENT_TYPE, nameParam: 'deploymentName' };
    const routeOn =
      (on: FastifyInstance) =>
      (method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD', url: string, handler: Handler, action?: string) =>
        on.route({ method, url, config: { ...config, ...(action ? { action } : {}) }, handler });
    const route = routeOn(app);
    for (const base of bases) {
      const item = `${base}/:deploymentName`;
      route('GET', base, list);
      route('GET', item, get);
      route('HEAD', item, head);
      route('DELETE', item, remove);
      route('POST', `${item}/cancel`, cancel, 'cancel');
      route('POST', `${item}/exportTemplate`, exportTemplate, 'exportTemplate');
      route('GET', `${item}/operations`, operations);
      route('GET', `${item}/operations/:operationId`, operation);
      route('GET', `${item}/operationStatuses/:operationId`, operationStatus);
      route('GET', `${item}/whatIfResults/:operationId`, whatIfResult);
    }
    // ARM's older path for a resource group's deployment operations (no providers segment): the Python SDK and
    // `az deployment operation group list` call it.
    const legacy = '/subscriptions/:subscriptionId/resourcegroups/:resourceGroupName/deployments/:deploymentName';
    route('GET', `${legacy}/operations`, operations);
    route('GET', `${legacy}/operations/:operationId`, operation);
    // The bodies that carry a template take Newtonsoft's JSON dialect (azure-cli pastes the file's text in).
    void app.register(async (lenient) => {
      useLenientJson(lenient);
      const lenientRoute = routeOn(lenient);
      for (const base of bases) {
        const item = `${base}/:deploymentName`;
        lenientRoute('PUT', item, put);
        lenientRoute('POST', `${item}/validate`, validate, 'validate');
        lenientRoute('POST', `${item}/whatIf`, whatIfRoute, 'whatIf');
      }
    });
  };
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** `provisioningState eq 'Succeeded'` (the one filter ARM's deployments list takes). */
function parseFilter(raw: string | null): string | undefined {
  if (!raw) return undefined;
  const m = /^\s*provisioningState\s+eq\s+'([A-Za-z]+)'\s*$/i.exec(raw);
  if (!m)
    throw errors.badRequest(
      `The $filter '${raw}' is not supported: only "provisioningState eq '{state}'" is.`,
      '$filter',
    );
  return m[1];
}

/** The record a whatIf result is kept under (an operation on the deployment's id). */
function whatIfSubject(id: string, location: string | undefined): StoredResource {
  const at = new Date().toISOString();
  return {
    key: keyOf(id),
    id,
    name: id.split('/').at(-1)!,
    parentKey: '',
    type: DEPLOYMENT_TYPE,
    body: { location: location ?? 'global' } as Record<string, Json>,
    systemData: {
      createdBy: '',
      createdByType: 'User',
      createdAt: at,
      lastModifiedBy: '',
      lastModifiedByType: 'User',
      lastModifiedAt: at,
    },
    internal: {},
    etag: '',
    createdAt: at,
    updatedAt: at,
  };
}

export type { Reply };
