// Checks recorded HTTP traffic against the official Azure ML swagger subsets in ../shared/specs,
// in the spirit of Microsoft's `oav validate-traffic` (every declared object is closed by default).
import { AssertionError } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

export interface TrafficRecord {
  method: string;
  url: string;
  requestBody?: unknown;
  status: number;
  /** Response headers, lower-cased names. */
  headers: Record<string, string>;
  /** Response body: parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body?: unknown;
}

export interface ValidateOptions {
  /** Skip `format` checks (uri, uuid, date-time, duration, ...). Meant for the official examples' placeholders. */
  ignoreFormats?: boolean;
  /** Also enforce enums marked `x-ms-enum.modelAsString: true` (by default any string is accepted there). */
  strictEnums?: boolean;
}

export interface ValidationResult {
  operationId?: string;
  problems: string[];
}

/** A Swagger 2.0 schema object, as far as this module reads it. */
interface SwaggerSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: SwaggerSchema;
  properties?: Record<string, SwaggerSchema>;
  required?: string[];
  additionalProperties?: boolean | SwaggerSchema;
  allOf?: SwaggerSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  'x-nullable'?: boolean;
  'x-ms-enum'?: { modelAsString?: boolean };
  [keyword: string]: unknown;
}

interface SwaggerResponse {
  $ref?: string;
  schema?: SwaggerSchema;
  headers?: Record<string, SwaggerSchema>;
}

interface SwaggerOperation {
  operationId?: string;
  responses?: Record<string, SwaggerResponse>;
  'x-ms-examples'?: Record<string, { $ref: string }>;
}

type JsonSchema = Record<string, unknown>;

/** A schema node together with the file its relative `$ref`s are resolved against. */
interface Located<T> {
  node: T;
  file: string;
}

export interface ResponseSpec {
  status: string;
  schema?: Located<SwaggerSchema>;
  /** Declared headers by lower-cased name. */
  headers: Map<string, { name: string; schema: SwaggerSchema }>;
}

export interface ExampleRef {
  title: string;
  /** Absolute path the `x-ms-examples` $ref points at (the file may be absent from the subset). */
  file: string;
}

export interface Operation {
  operationId: string;
  method: string;
  /** Path template as written in the swagger, e.g. `/subscriptions/{subscriptionId}/...`. */
  template: string;
  /** Lower-cased literal segments; `null` for a `{param}` segment. */
  segments: (string | null)[];
  responses: Map<string, ResponseSpec>;
  examples: ExampleRef[];
}

export interface ApiSpec {
  /** `info.version`, i.e. the api-version this file serves. */
  version: string;
  file: string;
  operations: Operation[];
}

export interface Specs {
  dir: string;
  /** By api-version. */
  apis: Map<string, ApiSpec>;
  /** Internal: loaded JSON files and compiled validators. */
  readonly engine: ValidationEngine;
}

const IN_SCOPE =
  /\/providers\/microsoft\.machinelearningservices\/workspaces\/[^/]+\/(serverlessendpoints|inferencepools)(\/|$)/i;
/** Operation-status / -result URLs (any segment naming an operation) are never covered by these specs. */
const OPERATION_STATUS = /\/[a-z]*operations?[a-z]*(\/|$)/i;
const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];
const KNOWN_FORMATS = new Set([
  'date-time',
  'date',
  'uri',
  'uuid',
  'int32',
  'int64',
  'duration',
  'arm-id',
  'double',
  'float',
]);
const ISO_DURATION =
  /^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;
const ARM_ID = /^\/(subscriptions|providers)\/[^/]+(\/[^/]+)*$/i;

// ---------------------------------------------------------------------------------------------
// Locating and loading the specs

/** `../shared/specs` beside the repo (or `$AMLITE_SHARED_DIR/specs`), or undefined when absent. */
export function specsDir(): string | undefined {
  const candidates: string[] = [];
  const shared = process.env.AMLITE_SHARED_DIR;
  if (shared) candidates.push(resolve(shared, 'specs'));
  candidates.push(fileURLToPath(new URL('../../../shared/specs', import.meta.url)));
  return candidates.find((dir) => existsSync(dir));
}

