import { apiError } from './errors.js';
import { MAX_SCHEMA_DEPTH } from './json-schema-strict.js';

/**
 * A JSON value valid against a JSON Schema, drawn from a seeded random source: the simulated model's structured
 * outputs and tool-call arguments. Supports type (and type lists), properties/required, items (and tuples), enum,
 * const, anyOf/oneOf/allOf, local $ref (recursive ones end at MAX_SCHEMA_DEPTH), string formats, lengths and simple
 * patterns, number bounds and multipleOf, and array bounds.
 */

/** JSON values one generated answer may hold; a schema that needs more (huge minItems, say) answers 400. */
export const MAX_GENERATED_VALUES = 10_000;

type Schema = Record<string, unknown>;
const isObject = (v: unknown): v is Schema => !!v && typeof v === 'object' && !Array.isArray(v);

interface Ctx {
  root: Schema;
  random: () => number;
  words: readonly string[];
  values: number;
  owner: string;
}

const fail = (ctx: Ctx, reason: string) => apiError(400, 'BadRequest', `Cannot answer with ${ctx.owner}: ${reason}`);

export function generateFromSchema(
  schema: Schema,
  random: () => number,
  words: readonly string[],
  owner: string,
): unknown {
  return value(schema, { root: schema, random, words, values: 0, owner }, 0);
}

function value(s: unknown, ctx: Ctx, depth: number): unknown {
  if (s === true || s === undefined) return word(ctx);
  if (!isObject(s)) throw fail(ctx, 'a schema must be a JSON object.');
  if (++ctx.values > MAX_GENERATED_VALUES)
    throw fail(ctx, `its schema asks for more than ${MAX_GENERATED_VALUES} values.`);
  if (depth > 4 * MAX_SCHEMA_DEPTH) throw fail(ctx, 'its schema has no instance of finite depth.');
  if (typeof s.$ref === 'string') return value(resolveRef(s.$ref, ctx), ctx, depth + 1);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return pick(s.enum, ctx);
  const branches = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as
    unknown[] | undefined;
  if (branches?.length) return value(branch(branches, ctx, depth), ctx, depth);
  if (Array.isArray(s.allOf) && s.allOf.length) return value(merge(s, s.allOf), ctx, depth);
  switch (typeOf(s, ctx, depth)) {
    case 'object':
      return object(s, ctx, depth);
    case 'array':
      return array(s, ctx, depth);
    case 'integer':
      return integer(s, ctx);
    case 'number':
      return number(s, ctx);
    case 'boolean':
      return ctx.random() < 0.5;
    case 'null':
      return null;
    default:
      return string(s, ctx);
  }
}

function resolveRef(ref: string, ctx: Ctx): unknown {
  if (!ref.startsWith('#')) throw fail(ctx, `only local references are supported, not '${ref}'.`);
  let at: unknown = ctx.root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~');
    at = isObject(at) ? at[key] : undefined;
  }
  if (at === undefined) throw fail(ctx, `the reference '${ref}' points at nothing.`);
  return at;
}

const pick = <T>(items: readonly T[], ctx: Ctx): T => items[Math.floor(ctx.random() * items.length)];

const deep = (depth: number) => depth >= MAX_SCHEMA_DEPTH;
const nests = (s: unknown) =>
  isObject(s) && ('$ref' in s || s.type === 'object' || s.type === 'array' || 'properties' in s);

/** A branch of anyOf/oneOf: any at first, one that ends the nesting once deep. */
function branch(branches: unknown[], ctx: Ctx, depth: number): unknown {
  if (deep(depth)) return branches.find((b) => !nests(b)) ?? branches[0];
  return pick(branches, ctx);
}

function merge(s: Schema, parts: unknown[]): Schema {
  const out: Schema = { ...s, allOf: undefined };
  for (const p of parts.filter(isObject)) {
    const required = [...((out.required as string[]) ?? []), ...((p.required as string[]) ?? [])];
    Object.assign(out, { ...p, properties: { ...(out.properties as Schema), ...(p.properties as Schema) } });
    out.required = [...new Set(required)];
  }
  return out;
}

function typeOf(s: Schema, ctx: Ctx, depth: number): string {
  if (Array.isArray(s.type)) {
    const types = s.type.map(String);
    if (types.includes('null') && (deep(depth) || types.length === 1)) return 'null';
    const concrete = types.filter((t) => t !== 'null');
    return deep(depth) ? (concrete.find((t) => t !== 'object' && t !== 'array') ?? concrete[0]) : pick(concrete, ctx);
  }
  if (typeof s.type === 'string') return s.type;
  if (isObject(s.properties)) return 'object';
  if ('items' in s) return 'array';
  return 'string';
}

function object(s: Schema, ctx: Ctx, depth: number): Record<string, unknown> {
  const props = isObject(s.properties) ? s.properties : {};
  const required = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(props)) {
    // Optional properties: about half of them, none once deep (so recursive schemas end).
    const include = required.has(key) || (!deep(depth) && ctx.random() < 0.5);
    if (include) out[key] = value(sub, ctx, depth + 1);
  }
  for (const key of required) if (!(key in out)) out[key] = word(ctx);
  return out;
}

