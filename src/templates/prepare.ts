/**
 * Template preparation: validates a template and its parameters and turns it into an ordered plan of resource
 * instances. Values that wait on reference()/list* stay unevaluated (`deferred`); `PreparedTemplate.resolve`
 * evaluates them again once the engine's context can answer (the same scope: copy indexes, parameters, variables).
 */
import type { Json, JsonObject, TemplateContext } from './context.js';
import { ExpressionError, messageOf, TemplateError, templateErrors } from './errors.js';
import {
  DEFERRED,
  Deferred,
  evaluateCount,
  evaluateValue,
  getProperty,
  isObject,
  Scope,
  toJson,
  typeName,
  type Env,
  type UserFunction,
  type Value,
} from './evaluate.js';
import './functions.js';
import {
  TEMPLATE_MAX_NESTING,
  TEMPLATE_MAX_OUTPUTS,
  TEMPLATE_MAX_PARAMETERS,
  TEMPLATE_MAX_RESOURCES,
  TEMPLATE_MAX_VARIABLES,
} from './limits.js';
import { providerPath } from './resource-ids.js';

export interface ResourceInstance {
  /** Unique in the plan: the symbolic name (2.0) or the resource id, with "[i]" for a copy's instances. */
  key: string;
  symbolicName?: string;
  copy?: { name: string; index: number; mode: 'serial' | 'parallel'; batchSize: number };
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  /** false: skipped (ARM still orders its dependents after it); 'deferred': decided at deploy time. */
  condition: boolean | 'deferred';
  existing: boolean;
  /** Keys of the instances this one waits for. */
  dependsOn: string[];
  /** The resource body (location, tags, sku, kind, identity, properties, …) with evaluated values. */
  body: JsonObject;
  /** Top-level body members that wait on a reference(): evaluate with `PreparedTemplate.resolve`. */
  deferred: string[];
  /** A nested inline deployment (Microsoft.Resources/deployments with properties.template). */
  nested?: { scope: 'inner' | 'outer' };
}

export interface PrepareOptions {
  /** The deployment's parameters: { name: { value } }. */
  parameters?: Record<string, { value?: Json; reference?: Json }>;
  /** For an outer-scope nested deployment: the parent template's expression scope. */
  outer?: PreparedTemplate;
  nesting?: number;
}

interface RawResource {
  raw: JsonObject;
  symbolicName?: string;
  path: string;
  /** Full type and name of a 1.0 child resource declared inside its parent. */
  parent?: { type: string; name: Json; path: string };
}

const DEPLOYMENTS = 'microsoft.resources/deployments';
const SECURE = new Set(['securestring', 'secureobject']);
const TYPES = new Set(['string', 'int', 'bool', 'object', 'array', 'securestring', 'secureobject']);

export class PreparedTemplate {
  readonly languageVersion: '1.0' | '2.0';
  readonly parameters = new Map<string, { name: string; type: string; value: Json; secure: boolean }>();
  readonly resources: ResourceInstance[] = [];
  private readonly variablesRaw = new Map<string, { raw: Json; copy?: JsonObject }>();
  private readonly variableValues = new Map<string, Value | 'evaluating'>();
  private readonly functions = new Map<string, UserFunction>();
  private readonly scopes = new Map<string, { scope: Scope; raw: JsonObject; path: string }>();
  private readonly env: Env;
  private readonly byName = new Map<string, string>();

  constructor(
    readonly template: JsonObject,
    private ctx: TemplateContext,
    private readonly options: PrepareOptions = {},
  ) {
    if ((options.nesting ?? 0) > TEMPLATE_MAX_NESTING)
      throw templateErrors.invalid(`Nested deployments are limited to ${TEMPLATE_MAX_NESTING} levels`);
    const currentCtx = () => this.ctx;
    this.env = {
      get ctx() {
        return currentCtx();
      },
      parameter: (name) => (options.outer ? options.outer.parameter(name) : this.parameter(name)),
      variable: (name) => (options.outer ? options.outer.variable(name) : this.variable(name)),
      userFunction: (name) =>
        this.functions.get(name.toLowerCase()) ?? options.outer?.functions.get(name.toLowerCase()),
      resolveResource: (ref) => this.resolveResource(ref),
      referenced: new Set(),
      budget: { calls: 0 },
    };
    this.languageVersion = checkHeader(template);
    this.readFunctions();
    this.readParameters(options.parameters ?? {});
    this.readVariables();
    this.readResources();
  }

