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

function describe(e: { schema: TSchema; value: unknown; message: string }): string {
  const schema = e.schema as { anyOf?: { const?: unknown }[]; const?: unknown };
  const options =
    schema.const !== undefined ? [schema.const] : schema.anyOf?.map((s) => s.const).filter((c) => c !== undefined);
  if (options?.length)
    return `Value '${String(e.value)}' is not one of the allowed values ${options.map((o) => `'${o}'`).join(', ')}.`;
  if (e.message === 'Unexpected property') return 'Could not find member on object: the field is not allowed here.';
  if (e.message === 'Expected required property') return 'Required property is missing.';
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
    if (members?.length === 1 && e.value !== null && members[0][Kind] !== 'Literal') {
      collect(members[0], e.value, path, out);
      continue;
    }
    out.push({ path, message: describe(e) });
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
