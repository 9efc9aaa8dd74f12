/** The ARM template function library (everything Bicep emits for ordinary files). */
import type { Json, JsonObject } from './context.js';
import { ExpressionError, templateErrors } from './errors.js';
import {
  DEFERRED,
  Deferred,
  evaluateNode,
  getProperty,
  isObject,
  Lambda,
  registerFunctions,
  toJson,
  typeName,
  type FunctionDef,
  type Impl,
  type Scope,
  type Value,
} from './evaluate.js';
import { dotnetDate, dotnetFormat, dotnetString } from './format.js';
import { armGuid, uniqueString } from './hash.js';
import {
  extensionResourceIdOf,
  managementGroupResourceIdOf,
  resourceIdOf,
  subscriptionResourceIdOf,
  tenantResourceIdOf,
} from './resource-ids.js';
import { TEMPLATE_RANGE_MAX_COUNT, TEMPLATE_VALUE_MAX_SIZE } from './limits.js';

const defs = new Map<string, FunctionDef>();
const fn = (name: string, min: number, max: number, impl: Impl, extra: Partial<FunctionDef> = {}) =>
  defs.set(name.toLowerCase(), { min, max, impl, ...extra });
const lazy = (name: string, min: number, max: number, impl: NonNullable<FunctionDef['lazy']>) =>
  defs.set(name.toLowerCase(), { min, max, lazy: impl });
const MANY = Number.MAX_SAFE_INTEGER;

// ---- argument checks -------------------------------------------------------------------------------------------

function str(name: string, v: Value): string {
  if (typeof v !== 'string') throw templateErrors.argType(name, 'String', typeName(v));
  return v;
}
function int(name: string, v: Value): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw templateErrors.argType(name, 'Integer', typeName(v));
  return v;
}
function bool(name: string, v: Value): boolean {
  if (typeof v !== 'boolean') throw templateErrors.argType(name, 'Boolean', typeName(v));
  return v;
}
function arr(name: string, v: Value): Json[] {
  if (!Array.isArray(v)) throw templateErrors.argType(name, 'Array', typeName(v));
  return v;
}
function obj(name: string, v: Value): JsonObject {
  if (!isObject(v)) throw templateErrors.argType(name, 'Object', typeName(v));
  return v;
}
function lambda(name: string, v: Value, arity: number[]): Lambda {
  if (!(v instanceof Lambda)) throw templateErrors.argType(name, 'Lambda', typeName(v));
  if (!arity.includes(v.params.length)) {
    throw templateErrors.invalidArg(name, `the lambda function must have ${arity.join(' or ')} parameter(s).`);
  }
  return v;
}
function sized<T extends string | Json[]>(name: string, v: T): T {
  if (v.length > TEMPLATE_VALUE_MAX_SIZE) throw templateErrors.limit(`result of '${name}'`, TEMPLATE_VALUE_MAX_SIZE);
  return v;
}
function json(v: Value, name: string): Json {
  return toJson(v, name);
}

export function deepEquals(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEquals(x, b[i]!));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEquals(a[k]!, b[k]!));
  }
  return false;
}

function callLambda(l: Lambda, args: Json[]): Json {
  const vars = l.params.map((p, i) => [p, args[i] ?? null] as [string, Value]);
  const v = evaluateNode(l.body, l.scope.withLambda(vars));
  if (v instanceof Deferred) throw new DeferredSignal();
  return json(v, 'lambda');
}
/** A lambda body waiting on a reference: the whole call defers. */
class DeferredSignal extends Error {}
function deferring(impl: Impl): Impl {
  return (args, scope, name) => {
    try {
      return impl(args, scope, name);
    } catch (e) {
      if (e instanceof DeferredSignal) return DEFERRED;
      throw e;
    }
  };
}

// ---- template structure --------------------------------------------------------------------------------------