const loaded = new Map<string, Specs | undefined>();

/** Loads every `*.subset.json` swagger under `dir`, keyed by its `info.version`. Cached per dir. */
export function loadSpecs(dir = specsDir()): Specs | undefined {
  if (!dir) return undefined;
  const root = resolve(dir);
  if (loaded.has(root)) return loaded.get(root);
  let specs: Specs | undefined;
  if (existsSync(root)) {
    const engine = new ValidationEngine();
    const apis = new Map<string, ApiSpec>();
    for (const file of walk(root, (name) => name.endsWith('.subset.json'))) {
      const api = readApi(engine, file);
      if (apis.has(api.version)) throw new Error(`two swagger subsets declare version ${api.version}`);
      apis.set(api.version, api);
    }
    specs = apis.size > 0 ? { dir: root, apis, engine } : undefined;
  }
  loaded.set(root, specs);
  return specs;
}

/** Every file under `dir` (recursively) whose name passes `accept`, sorted. */
export function walk(dir: string, accept: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(full, accept));
    else if (entry.isFile() && accept(entry.name)) found.push(full);
  }
  return found.sort();
}

function readApi(engine: ValidationEngine, file: string): ApiSpec {
  const doc = engine.docs.load(file) as {
    info?: { version?: string };
    paths?: Record<string, Record<string, SwaggerOperation>>;
  };
  const version = doc.info?.version;
  if (!version) throw new Error(`${file}: no info.version`);
  engine.docs.checkRefs(file);
  const operations: Operation[] = [];
  for (const [template, pathItem] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.includes(method)) continue;
      operations.push({
        operationId: op.operationId ?? `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        segments: splitPath(template).map((s) => (/^\{[^}]+\}$/.test(s) ? null : s.toLowerCase())),
        responses: readResponses(engine, op, file),
        examples: Object.entries(op['x-ms-examples'] ?? {}).map(([title, ex]) => ({
          title,
          file: resolve(dirname(file), ex.$ref),
        })),
      });
    }
  }
  return { version, file, operations };
}

function readResponses(engine: ValidationEngine, op: SwaggerOperation, file: string): Map<string, ResponseSpec> {
  const responses = new Map<string, ResponseSpec>();
  for (const [status, raw] of Object.entries(op.responses ?? {})) {
    const response = raw.$ref ? engine.docs.resolve<SwaggerResponse>(raw.$ref, file) : { node: raw, file };
    const headers = new Map<string, { name: string; schema: SwaggerSchema }>();
    for (const [name, schema] of Object.entries(response.node.headers ?? {})) {
      headers.set(name.toLowerCase(), { name, schema });
    }
    const schema = response.node.schema ? { node: response.node.schema, file: response.file } : undefined;
    responses.set(status, { status, schema, headers });
  }
  return responses;
}

/** Loaded JSON documents and `$ref` resolution relative to the referring file. */
class DocumentStore {
  private readonly docs = new Map<string, unknown>();

  load(file: string): unknown {
    const path = resolve(file);
    if (!this.docs.has(path)) this.docs.set(path, JSON.parse(readFileSync(path, 'utf8')));
    return this.docs.get(path);
  }

  /** Resolves `other.json#/a/b` or `#/a/b` as seen from `fromFile`. */
  resolve<T>(ref: string, fromFile: string): Located<T> {
    const hash = ref.indexOf('#');
    const filePart = hash < 0 ? ref : ref.slice(0, hash);
    const pointer = hash < 0 ? '' : ref.slice(hash + 1);
    const file = filePart ? resolve(dirname(fromFile), filePart) : resolve(fromFile);
    if (!existsSync(file)) throw new Error(`$ref ${ref} (from ${fromFile}): file ${file} not found`);
    let node = this.load(file);
    for (const raw of pointer.split('/').slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !(key in node)) {
        throw new Error(`$ref ${ref} (from ${fromFile}) does not resolve`);
      }
      node = (node as Record<string, unknown>)[key];
    }
    return { node: node as T, file };
  }

  /** Throws unless every `$ref` reachable from `file` resolves (examples are not followed). */
  checkRefs(file: string, seen = new Set<string>()): void {
    const path = resolve(file);
    if (seen.has(path)) return;
    seen.add(path);
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'x-ms-examples') continue;
        if (key === '$ref' && typeof value === 'string') {
          const target = this.resolve<unknown>(value, path);
          if (target.file !== path) this.checkRefs(target.file, seen);
        } else visit(value);
      }
    };
    visit(this.load(path));
  }
}

