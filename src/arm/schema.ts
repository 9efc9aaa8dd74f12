import { Kind, Type, type TSchema, type TObject, type TProperties, type ObjectOptions } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { errors } from './errors.js';

/** Schema building blocks. `closed` objects reject unknown fields, as a swagger with additionalProperties:false does. */
export function shapes(closed: boolean) {
  const obj = <T extends TProperties>(props: T, opts: ObjectOptions = {}): TObject<T> =>
    Type.Object(props, closed ? { additionalProperties: false, ...opts } : opts);
  return { obj };
}

export const Enum = <const T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
/**
 * An open enum (`x-ms-enum` `modelAsString`, bicep's `'A'|'B'|string`): any string is accepted, the known values are
 * documentation. Closed enums stay `Enum`.
 */
export const OpenEnum = (values: readonly string[]) => Type.String({ knownValues: [...values] });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** A field the server owns: accepted in requests and ignored. */
export const ReadOnly = () => Type.Optional(Type.Any({ readOnly: true }));

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (!c) compiled.set(schema, (c = TypeCompiler.Compile(schema)));
  return c;
}

/** Deletes the read-only fields of `value` that `schema` declares, at any depth. */
export function stripReadOnly(schema: TSchema, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const v = value as Record<string, unknown>;
  if (schema[Kind] === 'Object') {
    for (const [k, s] of Object.entries((schema as TObject).properties)) {
      if ((s as { readOnly?: boolean }).readOnly) delete v[k];
      else if (k in v) stripReadOnly(s, v[k]);
    }
  } else if (schema[Kind] === 'Record') {
    const inner = Object.values(
      (schema as unknown as { patternProperties: Record<string, TSchema> }).patternProperties,
    )[0];
    for (const k of Object.keys(v)) stripReadOnly(inner, v[k]);
  } else if (schema[Kind] === 'Union') {
    for (const s of (schema as unknown as { anyOf: TSchema[] }).anyOf) stripReadOnly(s, value);
  }
}

const jsonPath = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');

function describe(e: { schema: TSchema; value: unknown; message: string }, path: string): string {
  // A missing field is reported as missing, whatever its schema (enum, object, string) would have said of a value.
  if (e.value === undefined || e.message === 'Expected required property') return `The '${path}' field is required.`;
  const schema = e.schema as { anyOf?: { const?: unknown }[]; const?: unknown };
  const options =
    schema.const !== undefined ? [schema.const] : schema.anyOf?.map((s) => s.const).filter((c) => c !== undefined);
  if (options?.length)
    return `Value '${String(e.value)}' is not one of the allowed values ${options.map((o) => `'${o}'`).join(', ')}.`;
  if (e.message === 'Unexpected property') return 'Could not find member on object: the field is not allowed here.';
  return `${e.message}.`;
}

/**
 * The problems of `value` against `schema`, one per path. For a nullable object (a union with null) that is not
 * null, the object's own problems are reported rather than "does not match the union".
 */
function collect(schema: TSchema, value: unknown, prefix: string, out: { path: string; message: string }[]): void {
  const seen = new Set<string>();
  for (const e of checker(schema).Errors(value)) {
    const path = join(prefix, jsonPath(e.path));
    // A union reports its members' errors too; the first error for a path says it best.
    if (seen.has(path) || [...seen].some((p) => path.startsWith(`${p}.`) || path.startsWith(`${p}[`))) continue;
    seen.add(path);
    const members = (e.schema as { anyOf?: TSchema[] }).anyOf?.filter((m) => m[Kind] !== 'Null');
    if (members?.length === 1 && e.value != null && members[0][Kind] !== 'Literal') {
      collect(members[0], e.value, path, out);
      continue;
    }
    out.push({ path, message: describe(e, path) });
  }
}

const join = (prefix: string, path: string) =>
  !prefix ? path : !path ? prefix : path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;

/**
 * Validates a request body: read-only fields are dropped, unknown ones dropped (open schemas) or rejected (closed),
 * and every problem becomes one InvalidRequestContent error whose target is the JSON path.
 */
export function validate<T = Record<string, unknown>>(schema: TSchema, input: unknown, closed: boolean): T {
  const value = structuredClone(input);
  stripReadOnly(schema, value);
  if (!closed) Value.Clean(schema, value);
  const check = checker(schema);
  if (check.Check(value)) return value as T;
  const problems: { path: string; message: string }[] = [];
  collect(schema, value, '', problems);
  throw errors.invalidContent(problems);
}

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The object schema a value is checked against: the schema itself, or the one object member of a nullable union.
 * undefined: the schema declares no members (any, record, scalar), so every member below it is known.
 */
function objectOf(schema: TSchema): TObject | undefined {
  if (schema[Kind] === 'Object') return isDoc(schema.additionalProperties) ? undefined : (schema as TObject);
  if (schema[Kind] !== 'Union') return undefined;
  const objects = (schema as unknown as { anyOf: TSchema[] }).anyOf.filter((m) => m[Kind] === 'Object');
  return objects.length === 1 ? objectOf(objects[0]) : undefined;
}

/** `value` as `schema` shows it: a copy without the object members the schema does not declare, at any depth. */
export function project(schema: TSchema, value: unknown): unknown {
  const o = objectOf(schema);
  if (!o || !isDoc(value)) return value;
  const out: Doc = {};
  for (const [k, v] of Object.entries(value)) {
    const s = o.properties[k];
    if (s) out[k] = project(s, v);
  }
  return out;
}

/** A version's view of a resource: what its PUT schema declares (read-only fields included), nothing else. */
export const viewOf =
  (schema: TSchema) =>
  (doc: Doc): Doc =>
    project(schema, doc) as Doc;

/**
 * Puts back into `next` the members of `stored` that `schema` does not declare (fields another api-version set), in
 * the objects both documents have. A member the schema declares is the request's to set or leave out.
 */
export function keepUnknown(schema: TSchema, stored: unknown, next: unknown): void {
  const o = objectOf(schema);
  if (!o || !isDoc(stored) || !isDoc(next)) return;
  for (const [k, v] of Object.entries(stored)) {
    const s = o.properties[k];
    if (s) keepUnknown(s, v, next[k]);
    else if (!(k in next)) next[k] = structuredClone(v);
  }
}
