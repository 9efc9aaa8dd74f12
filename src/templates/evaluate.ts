/**
 * The expression evaluator. A value that waits on reference()/list* of a resource not deployed yet is `DEFERRED`:
 * it propagates through every function and property access, so preparation keeps that part of the template
 * unevaluated and the engine re-runs the same evaluation once the context can answer.
 */
import type { Json, JsonObject, TemplateContext } from './context.js';
import { ExpressionError, templateErrors } from './errors.js';
import { expressionText, literalOf, parseExpression, type Node } from './expressions.js';
import { TEMPLATE_COPY_MAX_COUNT, TEMPLATE_EVAL_MAX_CALLS, TEMPLATE_EVAL_MAX_DEPTH } from './limits.js';

export class Deferred {
  private constructor() {}
  static readonly value = new Deferred();
}
export const DEFERRED = Deferred.value;

export class Lambda {
  constructor(
    readonly params: string[],
    readonly body: Node,
    readonly scope: Scope,
  ) {}
}

export type Value = Json | Lambda | Deferred;

/** Where an expression sits: some functions are valid only in some places (as in ARM). */
export type Place = 'resource' | 'parameterDefault' | 'variable' | 'output' | 'userFunction' | 'name';

export interface UserFunction {
  params: { name: string; type: string }[];
  output: { type: string; value: Json };
}

/** What one template's expressions see; shared by every scope of that template. */
export interface Env {
  ctx: TemplateContext;
  parameter(name: string): Json;
  variable(name: string, scope: Scope): Value;
  userFunction(name: string): UserFunction | undefined;
  /** A symbolic name (2.0) or a resource name (1.0) of this template → its resource id; ids pass through. */
  resolveResource(ref: string): string;
  /** The resource ids reference()/list* asked for (implicit dependencies). */
  referenced: Set<string>;
  budget: { calls: number };
}

export class Scope {
  constructor(
    readonly env: Env,
    readonly place: Place,
    private readonly copies: ReadonlyMap<string, number> = new Map(),
    private readonly lambdas: ReadonlyMap<string, Value> = new Map(),
    readonly depth = 0,
    /** Inside a user function: its arguments, which replace the template's parameters. */
    readonly functionArgs?: ReadonlyMap<string, Json>,
  ) {}

  at(place: Place): Scope {
    return new Scope(this.env, place, this.copies, this.lambdas, this.depth, this.functionArgs);
  }

  withCopy(loop: string, index: number, isDefault = false): Scope {
    const copies = new Map(this.copies).set(loop.toLowerCase(), index);
    if (isDefault) copies.set('', index);
    return new Scope(this.env, this.place, copies, this.lambdas, this.depth, this.functionArgs);
  }

  withLambda(vars: [string, Value][]): Scope {
    const lambdas = new Map(this.lambdas);
    for (const [k, v] of vars) lambdas.set(k.toLowerCase(), v);
    return new Scope(this.env, this.place, this.copies, lambdas, this.deeper(), this.functionArgs);
  }

  forFunction(args: ReadonlyMap<string, Json>): Scope {
    return new Scope(this.env, 'userFunction', new Map(), new Map(), this.deeper(), args);
  }

  nested(): Scope {
    return new Scope(this.env, this.place, this.copies, this.lambdas, this.deeper(), this.functionArgs);
  }

  copyIndex(loop: string | undefined): number {
    const i = this.copies.get((loop ?? '').toLowerCase());
    if (i === undefined) {
      throw loop === undefined
        ? templateErrors.notExpectedHere('copyIndex')
        : templateErrors.invalidArg('copyIndex', `the copy loop '${loop}' is not found at this location.`);
    }
    return i;
  }

  lambdaVariable(name: string): Value {
    const v = this.lambdas.get(name.toLowerCase());
    if (v === undefined)
      throw templateErrors.invalidArg('lambdaVariables', `the lambda variable '${name}' is not defined.`);
    return v;
  }