// ---------------------------------------------------------------------------------------------
// Swagger 2.0 -> JSON Schema (draft-07, for ajv)

/**
 * Converts the schemas of one swagger file. Every referenced definition becomes an entry of
 * `definitions`, so recursive types (ErrorDetail) work; `allOf` is flattened into one object.
 */
class SchemaConverter {
  readonly definitions: Record<string, JsonSchema> = {};
  private readonly names = new Map<string, string>();
  private readonly nullableWanted = new Set<string>();

  constructor(
    private readonly docs: DocumentStore,
    private readonly schemaId: string,
    private readonly mainFile: string,
    private readonly strictEnums: boolean,
  ) {}

  convert(node: SwaggerSchema, file: string): JsonSchema {
    if (node.$ref) return this.reference(node.$ref, file, node['x-nullable'] === true);
    // (mfe.json puts `additionalProperties: false` even on string enums: only objects are closed)
    const isObject =
      node.type === 'object' ||
      (node.type === undefined && (node.properties || node.allOf || node.additionalProperties !== undefined));
    const schema = isObject ? this.objectSchema(node, file) : this.valueSchema(node, file);
    return node['x-nullable'] === true ? withNull(schema) : schema;
  }

  /** Adds the `nullable` variants requested during conversion; call once all roots are converted. */
  finish(): Record<string, JsonSchema> {
    for (const name of this.nullableWanted) {
      this.definitions[`${name}.nullable`] = withNull(this.definitions[name] ?? {});
    }
    return this.definitions;
  }

  private reference(ref: string, file: string, nullable: boolean): JsonSchema {
    const target = this.docs.resolve<SwaggerSchema>(ref, file);
    const key = `${target.file}#${ref.slice(ref.indexOf('#') + 1)}`;
    let name = this.names.get(key);
    if (!name) {
      name = this.uniqueName(target.file, ref);
      this.names.set(key, name);
      this.definitions[name] = {}; // placeholder while converting (recursion)
      this.definitions[name] = this.convert(target.node, target.file);
    }
    if (nullable) this.nullableWanted.add(name);
    return { $ref: `${this.schemaId}#/definitions/${encodeURIComponent(nullable ? `${name}.nullable` : name)}` };
  }

  private uniqueName(file: string, ref: string): string {
    const local = ref.slice(ref.lastIndexOf('/') + 1);
    const prefix = file === this.mainFile ? '' : `${file.slice(file.lastIndexOf('/') + 1).replace(/\.json$/, '')}.`;
    let name = `${prefix}${local}`;
    for (let i = 2; name in this.definitions; i++) name = `${prefix}${local}${i}`;
    return name;
  }

  private objectSchema(node: SwaggerSchema, file: string): JsonSchema {
    const flat = flattenObject(this.docs, node, file);
    const schema: JsonSchema = { type: 'object' };
    if (flat.properties.size > 0) {
      schema.properties = Object.fromEntries(
        [...flat.properties].map(([name, prop]) => [name, this.convert(prop.node, prop.file)]),
      );
    }
    if (flat.required.size > 0) schema.required = [...flat.required];
    if (flat.extra === 'closed' || (flat.extra === 'undeclared' && flat.properties.size > 0)) {
      schema.additionalProperties = false; // closed: declared false, or oav's default for declared objects
    } else if (typeof flat.extra === 'object') {
      schema.additionalProperties = this.convert(flat.extra.node, flat.extra.file);
    }
    return schema;
  }