  parameter(name: string): Json {
    const p = this.parameters.get(name.toLowerCase());
    if (!p) throw templateErrors.parameterNotFound(name);
    return p.value;
  }

  variable(name: string): Value {
    const key = name.toLowerCase();
    const done = this.variableValues.get(key);
    if (done === 'evaluating') throw templateErrors.circularVariable(name);
    if (done !== undefined) return done;
    const v = this.variablesRaw.get(key);
    if (!v) throw templateErrors.variableNotFound(name);
    this.variableValues.set(key, 'evaluating');
    try {
      const scope = new Scope(this.env, 'variable');
      const value = v.copy ? this.variableCopy(v.copy, scope) : evaluateValue(v.raw, scope);
      this.variableValues.set(key, value);
      return value;
    } catch (e) {
      this.variableValues.delete(key);
      throw e;
    }
  }

  /** Re-evaluates an instance's deferred members (and condition) with a context that can now answer references. */
  resolve(key: string, ctx: TemplateContext = this.ctx): ResourceInstance {
    const inst = this.resources.find((r) => r.key === key);
    const saved = this.scopes.get(key);
    if (!inst || !saved) throw new Error(`no instance '${key}' in the plan`);
    this.ctx = ctx;
    this.variableValues.clear();
    const out: ResourceInstance = { ...inst, body: { ...inst.body }, deferred: [] };
    const fail = (e: unknown, member: string) =>
      e instanceof ExpressionError ? templateErrors.atDeploy(inst.id, messageOf(e), `${saved.path}.${member}`) : e;
    try {
      if (inst.condition === 'deferred') {
        const c = evaluateValue(saved.raw.condition ?? true, saved.scope);
        if (c instanceof Deferred)
          throw new ExpressionError(`The condition of '${inst.name}' waits on a resource that is not deployed.`);
        out.condition = asCondition(c);
      }
    } catch (e) {
      throw fail(e, 'condition');
    }
    for (const member of inst.deferred) {
      try {
        const v = this.evaluateMember(inst, saved.raw, member, saved.scope);
        if (v instanceof Deferred)
          throw new ExpressionError(`The value of '${member}' waits on a resource that is not deployed.`);
        out.body[member] = toJson(v, member);
      } catch (e) {
        throw fail(e, member);
      }
    }
    return out;
  }

  /** The outputs, evaluated with a context that answers every reference (secure outputs carry no value). */
  outputs(ctx: TemplateContext = this.ctx): Record<string, { type: string; value?: Json }> {
    this.ctx = ctx;
    this.variableValues.clear();
    const raw = (this.template.outputs ?? {}) as JsonObject;
    if (!isObject(raw)) throw templateErrors.invalid("The template 'outputs' must be an object", 'outputs');
    if (Object.keys(raw).length > TEMPLATE_MAX_OUTPUTS)
      throw templateErrors.invalid(
        `The number of template outputs exceeds the limit of ${TEMPLATE_MAX_OUTPUTS}`,
        'outputs',
      );
    const out: Record<string, { type: string; value?: Json }> = {};
    for (const [name, def] of Object.entries(raw)) {
      const path = `outputs.${name}`;
      if (!isObject(def)) throw templateErrors.invalid(`The template output '${name}' is not valid`, path);
      const type = String(def.type ?? '').toLowerCase();
      const scope = new Scope(this.env, 'output');
      try {
        if (def.condition !== undefined && !asCondition(must(evaluateValue(def.condition, scope), name))) continue;
        let value: Json;
        if (isObject(def.copy)) {
          const count = must(evaluateCount(def.copy.count ?? null, scope, name), name);
          value = [];
          for (let i = 0; i < count; i++)
            value.push(toJson(must(evaluateValue(def.copy.input ?? null, scope.withCopy(name, i, true)), name), name));
        } else value = toJson(must(evaluateValue(def.value ?? null, scope), name), name);
        out[name] = SECURE.has(type) ? { type: String(def.type) } : { type: String(def.type), value };
      } catch (e) {
        if (e instanceof ExpressionError) throw templateErrors.inPart('output', name, messageOf(e), path);
        throw e;
      }
    }
    return out;
  }

