/**
 * What-if: the evaluated template beside what the store holds now, as ARM's WhatIfOperationResult. Properties the
 * template does not set (read-only ones the service fills in) are not compared, as ARM ignores them.
 */
import { keyOf, normalizeLocation } from '../arm/ids.js';
import type { TypeRegistry } from '../arm/registry.js';
import { prepareNested, type Json, type JsonObject, type PreparedTemplate } from '../templates/index.js';
import { canonicalId, parseTarget, type Caller, type Gateway } from './gateway.js';
import type { DeploymentTemplateContext } from './template-context.js';
import { DEPLOYMENTS_TYPE_LOWER, scopeKey } from './state.js';

interface PropertyChange {
  path: string;
  propertyChangeType: 'Create' | 'Delete' | 'Modify' | 'Array' | 'NoEffect';
  before?: Json;
  after?: Json;
  children?: PropertyChange[];
}

export interface WhatIfChange {
  resourceId: string;
  changeType: 'Create' | 'Delete' | 'Ignore' | 'Deploy' | 'NoChange' | 'Modify' | 'Unsupported';
  unsupportedReason?: string;
  before?: Json;
  after?: Json;
  delta?: PropertyChange[];
}

/** Members compared: what the template sets of a resource. */
const COMPARED = ['location', 'tags', 'sku', 'kind', 'identity', 'properties', 'zones', 'plan', 'managedBy'];

export async function whatIf(
  plan: PreparedTemplate,
  ctx: DeploymentTemplateContext,
  gateway: Gateway,
  registry: TypeRegistry,
  caller: Caller,
  mode: 'Incremental' | 'Complete',
  resultFormat: string,
  nesting = 0,
): Promise<WhatIfChange[]> {
  const changes: WhatIfChange[] = [];
  const named = new Set<string>();
  const secrets = secureValues(plan);
  for (const planned of plan.resources) {
    if (planned.existing) continue;
    let inst = planned;
    if (planned.condition === 'deferred' || planned.deferred.length) {
      try {
        inst = await ctx.evaluateWithFetch(() => plan.resolve(planned.key, ctx));
      } catch {
        // A value that waits on a resource not deployed yet: compared without it.
      }
    }
    if (inst.condition === false) continue;
    const id = canonicalId(inst.id);
    named.add(keyOf(id));
    if (inst.type.toLowerCase() === DEPLOYMENTS_TYPE_LOWER && inst.nested && nesting < 10) {
      try {
        const child = prepareNested(plan, inst, ctx, nesting + 1);
        const inner = await whatIf(child, ctx, gateway, registry, caller, 'Incremental', resultFormat, nesting + 1);
        for (const c of inner) named.add(keyOf(c.resourceId));
        changes.push(...inner);
      } catch {
        changes.push({ resourceId: id, changeType: 'Deploy' });
      }
      continue;
    }
    const target = parseTarget(id);
    if (!target || !registry.find(target.typeName)) {
      changes.push({
        resourceId: id,
        changeType: 'Unsupported',
        unsupportedReason: `amlite does not serve the resource type '${inst.type}'.`,
      });
      continue;
    }
    const after = withoutSecrets(
      {
        id,
        name: inst.name.split('/').at(-1)!,
        type: inst.type,
        apiVersion: inst.apiVersion,
        ...Object.fromEntries(Object.entries(inst.body).filter(([k]) => COMPARED.includes(k))),
      },
      registry.find(target.typeName)!.writeOnly ?? [],
      secrets,
    );
    let before: JsonObject | undefined;
    try {
      before = (await gateway.get(caller, id, inst.apiVersion)) as JsonObject;
    } catch {
      before = undefined;
    }
    if (!before) {
      changes.push(shaped({ resourceId: id, changeType: 'Create', after }, resultFormat));
      continue;
    }
    const delta = diff(pick(before, after), after, '');
    changes.push(
      shaped({ resourceId: id, changeType: delta.length ? 'Modify' : 'NoChange', before, after, delta }, resultFormat),
    );
  }
  if (nesting === 0 && ctx.scope.resourceGroup) {
    for (const t of registry.providerTypes) {
      const rows = await gateway.store.listBelow(scopeKey(ctx.scope), t.type, { limit: 10_000 });
      for (const r of rows) {
        if (named.has(r.key)) continue;
        if (mode === 'Complete') {
          let before: Json | undefined;
          try {
            before = (await gateway.get(caller, r.id, undefined)) as JsonObject;
          } catch {
            before = undefined;
          }
          changes.push(shaped({ resourceId: r.id, changeType: 'Delete', before }, resultFormat));
        } else changes.push({ resourceId: r.id, changeType: 'Ignore' });
      }
    }
  }
  return changes;
}