function array(s: Schema, ctx: Ctx, depth: number): unknown[] {
  if (Array.isArray(s.items)) return s.items.map((item) => value(item, ctx, depth + 1));
  if (Array.isArray(s.prefixItems)) return s.prefixItems.map((item) => value(item, ctx, depth + 1));
  const min = whole(s.minItems, 0);
  const max = whole(s.maxItems, Infinity);
  if (min > MAX_GENERATED_VALUES) throw fail(ctx, `'minItems' is above ${MAX_GENERATED_VALUES}.`);
  const wanted = deep(depth) ? 0 : 1 + Math.floor(ctx.random() * 2);
  const n = Math.max(min, Math.min(wanted, max));
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < n && i < n * 4; i++) {
    const v = value(s.items, ctx, depth + 1);
    const key = JSON.stringify(v);
    if (s.uniqueItems === true && seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

const whole = (v: unknown, fallback: number) =>
  typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.floor(v)) : fallback;

/** The bounds of a number schema: [low, high], exclusive bounds moved inwards by `step`. */
function bounds(s: Schema, step: number): [number, number] {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  let low = num(s.minimum) ?? -Infinity;
  let high = num(s.maximum) ?? Infinity;
  const exMin = num(s.exclusiveMinimum);
  const exMax = num(s.exclusiveMaximum);
  if (exMin !== undefined) low = Math.max(low, exMin + step);
  if (exMax !== undefined) high = Math.min(high, exMax - step);
  if (low === -Infinity) low = high === Infinity ? 0 : high - 100;
  if (high === Infinity) high = low + 100;
  return [low, high];
}

function integer(s: Schema, ctx: Ctx): number {
  const [lo, hi] = bounds(s, 1);
  const m = typeof s.multipleOf === 'number' && s.multipleOf > 0 ? s.multipleOf : 1;
  const first = Math.ceil(Math.ceil(lo) / m);
  const last = Math.floor(Math.floor(hi) / m);
  if (first > last) throw fail(ctx, 'an integer schema admits no value.');
  return (first + Math.floor(ctx.random() * Math.min(last - first + 1, 1000))) * m;
}

function number(s: Schema, ctx: Ctx): number {
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0) return integer(s, ctx);
  const [lo, hi] = bounds(s, 0.01);
  if (lo > hi) throw fail(ctx, 'a number schema admits no value.');
  const v = Math.round((lo + ctx.random() * (hi - lo)) * 100) / 100;
  return Math.min(hi, Math.max(lo, v));
}

const word = (ctx: Ctx) => pick(ctx.words, ctx);
const hex = (ctx: Ctx, n: number) =>
  Array.from({ length: n }, () => Math.floor(ctx.random() * 16).toString(16)).join('');

/** A date from 2020 on, whole seconds. */
const instant = (ctx: Ctx) =>
  new Date(Date.UTC(2020, 0, 1) + Math.floor(ctx.random() * 5 * 365 * 86400) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');

const FORMATS: Record<string, (ctx: Ctx) => string> = {
  'date-time': instant,
  date: (ctx) => instant(ctx).slice(0, 10),
  time: (ctx) => instant(ctx).slice(11),
  duration: (ctx) => `P${1 + Math.floor(ctx.random() * 9)}DT${Math.floor(ctx.random() * 24)}H`,
  email: (ctx) => `${word(ctx)}.${word(ctx)}@example.com`,
  'idn-email': (ctx) => `${word(ctx)}@example.com`,
  hostname: (ctx) => `${word(ctx)}.example.com`,
  'idn-hostname': (ctx) => `${word(ctx)}.example.com`,
  ipv4: (ctx) => `192.0.2.${1 + Math.floor(ctx.random() * 254)}`,
  ipv6: (ctx) => `2001:db8::${hex(ctx, 4)}`,
  uuid: (ctx) => {
    const variant = '89ab'[Math.floor(ctx.random() * 4)];
    return `${hex(ctx, 8)}-${hex(ctx, 4)}-4${hex(ctx, 3)}-${variant}${hex(ctx, 3)}-${hex(ctx, 12)}`;
  },
  uri: (ctx) => `https://example.com/${word(ctx)}`,
  url: (ctx) => `https://example.com/${word(ctx)}`,
  'uri-reference': (ctx) => `/${word(ctx)}`,
  iri: (ctx) => `https://example.com/${word(ctx)}`,
};

function string(s: Schema, ctx: Ctx): string {
  const format = typeof s.format === 'string' ? FORMATS[s.format] : undefined;
  let text = format ? format(ctx) : `${word(ctx)} ${word(ctx)}`;
  if (typeof s.pattern === 'string') text = matching(s.pattern, ctx) ?? text;
  const min = whole(s.minLength, 0);
  const max = whole(s.maxLength, Infinity);
  if (min > MAX_GENERATED_VALUES) throw fail(ctx, `'minLength' is above ${MAX_GENERATED_VALUES}.`);
  while ([...text].length < min) text += ` ${word(ctx)}`;
  return [...text].slice(0, max).join('');
}

/** A short string matching `pattern`, from a few typical shapes (short, so no pattern can backtrack for long). */
function matching(pattern: string, ctx: Ctx): string | undefined {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
  const w = word(ctx);
  const candidates = [
    w,
    String(Math.floor(ctx.random() * 1000)),
    w.toUpperCase(),
    `${w}1`,
    'A1',
    'a',
    '1',
    '',
    'abc-123',
    FORMATS.date(ctx),
    FORMATS.email(ctx).slice(0, 24),
    FORMATS.uri(ctx),
    FORMATS.uuid(ctx),
  ];
  return candidates.find((c) => re.test(c));
}