  private valueSchema(node: SwaggerSchema, file: string): JsonSchema {
    const schema: JsonSchema = {};
    if (node.type) schema.type = node.type;
    for (const keyword of [
      'minimum',
      'maximum',
      'minLength',
      'maxLength',
      'pattern',
      'minItems',
      'maxItems',
      'uniqueItems',
      'multipleOf',
    ]) {
      if (node[keyword] !== undefined) schema[keyword] = node[keyword];
    }
    if (node.exclusiveMinimum === true && node.minimum !== undefined) {
      schema.exclusiveMinimum = node.minimum;
      delete schema.minimum;
    }
    if (node.exclusiveMaximum === true && node.maximum !== undefined) {
      schema.exclusiveMaximum = node.maximum;
      delete schema.maximum;
    }
    if (node.format && KNOWN_FORMATS.has(node.format)) schema.format = node.format;
    if (node.enum && (this.strictEnums || node['x-ms-enum']?.modelAsString !== true)) schema.enum = node.enum;
    if (node.items) schema.items = this.convert(node.items, file);
    return schema;
  }
}

interface FlatObject {
  properties: Map<string, Located<SwaggerSchema>>;
  required: Set<string>;
  /** What the object (or its allOf parents) says about undeclared properties. */
  extra: 'undeclared' | 'closed' | 'open' | Located<SwaggerSchema>;
}

/** Merges an object schema with all its allOf members (recursively) into one property list. */
function flattenObject(docs: DocumentStore, node: SwaggerSchema, file: string): FlatObject {
  const flat: FlatObject = { properties: new Map(), required: new Set(), extra: 'undeclared' };
  for (const member of node.allOf ?? []) {
    const located = member.$ref ? docs.resolve<SwaggerSchema>(member.$ref, file) : { node: member, file };
    const parent = flattenObject(docs, located.node, located.file);
    for (const [name, prop] of parent.properties) flat.properties.set(name, prop);
    for (const name of parent.required) flat.required.add(name);
    flat.extra = mergeExtra(flat.extra, parent.extra);
  }
  for (const [name, prop] of Object.entries(node.properties ?? {})) flat.properties.set(name, { node: prop, file });
  for (const name of node.required ?? []) flat.required.add(name);
  const own = node.additionalProperties;
  if (own === false) flat.extra = 'closed';
  else if (own === true || (typeof own === 'object' && Object.keys(own).length === 0)) flat.extra = 'open';
  else if (typeof own === 'object') flat.extra = { node: own, file };
  return flat;
}

/** Among allOf parents a map or open declaration wins over closed, and closed over nothing declared. */
function mergeExtra(a: FlatObject['extra'], b: FlatObject['extra']): FlatObject['extra'] {
  const rank = (e: FlatObject['extra']) => (e === 'undeclared' ? 0 : e === 'closed' ? 1 : 2);
  return rank(b) > rank(a) ? b : a;
}

function withNull(schema: JsonSchema): JsonSchema {
  if (schema.type === undefined) return schema.$ref ? { anyOf: [schema, { type: 'null' }] } : schema;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const nullable: JsonSchema = { ...schema, type: types.includes('null') ? types : [...types, 'null'] };
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) nullable.enum = [...schema.enum, null];
  return nullable;
}

// ---------------------------------------------------------------------------------------------
// Compiled validators, one ajv per (swagger, enum mode, format mode)

class ValidationEngine {
  readonly docs = new DocumentStore();
  private readonly conversions = new Map<string, Conversion>();
  private readonly ajvs = new Map<string, Ajv>();
  private readonly validators = new Map<string, ValidateFunction>();

  validator(api: ApiSpec, op: Operation, response: ResponseSpec, options: ValidateOptions): ValidateFunction {
    const ajvKey = `${schemaId(api, options)}:${options.ignoreFormats ? 'no-formats' : 'formats'}`;
    const rootKey = `${op.method} ${op.template}|${response.status}`;
    let validate = this.validators.get(`${ajvKey}|${rootKey}`);
    if (!validate) {
      const conversion = this.conversion(api, options);
      let ajv = this.ajvs.get(ajvKey);
      if (!ajv) {
        ajv = newAjv(options);
        ajv.addSchema({ $id: schemaId(api, options), definitions: conversion.definitions });
        this.ajvs.set(ajvKey, ajv);
      }
      validate = ajv.compile(conversion.roots.get(rootKey) ?? {});
      this.validators.set(`${ajvKey}|${rootKey}`, validate);
    }
    return validate;
  }