fn('parameters', 1, 1, (a, scope) => {
  const name = str('parameters', a[0]!);
  if (scope.functionArgs) {
    const v = scope.functionArgs.get(name.toLowerCase());
    if (v === undefined) throw templateErrors.parameterNotFound(name);
    return v;
  }
  return scope.env.parameter(name);
});
fn('variables', 1, 1, (a, scope) => scope.env.variable(str('variables', a[0]!), scope), {
  places: ['resource', 'variable', 'output', 'name'],
});
fn('copyIndex', 0, 2, (a, scope) => {
  let loop: string | undefined;
  let offset = 0;
  if (typeof a[0] === 'string') {
    loop = a[0];
    offset = a[1] === undefined ? 0 : int('copyIndex', a[1]);
  } else if (a[0] !== undefined) offset = int('copyIndex', a[0]);
  return scope.copyIndex(loop) + offset;
});
lazy('lambda', 1, MANY, (nodes, scope) => {
  const params = nodes.slice(0, -1).map((n) => {
    if (n.k !== 'str') throw templateErrors.invalidArg('lambda', 'the lambda parameter names must be string literals.');
    return n.v;
  });
  return new Lambda(params, nodes[nodes.length - 1]!, scope.nested());
});
fn('lambdaVariables', 1, 1, (a, scope) => scope.lambdaVariable(str('lambdaVariables', a[0]!)));

// ---- deployment context --------------------------------------------------------------------------------------

const ctxObject = (name: string, get: (s: Scope) => JsonObject | undefined) =>
  fn(name, 0, 0, (_a, scope) => {
    const v = get(scope);
    if (v === undefined) throw templateErrors.notExpectedHere(name);
    return v;
  });
ctxObject('resourceGroup', (s) => s.env.ctx.resourceGroup());
ctxObject('subscription', (s) => s.env.ctx.subscription());
ctxObject('tenant', (s) => s.env.ctx.tenant());
ctxObject('deployment', (s) => s.env.ctx.deployment());
ctxObject('environment', (s) => s.env.ctx.environment());

const strings = (name: string, a: Value[]) => a.map((v) => str(name, v));
fn('resourceId', 2, MANY, (a, s) => resourceIdOf(strings('resourceId', a), s.env.ctx));
fn('subscriptionResourceId', 2, MANY, (a, s) =>
  subscriptionResourceIdOf(strings('subscriptionResourceId', a), s.env.ctx.subscriptionId),
);
fn('tenantResourceId', 2, MANY, (a) => tenantResourceIdOf(strings('tenantResourceId', a)));
fn('extensionResourceId', 3, MANY, (a) => extensionResourceIdOf(strings('extensionResourceId', a)));
fn('managementGroupResourceId', 2, MANY, (a) => managementGroupResourceIdOf(strings('managementGroupResourceId', a)));

const NOT_IN_DEFAULTS: FunctionDef['places'] = ['resource', 'output', 'variable'];
fn(
  'reference',
  1,
  3,
  (a, scope) => {
    const id = scope.env.resolveResource(str('reference', a[0]!));
    const apiVersion = a[1] === undefined ? undefined : str('reference', a[1]);
    const full = a[2] !== undefined && str('reference', a[2]).toLowerCase() === 'full';
    scope.env.referenced.add(id);
    return scope.env.ctx.reference(id, apiVersion, full) ?? DEFERRED;
  },
  { places: NOT_IN_DEFAULTS },
);
defs.set('list*', {
  min: 2,
  max: 3,
  places: NOT_IN_DEFAULTS,
  impl: (a, scope, name) => {
    const id = scope.env.resolveResource(str(name, a[0]!));
    scope.env.referenced.add(id);
    const body = a[2] === undefined ? undefined : json(a[2], name);
    return scope.env.ctx.list(name, id, str(name, a[1]!), body) ?? DEFERRED;
  },
});
fn('newGuid', 0, 0, (_a, s) => s.env.ctx.newGuid(), { places: ['parameterDefault'] });
fn(
  'utcNow',
  0,
  1,
  (a, s) => dotnetDate(s.env.ctx.now(), a[0] === undefined ? 'yyyyMMddTHHmmssZ' : str('utcNow', a[0])),
  {
    places: ['parameterDefault'],
  },
);

// ---- strings -------------------------------------------------------------------------------------------------