  /** The parameters as a deployment reports them: secure values left out. */
  reportedParameters(): Record<string, { type: string; value?: Json }> {
    const out: Record<string, { type: string; value?: Json }> = {};
    for (const p of this.parameters.values())
      out[p.name] = p.secure ? { type: p.type } : { type: p.type, value: p.value };
    return out;
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  private readFunctions(): void {
    const list = this.template.functions ?? [];
    if (!Array.isArray(list)) throw templateErrors.invalid("The template 'functions' must be an array", 'functions');
    list.forEach((ns, i) => {
      if (!isObject(ns) || typeof ns.namespace !== 'string' || !isObject(ns.members)) {
        throw templateErrors.invalid(
          'A user-defined function namespace needs a namespace and members',
          `functions[${i}]`,
        );
      }
      for (const [name, def] of Object.entries(ns.members)) {
        const d = def as JsonObject;
        if (!isObject(d.output) || d.output.value === undefined) {
          throw templateErrors.invalid(
            `The user-defined function '${ns.namespace}.${name}' needs an output value`,
            `functions[${i}]`,
          );
        }
        const params = (Array.isArray(d.parameters) ? d.parameters : []) as { name: string; type: string }[];
        this.functions.set(`${ns.namespace}.${name}`.toLowerCase(), {
          params,
          output: d.output as UserFunction['output'],
        });
      }
    });
  }

  private readParameters(given: Record<string, { value?: Json; reference?: Json }>): void {
    const defs = (this.template.parameters ?? {}) as JsonObject;
    if (!isObject(defs)) throw templateErrors.invalid("The template 'parameters' must be an object", 'parameters');
    const names = Object.keys(defs);
    if (names.length > TEMPLATE_MAX_PARAMETERS)
      throw templateErrors.invalid(
        `The number of template parameters exceeds the limit of ${TEMPLATE_MAX_PARAMETERS}`,
        'parameters',
      );
    const unknown = Object.keys(given).filter((g) => !names.some((n) => n.toLowerCase() === g.toLowerCase()));
    if (unknown.length) throw templateErrors.parameterUnknown(unknown, names);
    const pending = new Map(names.map((n) => [n.toLowerCase(), n]));
    const evaluating = new Set<string>();
    const resolveOne = (name: string): Json => {
      const key = name.toLowerCase();
      const done = this.parameters.get(key);
      if (done) return done.value;
      const declared = pending.get(key);
      if (!declared) throw templateErrors.parameterNotFound(name);
      if (evaluating.has(key))
        throw new ExpressionError(`The template parameter '${declared}' refers to itself (circular reference).`);
      evaluating.add(key);
      const def = defs[declared] as JsonObject;
      const type = String(def?.type ?? '').toLowerCase();
      if (!isObject(def) || !TYPES.has(type)) {
        throw templateErrors.invalid(
          `The template parameter '${declared}' has a type that is not valid: '${String(def?.type)}'`,
          `parameters.${declared}`,
        );
      }
      const supplied = Object.entries(given).find(([g]) => g.toLowerCase() === key)?.[1];
      if (supplied && supplied.value === undefined) {
        throw templateErrors.invalid(
          `The template parameter '${declared}' has no value: Key Vault references are not supported`,
          `parameters.${declared}`,
        );
      }
      let value: Json;
      // ARM reads a null value as not given: the default applies, or null itself for a nullable parameter.
      const taken = supplied && (supplied.value !== null || def.defaultValue === undefined);
      if (taken) value = supplied.value!;
      else if (def.defaultValue !== undefined) {
        const scope = new Scope(this.env, 'parameterDefault');
        try {
          value = toJson(must(evaluateValue(def.defaultValue, scope), declared), declared);
        } catch (e) {
          if (e instanceof ExpressionError)
            throw templateErrors.inPart('parameter', declared, messageOf(e), `parameters.${declared}`);
          throw e;
        }
      } else if (def.nullable === true) value = null;
      else throw templateErrors.parameterMissing(declared);
      if (value !== null || def.nullable !== true) checkParameter(declared, type, def, value);
      this.parameters.set(key, { name: declared, type: String(def.type), value, secure: SECURE.has(type) });
      return value;
    };
    // parameters() in a default value reaches parameters not yet read: read them on demand.
    this.env.parameter = (name) => (this.options.outer ? this.options.outer.parameter(name) : resolveOne(name));
    for (const n of names) resolveOne(n);
    this.env.parameter = (name) => (this.options.outer ? this.options.outer.parameter(name) : this.parameter(name));
  }

  private readVariables(): void {
    const vars = (this.template.variables ?? {}) as JsonObject;
    if (!isObject(vars)) throw templateErrors.invalid("The template 'variables' must be an object", 'variables');
    if (Object.keys(vars).length > TEMPLATE_MAX_VARIABLES)
      throw templateErrors.invalid(
        `The number of template variables exceeds the limit of ${TEMPLATE_MAX_VARIABLES}`,
        'variables',
      );
    for (const [name, raw] of Object.entries(vars)) {
      if (name === 'copy' && Array.isArray(raw)) {
        for (const loop of raw) {
          if (!isObject(loop) || typeof loop.name !== 'string')
            throw templateErrors.invalid('A variable copy needs a name', 'variables.copy');
          this.variablesRaw.set(loop.name.toLowerCase(), { raw: null, copy: loop });
        }
      } else this.variablesRaw.set(name.toLowerCase(), { raw });
    }
    // Evaluate every variable now so an error names it at validation (those waiting on a reference stay deferred).
    for (const [key] of this.variablesRaw) {
      try {
        this.variable(key);
      } catch (e) {
        if (e instanceof ExpressionError)
          throw templateErrors.inPart('variable', key, messageOf(e), `variables.${key}`);
        throw e;
      }
    }
  }

  private variableCopy(loop: JsonObject, scope: Scope): Value {
    const name = String(loop.name);
    const count = evaluateCount(loop.count ?? null, scope, name);
    if (count instanceof Deferred) return DEFERRED;
    const out: Json[] = [];
    for (let i = 0; i < count; i++) {
      const v = evaluateValue(loop.input ?? null, scope.withCopy(name, i, true));
      if (v instanceof Deferred) return DEFERRED;
      out.push(toJson(v, name));
    }
    return out;
  }

  private rawResources(): RawResource[] {
    const res = this.template.resources ?? [];
    const out: RawResource[] = [];
    if (this.languageVersion === '2.0') {
      if (!isObject(res))
        throw templateErrors.invalid("The template 'resources' must be an object in languageVersion 2.0", 'resources');
      for (const [sym, raw] of Object.entries(res)) {
        if (!isObject(raw))
          throw templateErrors.invalid(`The template resource '${sym}' is not valid`, `resources.${sym}`);
        out.push({ raw, symbolicName: sym, path: `resources.${sym}` });
      }
      return out;
    }
    if (!Array.isArray(res)) throw templateErrors.invalid("The template 'resources' must be an array", 'resources');
    const walk = (list: Json[], path: string, parent?: RawResource['parent']) =>
      list.forEach((raw, i) => {
        const p = `${path}[${i}]`;
        if (!isObject(raw)) throw templateErrors.invalid('The template resource is not valid', p);
        out.push({ raw, path: p, parent });
        if (Array.isArray(raw.resources)) {
          walk(raw.resources, `${p}.resources`, { type: String(raw.type), name: raw.name ?? null, path: p });
        }
      });
    walk(res, 'resources');
    return out;
  }

  private readResources(): void {
    const raws = this.rawResources();
    const groups: { raw: RawResource; keys: string[]; copyName?: string }[] = [];
    for (const r of raws) groups.push({ raw: r, keys: this.expand(r), copyName: copyOf(r.raw)?.name });
    if (this.resources.length > TEMPLATE_MAX_RESOURCES) {
      throw templateErrors.invalid(
        `The number of resource instances exceeds the limit of ${TEMPLATE_MAX_RESOURCES}`,
        'resources',
      );
    }
    for (const g of groups) {
      for (const key of g.keys) this.resolveDependencies(g, key, groups);
    }
    this.order();
  }

  /** A resource (and its copies) → instances; returns their keys. */
  private expand(r: RawResource): string[] {
    const base = new Scope(this.env, 'resource');
    const copy = copyOf(r.raw);
    const named = (what: string, e: unknown, path = r.path) =>
      e instanceof ExpressionError
        ? templateErrors.inResource(r.symbolicName ?? String(r.raw.name), messageOf(e), path)
        : e;
    if (!copy) return [this.instance(r, base, named)];
    let count: number;
    try {
      count = must(evaluateCount(copy.count ?? null, base, copy.name), copy.name);
    } catch (e) {
      throw named('copy', e, `${r.path}.copy`);
    }
    const mode = String(copy.mode ?? 'parallel').toLowerCase() === 'serial' ? 'serial' : 'parallel';
    const batchSize = mode === 'serial' ? Math.max(1, Number(copy.batchSize ?? 1)) : count;
    const keys: string[] = [];
    for (let i = 0; i < count; i++) {
      keys.push(
        this.instance(r, base.withCopy(copy.name, i, true), named, { name: copy.name, index: i, mode, batchSize }),
      );
    }
    return keys;
  }

  private instance(
    r: RawResource,
    scope: Scope,
    named: (what: string, e: unknown, path?: string) => unknown,
    copy?: ResourceInstance['copy'],
  ): string {
    let type: string;
    let name: string;
    let apiVersion: string;
    try {
      const nameScope = scope.at('name');
      type = String(must(evaluateValue(r.raw.type ?? null, nameScope), 'type'));
      name = String(must(evaluateValue(r.raw.name ?? null, nameScope), 'name'));
      apiVersion = String(must(evaluateValue(r.raw.apiVersion ?? null, nameScope), 'apiVersion'));
      if (r.parent) {
        type = `${r.parent.type}/${type}`;
        name = `${String(must(evaluateValue(r.parent.name, nameScope), 'name'))}/${name}`;
      }
    } catch (e) {
      throw named('name', e);
    }
    if (!r.raw.type || !r.raw.name || !r.raw.apiVersion) {
      throw templateErrors.invalid(
        `The template resource '${name}' must have a type, a name and an apiVersion`,
        r.path,
      );
    }
    const id = this.idOf(type, name, r, scope);
    const key =
      r.symbolicName !== undefined
        ? copy
          ? `${r.symbolicName}[${copy.index}]`
          : r.symbolicName
        : copy
          ? `${id}[${copy.index}]`
          : id;
    const inst: ResourceInstance = {
      key,
      symbolicName: r.symbolicName,
      copy,
      id,
      type,
      name,
      apiVersion,
      condition: true,
      existing: r.raw.existing === true,
      dependsOn: [],
      body: {},
      deferred: [],
    };
    try {
      const c = evaluateValue(r.raw.condition ?? true, scope);
      inst.condition = c instanceof Deferred ? 'deferred' : asCondition(c);
      for (const member of Object.keys(r.raw)) {
        if (
          [
            'type',
            'name',
            'apiVersion',
            'condition',
            'copy',
            'dependsOn',
            'resources',
            'existing',
            'comments',
          ].includes(member)
        )
          continue;
        const v = this.evaluateMember(inst, r.raw, member, scope);
        if (v instanceof Deferred) inst.deferred.push(member);
        else inst.body[member] = toJson(v, member);
      }
    } catch (e) {
      throw named('body', e);
    }
    if (type.toLowerCase() === DEPLOYMENTS && isObject(r.raw.properties) && r.raw.properties.template !== undefined) {
      const opts = r.raw.properties.expressionEvaluationOptions;
      inst.nested = { scope: isObject(opts) && String(opts.scope).toLowerCase() === 'inner' ? 'inner' : 'outer' };
    }
    // ARM refuses a resource defined twice, unless all but one of the definitions have a false condition
    // (azure-ai-ml's workspace template names two conditional connections 'empty').
    const twin = this.scopes.has(key) ? this.resources.findIndex((x) => x.key === key) : -1;
    if (twin >= 0) {
      if (inst.condition === false) return key;
      if (this.resources[twin]!.condition !== false)
        throw templateErrors.invalid(`The resource '${id}' is defined multiple times in a template`, r.path);
      this.resources.splice(twin, 1);
    }
    this.resources.push(inst);
    this.scopes.set(key, { scope, raw: r.raw, path: r.path });
    this.byName.set(name.toLowerCase(), id);
    if (r.symbolicName) this.byName.set(r.symbolicName.toLowerCase(), id);
    return key;
  }

  /** One top-level member; a nested deployment's `template` is kept as written (its own plan evaluates it). */
  private evaluateMember(inst: ResourceInstance, raw: JsonObject, member: string, scope: Scope): Value {
    const value = raw[member] ?? null;
    if (
      member === 'properties' &&
      inst.type.toLowerCase() === DEPLOYMENTS &&
      isObject(value) &&
      value.template !== undefined
    ) {
      const { template, ...rest } = value;
      const v = evaluateValue(rest, scope);
      return v instanceof Deferred ? DEFERRED : { ...(v as JsonObject), template };
    }
    return evaluateValue(value, scope);
  }

  private idOf(type: string, name: string, r: RawResource, scope: Scope): string {
    const names = name.split('/');
    let path: string;
    try {
      path = providerPath('resourceId', type, names);
    } catch {
      throw templateErrors.invalid(
        `The template resource '${name}' for type '${type}' has incorrect segment lengths. A nested resource type must ` +
          'have identical number of segments as its resource name',
        r.path,
      );
    }
    const scopeValue = r.raw.scope === undefined ? undefined : evaluateValue(r.raw.scope, scope);
    if (typeof scopeValue === 'string' && scopeValue) {
      const base = scopeValue.startsWith('/')
        ? scopeValue
        : (this.byName.get(scopeValue.toLowerCase()) ?? this.rgPrefix() + `/providers/${scopeValue}`);
      return `${base.replace(/\/+$/, '')}${path}`;
    }
    return `${this.rgPrefix()}${path}`;
  }

  private rgPrefix(): string {
    const { subscriptionId, resourceGroupName } = this.ctx;
    return resourceGroupName === undefined
      ? `/subscriptions/${subscriptionId}`
      : `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`;
  }

  private resolveResource(ref: string): string {
    if (ref.startsWith('/')) return ref;
    const hit = this.byName.get(ref.toLowerCase());
    if (hit) return hit;
    if (this.options.outer) return this.options.outer.resolveResource(ref);
    return ref;
  }

  private resolveDependencies(
    g: { raw: RawResource; keys: string[]; copyName?: string },
    key: string,
    groups: { raw: RawResource; keys: string[]; copyName?: string }[],
  ): void {
    const inst = this.resources.find((r) => r.key === key)!;
    const saved = this.scopes.get(key)!;
    const deps = new Set<string>();
    const list = g.raw.raw.dependsOn ?? [];
    if (!Array.isArray(list))
      throw templateErrors.invalid("The template resource 'dependsOn' must be an array", `${g.raw.path}.dependsOn`);
    list.forEach((entry, i) => {
      const path = `${g.raw.path}.dependsOn[${i}]`;
      let ref: string;
      try {
        ref = String(must(evaluateValue(entry, saved.scope), 'dependsOn'));
      } catch (e) {
        throw e instanceof ExpressionError ? templateErrors.inResource(inst.name, messageOf(e), path) : e;
      }
      const matches = this.matchDependency(ref, groups);
      // A resource whose condition is false deploys nothing: Azure does not hold its dependsOn against it
      // (azure-ai-ml's workspace template has such a resource depend on connections it does not define).
      if (!matches.length && inst.condition === false) return;
      if (!matches.length) throw templateErrors.notDefined(ref, path);
      for (const m of matches) if (m !== key) deps.add(m);
    });
    if (g.raw.parent) {
      const parent = groups.find((x) => x.raw.path === g.raw.parent!.path);
      for (const k of parent?.keys ?? []) deps.add(k);
    }
    for (const id of this.env.referenced) {
      const target = this.resources.find((r) => r.id.toLowerCase() === id.toLowerCase());
      if (target && target.key !== key && inst.deferred.length) deps.add(target.key);
    }
    if (inst.copy?.mode === 'serial' && inst.copy.index >= inst.copy.batchSize) {
      const prevBatchStart = Math.floor(inst.copy.index / inst.copy.batchSize - 1) * inst.copy.batchSize;
      for (let i = prevBatchStart; i < prevBatchStart + inst.copy.batchSize; i++) deps.add(g.keys[i]!);
    }
    inst.dependsOn = [...deps];
  }

  private matchDependency(ref: string, groups: { raw: RawResource; keys: string[]; copyName?: string }[]): string[] {
    const lower = ref.toLowerCase();
    const loop = groups.find((g) => g.copyName?.toLowerCase() === lower || g.raw.symbolicName?.toLowerCase() === lower);
    if (loop) return loop.keys;
    const sym = /^(.+)\[(\d+)\]$/.exec(ref);
    if (sym) {
      const k = this.resources.find((r) => r.key.toLowerCase() === lower);
      if (k) return [k.key];
    }
    return this.resources
      .filter((r) => {
        const id = r.id.toLowerCase();
        const typeName = `${r.type}/${r.name}`.toLowerCase();
        const shortName = `${r.type.split('/').slice(0, 1).join('/')}`;
        void shortName;
        return (
          id === lower ||
          lower.endsWith(`/providers/${typeName}`) ||
          typeName === lower ||
          r.name.toLowerCase() === lower ||
          providerTail(id) === providerTail(lower)
        );
      })
      .map((r) => r.key);
  }

  /** Dependencies first, template order otherwise; a cycle is ARM's InvalidTemplate. */
  private order(): void {
    const byKey = new Map(this.resources.map((r) => [r.key, r]));
    const state = new Map<string, 'visiting' | 'done'>();
    const out: ResourceInstance[] = [];
    const visit = (r: ResourceInstance) => {
      const s = state.get(r.key);
      if (s === 'done') return;
      if (s === 'visiting') throw templateErrors.circular(r.id);
      state.set(r.key, 'visiting');
      for (const d of r.dependsOn) visit(byKey.get(d)!);
      state.set(r.key, 'done');
      out.push(r);
    };
    // Iterative over roots; depth is bounded by TEMPLATE_MAX_RESOURCES.
    for (const r of this.resources) visit(r);
    this.resources.splice(0, this.resources.length, ...out);
  }
}

function providerTail(id: string): string {
  const i = id.lastIndexOf('/providers/');
  return i < 0 ? id : id.slice(i);
}

function copyOf(raw: JsonObject): { name: string; count?: Json; mode?: Json; batchSize?: Json } | undefined {
  const c = raw.copy;
  if (c === undefined) return undefined;
  if (!isObject(c) || typeof c.name !== 'string')
    throw templateErrors.invalid("The template resource 'copy' needs a name and a count");
  return c as { name: string };
}

function must<T>(v: T | Deferred, what: string): T {
  if (v instanceof Deferred) {
    throw new ExpressionError(
      `The template function 'reference' is not expected at this location ('${what}' must be known before deployment).`,
    );
  }
  return v;
}

function asCondition(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ExpressionError(
    `The template resource condition must be a boolean; the provided value is of type '${typeName(v)}'.`,
  );
}

function checkHeader(t: JsonObject): '1.0' | '2.0' {
  if (!isObject(t)) throw templateErrors.invalid('The template must be a JSON object');
  if (typeof t.$schema !== 'string' || !/deploymentTemplate\.json#?$/i.test(t.$schema)) {
    throw templateErrors.invalid("The template '$schema' is missing or is not a deployment template schema", '$schema');
  }
  if (typeof t.contentVersion !== 'string' || !/^\d+(\.\d+){3}$/.test(t.contentVersion)) {
    throw templateErrors.invalid(
      "The template 'contentVersion' is missing or is not of the form 'n.n.n.n'",
      'contentVersion',
    );
  }
  const lv = t.languageVersion;
  if (lv === undefined || lv === '1.0') return '1.0';
  if (lv === '2.0' || lv === '1.10-experimental' || lv === '2.1-experimental') return '2.0';
  throw templateErrors.invalid(`The template languageVersion '${String(lv)}' is not supported`, 'languageVersion');
}

const JTOKEN: Record<string, string> = {
  string: 'String',
  securestring: 'String',
  int: 'Integer',
  bool: 'Boolean',
  object: 'Object',
  secureobject: 'Object',
  array: 'Array',
};

function checkParameter(name: string, type: string, def: JsonObject, value: Json): void {
  const secure = SECURE.has(type);
  const actual = typeName(value);
  if (JTOKEN[type] !== actual) throw templateErrors.parameterType(name, JTOKEN[type]!, actual);
  if (Array.isArray(def.allowedValues)) {
    const ok =
      type === 'array'
        ? (value as Json[]).every((v) =>
            (def.allowedValues as Json[]).some((a) => JSON.stringify(a) === JSON.stringify(v)),
          )
        : (def.allowedValues as Json[]).some((a) => JSON.stringify(a) === JSON.stringify(value));
    if (!ok) {
      throw templateErrors.parameterValue(
        name,
        secure
          ? 'The parameter value is not part of the allowed value(s).'
          : `The value '${typeof value === 'string' ? value : JSON.stringify(value)}' is not part of the allowed value(s): '${(def.allowedValues as Json[]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(',')}'.`,
      );
    }
  }
  if (typeof value === 'number') {
    if (typeof def.minValue === 'number' && value < def.minValue)
      throw templateErrors.parameterValue(name, `The value should be greater than or equal to '${def.minValue}'.`);
    if (typeof def.maxValue === 'number' && value > def.maxValue)
      throw templateErrors.parameterValue(name, `The value should be less than or equal to '${def.maxValue}'.`);
  }
  if (typeof value === 'string' || Array.isArray(value)) {
    if (typeof def.minLength === 'number' && value.length < def.minLength)
      throw templateErrors.parameterValue(
        name,
        `Length of the value should be greater than or equal to '${def.minLength}'.`,
      );
    if (typeof def.maxLength === 'number' && value.length > def.maxLength)
      throw templateErrors.parameterValue(
        name,
        `Length of the value should be less than or equal to '${def.maxLength}'.`,
      );
  }
}

/** Prepares a template: validated parameters, variables and functions, and the ordered instances. */
export function prepareTemplate(template: Json, ctx: TemplateContext, options: PrepareOptions = {}): PreparedTemplate {
  if (!isObject(template)) throw templateErrors.invalid('The template must be a JSON object');
  return new PreparedTemplate(template, ctx, options);
}

/**
 * The plan of a nested inline deployment instance (resolve the instance first when its properties were deferred).
 * inner: its own parameters from properties.parameters; outer: the parent's parameters, variables and functions.
 */
export function prepareNested(
  parent: PreparedTemplate,
  inst: ResourceInstance,
  ctx: TemplateContext,
  nesting = 1,
): PreparedTemplate {
  const props = inst.body.properties;
  if (!inst.nested || !isObject(props) || !isObject(props.template))
    throw new TemplateError(`The resource '${inst.id}' is not an inline nested deployment.`);
  if (inst.nested.scope === 'outer') return prepareTemplate(props.template, ctx, { outer: parent, nesting });
  const params = (isObject(props.parameters) ? props.parameters : {}) as PrepareOptions['parameters'];
  return prepareTemplate(props.template, ctx, { parameters: params, nesting });
}

export { getProperty };