  /** Converts every response schema of `api` at once, so the shared definitions are complete. */
  private conversion(api: ApiSpec, options: ValidateOptions): Conversion {
    const key = schemaId(api, options);
    let conversion = this.conversions.get(key);
    if (!conversion) {
      const converter = new SchemaConverter(this.docs, key, api.file, options.strictEnums === true);
      const roots = new Map<string, JsonSchema>();
      for (const op of api.operations) {
        for (const response of op.responses.values()) {
          if (!response.schema) continue;
          roots.set(
            `${op.method} ${op.template}|${response.status}`,
            converter.convert(response.schema.node, response.schema.file),
          );
        }
      }
      conversion = { roots, definitions: converter.finish() };
      this.conversions.set(key, conversion);
    }
    return conversion;
  }
}

interface Conversion {
  /** Response schemas by `METHOD template|status`. */
  roots: Map<string, JsonSchema>;
  definitions: Record<string, JsonSchema>;
}

function newAjv(options: ValidateOptions): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    unicodeRegExp: false,
    validateFormats: options.ignoreFormats !== true,
  });
  addFormats(ajv);
  return ajv;
}

function schemaId(api: ApiSpec, options: ValidateOptions): string {
  return `urn:amlite-spec:${api.version}:${options.strictEnums ? 'strict-enums' : 'enums'}`;
}