fn('concat', 0, MANY, (a) => {
  if (a.length && Array.isArray(a[0]))
    return sized(
      'concat',
      a.flatMap((v) => (v === null ? [] : arr('concat', v))),
    );
  return sized(
    'concat',
    a
      .map((v) => {
        if (Array.isArray(v) || isObject(v) || v instanceof Lambda)
          throw templateErrors.argType('concat', 'String', typeName(v));
        return dotnetString(v as Json);
      })
      .join(''),
  );
});
fn('format', 1, MANY, (a) =>
  sized(
    'format',
    dotnetFormat(
      str('format', a[0]!),
      a.slice(1).map((v) => json(v, 'format')),
    ),
  ),
);
fn('string', 1, 1, (a) => sized('string', dotnetString(json(a[0]!, 'string'))));
fn('toLower', 1, 1, (a) => str('toLower', a[0]!).toLowerCase());
fn('toUpper', 1, 1, (a) => str('toUpper', a[0]!).toUpperCase());
fn('trim', 1, 1, (a) => str('trim', a[0]!).trim());
fn('substring', 1, 3, (a) => {
  const s = str('substring', a[0]!);
  const start = a[1] === undefined ? 0 : int('substring', a[1]);
  const length = a[2] === undefined ? s.length - start : int('substring', a[2]);
  if (start < 0 || start > s.length) {
    throw templateErrors.invalidArg(
      'substring',
      `the index parameter cannot be less than zero or greater than the length of the string. The index parameter: '${start}', the length of value parameter: '${s.length}'.`,
    );
  }
  if (length < 0 || start + length > s.length) {
    throw templateErrors.invalidArg(
      'substring',
      `the index and length parameters must refer to a location within the string. The index parameter: '${start}', the length parameter: '${length}', the length of value parameter: '${s.length}'.`,
    );
  }
  return s.substr(start, length);
});
fn('replace', 3, 3, (a) => {
  const [s, from, to] = [str('replace', a[0]!), str('replace', a[1]!), str('replace', a[2]!)];
  if (!from) throw templateErrors.invalidArg('replace', 'the old value cannot be empty.');
  return sized('replace', s.split(from).join(to));
});
fn('split', 2, 2, (a) => {
  const s = str('split', a[0]!);
  const delims = Array.isArray(a[1]) ? a[1].map((d) => str('split', d)) : [str('split', a[1]!)];
  let parts = [s];
  for (const d of delims.filter(Boolean)) parts = parts.flatMap((p) => p.split(d));
  return parts;
});
fn('join', 2, 2, (a) =>
  sized(
    'join',
    arr('join', a[0]!)
      .map((v) => dotnetString(v))
      .join(str('join', a[1]!)),
  ),
);
const ci = (s: string) => s.toLowerCase();
fn('startsWith', 2, 2, (a) => ci(str('startsWith', a[0]!)).startsWith(ci(str('startsWith', a[1]!))));
fn('endsWith', 2, 2, (a) => ci(str('endsWith', a[0]!)).endsWith(ci(str('endsWith', a[1]!))));
fn('indexOf', 2, 2, (a) =>
  Array.isArray(a[0])
    ? a[0].findIndex((v) => deepEquals(v, json(a[1]!, 'indexOf')))
    : ci(str('indexOf', a[0]!)).indexOf(ci(str('indexOf', a[1]!))),
);
fn('lastIndexOf', 2, 2, (a) => {
  if (Array.isArray(a[0])) {
    const target = json(a[1]!, 'lastIndexOf');
    for (let i = a[0].length - 1; i >= 0; i--) if (deepEquals(a[0][i]!, target)) return i;
    return -1;
  }
  return ci(str('lastIndexOf', a[0]!)).lastIndexOf(ci(str('lastIndexOf', a[1]!)));
});
fn('padLeft', 2, 3, (a) => {
  const v = a[0];
  const s = typeof v === 'number' ? String(v) : str('padLeft', v!);
  const pad = a[2] === undefined ? ' ' : str('padLeft', a[2]);
  return sized('padLeft', s.padStart(int('padLeft', a[1]!), pad[0] ?? ' '));
});
fn('base64', 1, 1, (a) => Buffer.from(str('base64', a[0]!), 'utf8').toString('base64'));
fn('base64ToString', 1, 1, (a) => Buffer.from(str('base64ToString', a[0]!), 'base64').toString('utf8'));
fn('base64ToJson', 1, 1, (a) =>
  parseJson('base64ToJson', Buffer.from(str('base64ToJson', a[0]!), 'base64').toString('utf8')),
);
fn('uriComponent', 1, 1, (a) => encodeURIComponent(str('uriComponent', a[0]!)));
fn('uriComponentToString', 1, 1, (a) => decodeURIComponent(str('uriComponentToString', a[0]!)));
fn('uri', 2, 2, (a) => {
  try {
    return new URL(str('uri', a[1]!), str('uri', a[0]!)).toString();
  } catch {
    throw templateErrors.invalidArg('uri', 'the base uri is not a valid absolute uri.');
  }
});
fn(
  'dataUri',
  1,
  1,
  (a) => `data:text/plain;charset=utf8;base64,${Buffer.from(str('dataUri', a[0]!)).toString('base64')}`,
);
fn('uniqueString', 1, MANY, (a) => uniqueString(strings('uniqueString', a)));
fn('guid', 1, MANY, (a) => armGuid(strings('guid', a)));

