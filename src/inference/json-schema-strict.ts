import { apiError } from './errors.js';

/**
 * The JSON Schemas a chat request may carry (response_format json_schema, tools' parameters), checked as OpenAI's
 * structured outputs check them: every schema must be an object; a `strict` one must also keep strict mode's rules.
 */

/** Nesting levels a schema may have (objects and arrays within each other), as OpenAI's strict mode allows. */
export const MAX_SCHEMA_DEPTH = 10;
/** Object properties one schema may declare in all, as OpenAI's strict mode allows. */
export const MAX_SCHEMA_PROPERTIES = 5000;
/** Enum values one schema may list in all, as OpenAI's strict mode allows. */
export const MAX_SCHEMA_ENUM_VALUES = 1000;

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
/** Formats strict mode knows; other formats are refused there. */
export const STRICT_FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
]);
/** Keywords strict mode does not support. */
const UNSUPPORTED = [
  'allOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
  'uniqueItems',
  'minLength',
  'maxLength',
];

type Schema = Record<string, unknown>;
const isObject = (v: unknown): v is Schema => !!v && typeof v === 'object' && !Array.isArray(v);

/** The 400 a schema the API does not allow gets, naming what it belongs to and where the problem is. */
export const schemaError = (owner: string, path: string[], reason: string) =>
  apiError(
    400,
    'BadRequest',
    `Invalid schema for ${owner}: In context=(${path.map((p) => `'${p}'`).join(', ')}), ${reason}`,
  );

/** Refuses a schema that is not an object; with `strict`, one that breaks strict mode's rules (see checkStrict). */
export function checkSchema(schema: unknown, owner: string, strict: boolean): asserts schema is Schema {
  if (!isObject(schema)) throw schemaError(owner, [], 'the schema must be a JSON object.');
  if (strict) checkStrict(schema, owner);
}

interface Walk {
  owner: string;
  properties: number;
  enums: number;
}

/** Strict mode: an object at the root; every object closed and with all its properties required; known keywords. */
function checkStrict(root: Schema, owner: string): void {
  if (root.type !== 'object' || 'anyOf' in root)
    throw schemaError(owner, [], "the root schema must be an object ('type': 'object'), not anyOf.");
  const walk: Walk = { owner, properties: 0, enums: 0 };
  node(root, [], 0, walk);
  for (const defs of [root.$defs, root.definitions]) {
    if (!isObject(defs)) continue;
    for (const [name, def] of Object.entries(defs)) node(def, ['$defs', name], 0, walk);
  }
}

function node(s: unknown, path: string[], depth: number, w: Walk): void {
  if (!isObject(s)) throw schemaError(w.owner, path, 'a schema must be a JSON object.');
  if (depth > MAX_SCHEMA_DEPTH)
    throw schemaError(w.owner, path, `the schema has more than ${MAX_SCHEMA_DEPTH} levels of nesting.`);
  const bad = UNSUPPORTED.find((k) => k in s);
  if (bad) throw schemaError(w.owner, path, `'${bad}' is not permitted.`);
  if (Array.isArray(s.enum)) {
    w.enums += s.enum.length;
    if (w.enums > MAX_SCHEMA_ENUM_VALUES)
      throw schemaError(w.owner, path, `the schema has more than ${MAX_SCHEMA_ENUM_VALUES} enum values in all.`);
  }
  if (typeof s.$ref === 'string') {
    if (!s.$ref.startsWith('#'))
      throw schemaError(w.owner, path, "only local references ('#/$defs/...') are permitted.");
    return;
  }
  if (Array.isArray(s.anyOf)) {
    s.anyOf.forEach((b, i) => node(b, [...path, 'anyOf', String(i)], depth, w));
    return;
  }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (s.type === undefined && !('enum' in s) && !('const' in s))
    throw schemaError(w.owner, path, "'type' is required (or 'enum', 'const', 'anyOf', '$ref').");
  const unknown = types.find((t) => t !== undefined && !TYPES.has(String(t)));
  if (unknown !== undefined) throw schemaError(w.owner, path, `'${String(unknown)}' is not a valid type.`);
  if (typeof s.format === 'string' && !STRICT_FORMATS.has(s.format))
    throw schemaError(
      w.owner,
      path,
      `the format '${s.format}' is not permitted; use one of ${[...STRICT_FORMATS].join(', ')}.`,
    );
  if (types.includes('object')) object(s, path, depth, w);
  if (types.includes('array')) {
    if (!isObject(s.items)) throw schemaError(w.owner, path, "an array schema needs an 'items' schema.");
    node(s.items, [...path, 'items'], depth + 1, w);
  }
}

function object(s: Schema, path: string[], depth: number, w: Walk): void {
  if (s.additionalProperties !== false)
    throw schemaError(w.owner, path, "'additionalProperties' is required to be supplied and to be false.");
  const props = isObject(s.properties) ? s.properties : {};
  const keys = Object.keys(props);
  w.properties += keys.length;
  if (w.properties > MAX_SCHEMA_PROPERTIES)
    throw schemaError(w.owner, path, `the schema has more than ${MAX_SCHEMA_PROPERTIES} object properties in all.`);
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  const missing = keys.find((k) => !required.has(k));
  if (missing !== undefined)
    throw schemaError(
      w.owner,
      path,
      "'required' is required to be supplied and to be an array including every " +
        `key in properties. Missing '${missing}'.`,
    );
  const extra = [...required].find((k) => !(String(k) in props));
  if (extra !== undefined)
    throw schemaError(w.owner, path, `'required' lists '${String(extra)}', which is not in properties.`);
  for (const k of keys) node(props[k], [...path, 'properties', k], depth + 1, w);
}