  private deeper(): number {
    if (this.depth + 1 > TEMPLATE_EVAL_MAX_DEPTH)
      throw templateErrors.limit('evaluation depth', TEMPLATE_EVAL_MAX_DEPTH);
    return this.depth + 1;
  }
}

export type Impl = (args: Value[], scope: Scope, name: string) => Value;
export type LazyImpl = (args: Node[], scope: Scope, name: string) => Value;
export interface FunctionDef {
  min: number;
  max: number;
  impl?: Impl;
  lazy?: LazyImpl;
  /** Where it may be used; absent: anywhere. */
  places?: Place[];
}

let registry: ReadonlyMap<string, FunctionDef> = new Map();
/** functions.ts registers the library here (kept apart so the evaluator does not import it in a cycle). */
export function registerFunctions(defs: ReadonlyMap<string, FunctionDef>): void {
  registry = defs;
}

export function evaluateNode(node: Node, scope: Scope): Value {
  switch (node.k) {
    case 'str':
    case 'num':
      return node.v;
    case 'prop': {
      const target = evaluateNode(node.target, scope);
      return target instanceof Deferred ? DEFERRED : member(target, node.name);
    }
    case 'index': {
      const target = evaluateNode(node.target, scope);
      const index = evaluateNode(node.index, scope);
      if (target instanceof Deferred || index instanceof Deferred) return DEFERRED;
      return member(target, index);
    }
    case 'call':
      return call(node, scope);
  }
}

function call(node: Extract<Node, { k: 'call' }>, scope: Scope): Value {
  if (++scope.env.budget.calls > TEMPLATE_EVAL_MAX_CALLS) {
    throw templateErrors.limit('number of function evaluations', TEMPLATE_EVAL_MAX_CALLS);
  }
  if (node.name.includes('.')) return callUserFunction(node, scope);
  const lower = node.name.toLowerCase();
  const def = registry.get(lower) ?? (lower.startsWith('list') ? registry.get('list*') : undefined);
  if (!def) throw templateErrors.unknownFunction(node.name);
  if (def.places && !def.places.includes(scope.place)) throw notHere(node.name, def.places);
  if (node.args.length < def.min) throw templateErrors.arity(node.name, 'at least', def.min);
  if (node.args.length > def.max) throw templateErrors.arity(node.name, 'at most', def.max);
  if (def.lazy) return def.lazy(node.args, scope, node.name);
  const args: Value[] = [];
  for (const a of node.args) {
    const v = evaluateNode(a, scope);
    if (v instanceof Deferred) return DEFERRED;
    args.push(v);
  }
  return def.impl!(args, scope, node.name);
}

function notHere(name: string, places: Place[]): ExpressionError {
  if (places.length === 1 && places[0] === 'parameterDefault') {
    return templateErrors.notExpectedHere(name, 'The function can only be used with parameter default values.');
  }
  return templateErrors.notExpectedHere(name);
}

function callUserFunction(node: Extract<Node, { k: 'call' }>, scope: Scope): Value {
  const fn = scope.env.userFunction(node.name);
  if (!fn) throw templateErrors.unknownFunction(node.name);
  if (node.args.length !== fn.params.length) throw templateErrors.arity(node.name, 'exactly', fn.params.length);
  const args = new Map<string, Json>();
  for (let i = 0; i < fn.params.length; i++) {
    const v = evaluateNode(node.args[i]!, scope);
    if (v instanceof Deferred) return DEFERRED;
    args.set(fn.params[i]!.name.toLowerCase(), toJson(v, node.name));
  }
  return evaluateValue(fn.output.value, scope.forFunction(args));
}

export function typeName(v: Value): string {
  if (v === null) return 'Null';
  if (v instanceof Lambda) return 'Lambda';
  if (v instanceof Deferred) return 'Deferred';
  if (Array.isArray(v)) return 'Array';
  switch (typeof v) {
    case 'string':
      return 'String';
    case 'number':
      return Number.isInteger(v) ? 'Integer' : 'Float';
    case 'boolean':
      return 'Boolean';
    default:
      return 'Object';
  }
}