function parseJson(name: string, s: string): Json {
  try {
    return JSON.parse(s) as Json;
  } catch {
    throw templateErrors.invalidArg(name, 'the value is not valid JSON.');
  }
}

// ---- conversions ---------------------------------------------------------------------------------------------

fn('int', 1, 1, (a) => {
  const v = a[0]!;
  if (typeof v === 'number') return Math.trunc(v);
  const s = str('int', v).trim();
  if (!/^[+-]?\d+$/.test(s))
    throw templateErrors.invalidArg('int', `the value '${s}' cannot be converted to an integer.`);
  return Number(s);
});
fn('bool', 1, 1, (a) => {
  const v = a[0]!;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = str('bool', v).toLowerCase();
  if (s !== 'true' && s !== 'false') {
    throw new ExpressionError(
      "The template language function 'bool' was invoked with a parameter that is not valid. The value cannot be " +
        'converted to the target type.',
    );
  }
  return s === 'true';
});
fn('json', 1, 1, (a) => parseJson('json', str('json', a[0]!)));
fn('true', 0, 0, () => true);
fn('false', 0, 0, () => false);
fn('null', 0, 0, () => null);

// ---- logic and comparison ------------------------------------------------------------------------------------

lazy('if', 3, 3, (n, scope) => {
  const c = evaluateNode(n[0]!, scope);
  if (c instanceof Deferred) return DEFERRED;
  return evaluateNode(bool('if', c) ? n[1]! : n[2]!, scope);
});
const shortCircuit = (name: string, stopOn: boolean) =>
  lazy(name, 1, MANY, (n, scope) => {
    let deferred = false;
    for (const node of n) {
      const v = evaluateNode(node, scope);
      if (v instanceof Deferred) deferred = true;
      else if (bool(name, v) === stopOn) return stopOn;
    }
    return deferred ? DEFERRED : !stopOn;
  });
shortCircuit('and', false);
shortCircuit('or', true);
fn('not', 1, 1, (a) => !bool('not', a[0]!));
fn('equals', 2, 2, (a) => deepEquals(json(a[0]!, 'equals'), json(a[1]!, 'equals')));
lazy('coalesce', 1, MANY, (n, scope) => {
  for (const node of n) {
    const v = evaluateNode(node, scope);
    if (v instanceof Deferred) return DEFERRED;
    if (v !== null) return v;
  }
  return null;
});
function comparable(name: string, a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw templateErrors.argType(name, 'Integer, String', `${typeName(a)}, ${typeName(b)}`);
}
fn('greater', 2, 2, (a) => comparable('greater', a[0]!, a[1]!) > 0);
fn('greaterOrEquals', 2, 2, (a) => comparable('greaterOrEquals', a[0]!, a[1]!) >= 0);
fn('less', 2, 2, (a) => comparable('less', a[0]!, a[1]!) < 0);
fn('lessOrEquals', 2, 2, (a) => comparable('lessOrEquals', a[0]!, a[1]!) <= 0);

// ---- numbers -------------------------------------------------------------------------------------------------

const arith = (name: string, op: (x: number, y: number) => number) =>
  fn(name, 2, 2, (a) => {
    const r = op(int(name, a[0]!), int(name, a[1]!));
    if (!Number.isSafeInteger(r))
      throw templateErrors.invalidArg(name, 'the result is out of the range of a 64-bit integer.');
    return r;
  });
arith('add', (x, y) => x + y);
arith('sub', (x, y) => x - y);
arith('mul', (x, y) => x * y);
const nonZero = (name: string, y: number) => {
  if (y === 0) throw templateErrors.invalidArg(name, 'the divisor cannot be zero.');
  return y;
};
arith('div', (x, y) => Math.trunc(x / nonZero('div', y)));
arith('mod', (x, y) => x % nonZero('mod', y));
const extreme = (name: string, pick: (xs: number[]) => number) =>
  fn(name, 1, MANY, (a) => {
    const xs = (a.length === 1 && Array.isArray(a[0]) ? a[0] : a).map((v) => int(name, v as Value));
    if (!xs.length) throw templateErrors.invalidArg(name, 'the array cannot be empty.');
    return pick(xs);
  });