function addFormats(ajv: Ajv): void {
  ajvFormats.default(ajv, ['date-time', 'date', 'uri', 'uuid']);
  const isInt = (min: number, max: number) => (n: number) => Number.isInteger(n) && n >= min && n <= max;
  ajv.addFormat('int32', { type: 'number', validate: isInt(-(2 ** 31), 2 ** 31 - 1) });
  ajv.addFormat('int64', { type: 'number', validate: isInt(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('duration', ISO_DURATION);
  ajv.addFormat('arm-id', ARM_ID);
}

// ---------------------------------------------------------------------------------------------
// Validating traffic

/** Checks one recorded response against the swagger that serves its api-version. */
export function validateRecord(specs: Specs, rec: TrafficRecord, options: ValidateOptions = {}): ValidationResult {
  const url = new URL(rec.url, 'http://localhost');
  const path = normalizePath(url.pathname);
  const method = rec.method.toUpperCase();
  const label = `${method} ${path} ${rec.status}`;
  const inScope = IN_SCOPE.test(path) && !OPERATION_STATUS.test(path);
  const problems: string[] = [];
  const report = (message: string) => problems.push(`${label}: ${message}`);

  const apiVersion = url.searchParams.get('api-version') ?? '';
  const api = specs.apis.get(apiVersion);
  if (!api) {
    // Missing or unserved api-version: ARM rejects it before any operation; only the error shape is checked.
    if (inScope && rec.status >= 400 && !isArmError(rec.body))
      report('error body is not an ARM error envelope {error:{code,message}}');
    return { problems };
  }

  const op = findOperation(api, method, path);
  if (!op) {
    if (!inScope) return { problems };
    if (rec.status >= 400 && isArmError(rec.body)) return { problems }; // probing an undeclared route is fine
    report(`no operation of the ${api.version} spec matches ${method} ${path}`);
    return { problems };
  }

  let response = op.responses.get(String(rec.status));
  if (!response && rec.status >= 400) response = op.responses.get('default');
  if (!response) {
    const declared = [...op.responses.keys()].join(', ');
    report(`status ${rec.status} is not declared by ${op.operationId} (declared: ${declared})`);
    return { operationId: op.operationId, problems };
  }
  if (response.status === 'default' && !isArmError(rec.body)) {
    report('error body is not an ARM error envelope {error:{code,message}}');
  }

  if (response.schema) {
    if (rec.body === undefined) report(`body is missing (${op.operationId} declares one for ${response.status})`);
    else {
      const validate = specs.engine.validator(api, op, response, options);
      if (!validate(rec.body)) for (const error of validate.errors ?? []) report(describeError(error, rec.body));
    }
  } else if (rec.body !== undefined && rec.body !== '') {
    report(`body must be empty (${op.operationId} declares no body for ${response.status})`);
  }

  for (const problem of headerProblems(response, rec.headers, options)) report(problem);
  return { operationId: op.operationId, problems };
}

/** Validates all records; throws an AssertionError listing every problem. Returns the covered operationIds. */
export function assertConformant(
  records: TrafficRecord[],
  options: ValidateOptions & { specs?: Specs } = {},
): { covered: Set<string> } {
  const specs = options.specs ?? loadSpecs();
  if (!specs) throw new Error('assertConformant: ../shared/specs not found (set AMLITE_SHARED_DIR or skip the test)');
  const covered = new Set<string>();
  const problems: string[] = [];
  for (const rec of records) {
    const result = validateRecord(specs, rec, options);
    if (result.operationId) covered.add(result.operationId);
    problems.push(...result.problems);
  }
  if (problems.length > 0) {
    throw new AssertionError({
      message: `${problems.length} conformance problem(s) in ${records.length} recorded response(s):\n  - ${problems.join('\n  - ')}`,
    });
  }
  return { covered };
}

export function normalizePath(pathname: string): string {
  const collapsed = pathname.replace(/\/{2,}/g, '/');
  return collapsed.length > 1 ? collapsed.replace(/\/$/, '') : collapsed;
}

function splitPath(path: string): string[] {
  return normalizePath(path)
    .split('/')
    .filter((s) => s !== '');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The operation whose method and path template match; the one with the most literal segments wins. */
function findOperation(api: ApiSpec, method: string, path: string): Operation | undefined {
  const segments = splitPath(path).map((s) => decodeSegment(s).toLowerCase());
  let best: Operation | undefined;
  let bestLiterals = -1;
  for (const op of api.operations) {
    if (op.method !== method || op.segments.length !== segments.length) continue;
    if (!op.segments.every((literal, i) => literal === null || literal === segments[i])) continue;
    const literals = op.segments.filter((s) => s !== null).length;
    if (literals > bestLiterals) [best, bestLiterals] = [op, literals];
  }
  return best;
}

function isArmError(body: unknown): boolean {
  if (!isObject(body) || !isObject(body.error)) return false;
  return typeof body.error.code === 'string' && typeof body.error.message === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Required LRO headers (Azure-AsyncOperation on 201, Location on 202) and the declared headers' values. */
function headerProblems(response: ResponseSpec, headers: Record<string, string>, options: ValidateOptions): string[] {
  const problems: string[] = [];
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const required =
    response.status === '201' ? 'azure-asyncoperation' : response.status === '202' ? 'location' : undefined;
  for (const [name, declared] of response.headers) {
    const value = lower.get(name);
    if (value === undefined) {
      if (name === required)
        problems.push(`missing response header ${declared.name} (declared for ${response.status})`);
      continue;
    }
    const { schema } = declared;
    if (schema.type === 'integer') {
      const n = Number(value);
      const { minimum, maximum } = schema;
      if (!/^-?\d+$/.test(value.trim())) problems.push(`header ${declared.name} must be an integer, got "${value}"`);
      else if (minimum !== undefined && n < minimum)
        problems.push(`header ${declared.name} must be >= ${minimum}, got ${n}`);
      else if (maximum !== undefined && n > maximum)
        problems.push(`header ${declared.name} must be <= ${maximum}, got ${n}`);
    } else if (schema.format === 'duration' && !options.ignoreFormats && !ISO_DURATION.test(value)) {
      problems.push(`header ${declared.name} must be an ISO 8601 duration, got "${value}"`);
    }
  }
  return problems;
}

function describeError(error: ErrorObject, body: unknown): string {
  const at = `body${error.instancePath}`;
  if (error.keyword === 'additionalProperties') {
    return `OBJECT_ADDITIONAL_PROPERTIES at ${at}/${String(error.params.additionalProperty)}`;
  }
  let message = `${at} ${error.message ?? error.keyword}`;
  if (error.keyword === 'enum')
    message += `: ${(error.params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
  if (['enum', 'type', 'format', 'pattern', 'minimum', 'maximum'].includes(error.keyword)) {
    message += ` (got ${preview(valueAt(body, error.instancePath))})`;
  }
  return message;
}

function valueAt(body: unknown, pointer: string): unknown {
  let node = body;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