export function isObject(v: Value): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Lambda) && !(v instanceof Deferred);
}

/** An object's property, matched exactly first and then without case (ARM's properties are case-insensitive). */
export function getProperty(obj: JsonObject, key: string): Json | undefined {
  if (Object.hasOwn(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function member(target: Value, key: Value): Value {
  if (Array.isArray(target)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw templateErrors.argType('[]', 'Integer', typeName(key));
    if (key < 0 || key >= target.length) throw templateErrors.indexOutOfBounds(key);
    return target[key]!;
  }
  if (isObject(target)) {
    if (typeof key !== 'string') throw templateErrors.argType('[]', 'String', typeName(key));
    const v = getProperty(target, key);
    if (v === undefined) throw templateErrors.propertyMissing(key, Object.keys(target));
    return v;
  }
  throw templateErrors.notIndexable(typeName(target));
}

export function toJson(v: Value, where: string): Json {
  if (v instanceof Lambda) {
    throw new ExpressionError(
      `The template language function '${where}' cannot use a lambda function here: lambda functions can only be ` +
        'passed to functions that take them (filter, map, reduce, sort, toObject, groupBy, mapValues).',
    );
  }
  if (v instanceof Deferred) throw new ExpressionError('internal: a deferred value reached a JSON position');
  return v;
}

/** A template string: its expression's value, or the literal. */
export function evaluateString(s: string, scope: Scope): Value {
  const text = expressionText(s);
  if (text === null) return literalOf(s);
  return evaluateNode(parseExpression(text), scope);
}

/**
 * A JSON value of the template with every expression evaluated and every property `copy` expanded.
 * DEFERRED when some part of it waits on a reference.
 */
export function evaluateValue(v: Json, scope: Scope): Value {
  if (typeof v === 'string') return evaluateString(v, scope);
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const item of v) {
      const e = evaluateValue(item, scope);
      if (e instanceof Deferred) return DEFERRED;
      out.push(toJson(e, 'array'));
    }
    return out;
  }
  if (v === null || typeof v !== 'object') return v;
  const out: JsonObject = {};
  for (const [k, item] of Object.entries(v)) {
    if (k === 'copy' && Array.isArray(item)) {
      const expanded = expandPropertyCopies(item, scope);
      if (expanded instanceof Deferred) return DEFERRED;
      Object.assign(out, expanded);
      continue;
    }
    const e = evaluateValue(item, scope);
    if (e instanceof Deferred) return DEFERRED;
    out[k] = toJson(e, k);
  }
  return out;
}

/** `"copy": [{ "name", "count", "input" }]` inside an object: each becomes an array property named `name`. */
export function expandPropertyCopies(loops: Json[], scope: Scope): JsonObject | Deferred {
  const out: JsonObject = {};
  for (const loop of loops) {
    if (!isObject(loop) || typeof loop.name !== 'string' || loop.input === undefined) {
      throw new ExpressionError("A property copy loop must have a 'name', a 'count' and an 'input'.");
    }
    const count = evaluateCount(loop.count ?? null, scope, loop.name);
    if (count instanceof Deferred) return DEFERRED;
    const items: Json[] = [];
    for (let i = 0; i < count; i++) {
      const e = evaluateValue(loop.input, scope.withCopy(loop.name, i));
      if (e instanceof Deferred) return DEFERRED;
      items.push(toJson(e, loop.name));
    }
    out[loop.name] = items;
  }
  return out;
}

export function evaluateCount(raw: Json, scope: Scope, loop: string): number | Deferred {
  const v = evaluateValue(raw, scope);
  if (v instanceof Deferred) return DEFERRED;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > TEMPLATE_COPY_MAX_COUNT) {
    throw new ExpressionError(
      `The copy '${loop}' has an invalid copy count. The copy count must be a non-negative integer value and ` +
        `cannot exceed '${TEMPLATE_COPY_MAX_COUNT}'.`,
    );
  }
  return v;
}