extreme('min', (xs) => Math.min(...xs));
extreme('max', (xs) => Math.max(...xs));
fn('range', 2, 2, (a) => {
  const [start, count] = [int('range', a[0]!), int('range', a[1]!)];
  if (count < 0 || count > TEMPLATE_RANGE_MAX_COUNT) {
    throw templateErrors.invalidArg(
      'range',
      `the count must be a non-negative integer no greater than '${TEMPLATE_RANGE_MAX_COUNT}'.`,
    );
  }
  if (start + count > 2147483647)
    throw templateErrors.invalidArg(
      'range',
      "the sum of 'startIndex' and 'count' must be no greater than '2147483647'.",
    );
  return Array.from({ length: count }, (_, i) => start + i);
});

// ---- arrays and objects --------------------------------------------------------------------------------------

fn('length', 1, 1, (a) => {
  const v = a[0]!;
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw new ExpressionError(
    "The template language function 'length' expects its parameter to be an array, an object, or a string. " +
      `The provided value is of type '${typeName(v)}'.`,
  );
});
fn('empty', 1, 1, (a) => {
  const v = a[0]!;
  if (v === null) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  throw templateErrors.argType('empty', 'Array, Object, String, Null', typeName(v));
});
fn('contains', 2, 2, (a) => {
  const [c, x] = a;
  if (typeof c === 'string') return c.includes(typeof x === 'number' ? String(x) : str('contains', x!));
  if (Array.isArray(c)) return c.some((v) => deepEquals(v, json(x!, 'contains')));
  if (isObject(c)) return getProperty(c, str('contains', x!)) !== undefined;
  throw templateErrors.argType('contains', 'Array, Object, String', typeName(c!));
});
fn('createArray', 0, MANY, (a) =>
  sized(
    'createArray',
    a.map((v) => json(v, 'createArray')),
  ),
);
fn('array', 1, 1, (a) => (Array.isArray(a[0]) ? a[0] : [json(a[0]!, 'array')]));
fn('createObject', 0, MANY, (a) => {
  if (a.length % 2) throw templateErrors.invalidArg('createObject', 'the number of parameters must be even.');
  const out: JsonObject = {};
  for (let i = 0; i < a.length; i += 2) out[str('createObject', a[i]!)] = json(a[i + 1]!, 'createObject');
  return out;
});
function unionOf(a: Json, b: Json): Json {
  if (isObject(a) && isObject(b)) {
    const out: JsonObject = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? unionOf(out[k]!, v) : v;
    return out;
  }
  return b;
}
fn('union', 1, MANY, (a) => {
  if (Array.isArray(a[0])) {
    const out: Json[] = [];
    for (const v of a.flatMap((x) => arr('union', x))) if (!out.some((o) => deepEquals(o, v))) out.push(v);
    return sized('union', out);
  }
  return a.map((v) => obj('union', v)).reduce<Json>((acc, v) => unionOf(acc, v), {});
});
fn('intersection', 1, MANY, (a) => {
  if (Array.isArray(a[0])) {
    const rest = a.slice(1).map((x) => arr('intersection', x));
    const out: Json[] = [];
    for (const v of a[0]) {
      if (rest.every((r) => r.some((x) => deepEquals(x, v))) && !out.some((o) => deepEquals(o, v))) out.push(v);
    }
    return out;
  }
  const objs = a.map((v) => obj('intersection', v));
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(objs[0]!)) {
    if (objs.every((o) => Object.hasOwn(o, k) && deepEquals(o[k]!, v))) out[k] = v;
  }
  return out;
});
const seq = (name: string, v: Value): string | Json[] => {
  if (typeof v === 'string' || Array.isArray(v)) return v;
  throw templateErrors.argType(name, 'Array, String', typeName(v));
};
fn('first', 1, 1, (a) => {
  const s = seq('first', a[0]!);
  return typeof s === 'string' ? s.slice(0, 1) : (s[0] ?? null);
});
fn('last', 1, 1, (a) => {
  const s = seq('last', a[0]!);
  return typeof s === 'string' ? s.slice(-1) : (s[s.length - 1] ?? null);
});
const clamp = (n: number, len: number) => Math.max(0, Math.min(n, len));
fn('take', 2, 2, (a) => {
  const s = seq('take', a[0]!);
  return s.slice(0, clamp(int('take', a[1]!), s.length));
});
fn('skip', 2, 2, (a) => {
  const s = seq('skip', a[0]!);
  return s.slice(clamp(int('skip', a[1]!), s.length));
});
fn('indexFromEnd', 2, 2, (a) => {
  const s = arr('indexFromEnd', a[0]!);
  const i = int('indexFromEnd', a[1]!);
  if (i < 1 || i > s.length) throw templateErrors.indexOutOfBounds(s.length - i);
  return s[s.length - i]!;
});
fn('tryIndexFromEnd', 2, 2, (a) => {
  const s = arr('tryIndexFromEnd', a[0]!);
  const i = int('tryIndexFromEnd', a[1]!);
  return i < 1 || i > s.length ? null : s[s.length - i]!;
});
fn('flatten', 1, 1, (a) =>
  sized(
    'flatten',
    arr('flatten', a[0]!).flatMap((v) => arr('flatten', v)),
  ),
);
fn('items', 1, 1, (a) =>
  Object.entries(obj('items', a[0]!))
    .sort(([x], [y]) => (ci(x) < ci(y) ? -1 : ci(x) > ci(y) ? 1 : 0))
    .map(([key, value]) => ({ key, value })),
);
fn('objectKeys', 1, 1, (a) => Object.keys(obj('objectKeys', a[0]!)));
fn(
  'shallowMerge',
  1,
  1,
  (a) => Object.assign({}, ...arr('shallowMerge', a[0]!).map((v) => obj('shallowMerge', v))) as JsonObject,
);
fn('tryGet', 2, MANY, (a) => {
  let cur: Json = json(a[0]!, 'tryGet');
  for (const key of a.slice(1)) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key] ?? null;
    else if (isObject(cur) && typeof key === 'string') cur = getProperty(cur, key) ?? null;
    else return null;
  }
  return cur;
});