/** The values of the template's secure parameters (never shown). */
function secureValues(plan: PreparedTemplate): string[] {
  return [...plan.parameters.values()]
    .filter((p) => p.secure && p.value !== null && p.value !== '')
    .map((p) => JSON.stringify(p.value));
}

/**
 * `after` without the type's write-only members (sent on a PUT, never shown by a GET) and any value a secure
 * parameter gave: what-if neither shows them nor reports them as changes.
 */
function withoutSecrets(after: JsonObject, writeOnly: readonly string[], secrets: string[]): JsonObject {
  const out = structuredClone(after);
  for (const path of writeOnly) {
    const parts = path.split('.');
    const parent = parts.slice(0, -1).reduce<Json | undefined>((o, k) => (isObject(o) ? o[k] : undefined), out);
    if (isObject(parent)) delete parent[parts.at(-1)!];
  }
  if (!secrets.length) return out;
  const strip = (v: Json): Json | undefined => {
    if (secrets.includes(JSON.stringify(v))) return undefined;
    if (Array.isArray(v)) return v.map((x) => strip(x) ?? null);
    if (!isObject(v)) return v;
    const o: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const kept = strip(x);
      if (kept !== undefined) o[k] = kept;
    }
    return o;
  };
  return (strip(out) as JsonObject | undefined) ?? {};
}

function shaped(c: WhatIfChange, resultFormat: string): WhatIfChange {
  if (!/^resourceidonly$/i.test(resultFormat)) return c;
  return { resourceId: c.resourceId, changeType: c.changeType };
}

/** Only what the template sets is compared (with the stored location spelled as the template spells it). */
function pick(before: JsonObject, after: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(after)) if (before[k] !== undefined) out[k] = before[k]!;
  return out;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

function diff(before: Json | undefined, after: Json | undefined, path: string): PropertyChange[] {
  if (isObject(before) && isObject(after)) {
    const b = before as JsonObject;
    const a = after as JsonObject;
    const out: PropertyChange[] = [];
    for (const k of Object.keys(a)) {
      if (['id', 'name', 'type', 'apiVersion'].includes(k) && !path) continue;
      const p = path ? `${path}.${k}` : k;
      if (!path && k === 'location' && typeof a[k] === 'string' && typeof b[k] === 'string') {
        if (normalizeLocation(a[k] as string) === normalizeLocation(b[k] as string)) continue;
      }
      if (b[k] === undefined) out.push({ path: p, propertyChangeType: 'Create', after: a[k] });
      else out.push(...diff(b[k], a[k], p));
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (same(before, after)) return [];
    const children: PropertyChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = String(i);
      if (i >= before.length) children.push({ path: p, propertyChangeType: 'Create', after: after[i] });
      else if (i >= after.length) children.push({ path: p, propertyChangeType: 'Delete', before: before[i] });
      else if (!same(before[i], after[i]))
        children.push({ path: p, propertyChangeType: 'Modify', before: before[i], after: after[i] });
    }
    return [{ path, propertyChangeType: 'Array', children }];
  }
  if (same(before, after)) return [];
  return [{ path, propertyChangeType: 'Modify', before, after }];
}