// ---- lambda functions ----------------------------------------------------------------------------------------

const withIndex = (l: Lambda, v: Json, i: number) => callLambda(l, l.params.length === 2 ? [v, i] : [v]);
fn(
  'filter',
  2,
  2,
  deferring((a) => {
    const l = lambda('filter', a[1]!, [1, 2]);
    return arr('filter', a[0]!).filter((v, i) => bool('filter', withIndex(l, v, i)));
  }),
);
fn(
  'map',
  2,
  2,
  deferring((a) => {
    const l = lambda('map', a[1]!, [1, 2]);
    return arr('map', a[0]!).map((v, i) => withIndex(l, v, i));
  }),
);
fn(
  'reduce',
  3,
  3,
  deferring((a) => {
    const l = lambda('reduce', a[2]!, [2, 3]);
    return arr('reduce', a[0]!).reduce<Json>(
      (acc, v, i) => callLambda(l, l.params.length === 3 ? [acc, v, i] : [acc, v]),
      json(a[1]!, 'reduce'),
    );
  }),
);
fn(
  'sort',
  2,
  2,
  deferring((a) => {
    const l = lambda('sort', a[1]!, [2]);
    return [...arr('sort', a[0]!)].sort((x, y) =>
      bool('sort', callLambda(l, [x, y])) ? -1 : bool('sort', callLambda(l, [y, x])) ? 1 : 0,
    );
  }),
);
fn(
  'toObject',
  2,
  3,
  deferring((a) => {
    const key = lambda('toObject', a[1]!, [1]);
    const value = a[2] === undefined ? undefined : lambda('toObject', a[2], [1]);
    const out: JsonObject = {};
    for (const v of arr('toObject', a[0]!))
      out[str('toObject', callLambda(key, [v]))] = value ? callLambda(value, [v]) : v;
    return out;
  }),
);
fn(
  'groupBy',
  2,
  2,
  deferring((a) => {
    const key = lambda('groupBy', a[1]!, [1]);
    const out: Record<string, Json[]> = {};
    for (const v of arr('groupBy', a[0]!)) (out[str('groupBy', callLambda(key, [v]))] ??= []).push(v);
    return out;
  }),
);
fn(
  'mapValues',
  2,
  2,
  deferring((a) => {
    const l = lambda('mapValues', a[1]!, [1]);
    return Object.fromEntries(Object.entries(obj('mapValues', a[0]!)).map(([k, v]) => [k, callLambda(l, [v])]));
  }),
);

registerFunctions(defs);

/** The names of every function the library knows (README and tests). */
export const TEMPLATE_FUNCTIONS: readonly string[] = [...defs.keys()];
