// Validates recorded ARM traffic against the per-version type graphs of Azure/bicep-types-az
// (../shared/specs/azure-ml/api-versions/bicep-types/<version>.json) and the status-code / LRO-header table of
// that folder's API-VERSIONS.md (§3, §4). Bicep carries PUT/GET bodies and POST actions only; LIST envelopes,
// status codes and headers come from the digest.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrafficRecord } from './conformance.js';

// ---- the type graph -----------------------------------------------------------------------------

interface Ref {
  $ref: string;
}
interface Property {
  type: Ref;
  flags?: number;
}
type BicepType =
  | { $type: 'StringType'; pattern?: string; minLength?: number; maxLength?: number; sensitive?: boolean }
  | { $type: 'StringLiteralType'; value: string }
  | { $type: 'IntegerType'; minValue?: number; maxValue?: number }
  | { $type: 'BooleanType' }
  | { $type: 'AnyType' }
  | { $type: 'ArrayType'; itemType: Ref; minLength?: number; maxLength?: number }
  | { $type: 'UnionType'; elements: Ref[] }
  | { $type: 'ObjectType'; name: string; properties: Record<string, Property>; additionalProperties?: Ref }
  | {
      $type: 'DiscriminatedObjectType';
      name: string;
      discriminator: string;
      baseProperties: Record<string, Property>;
      elements: Record<string, Ref>;
    }
  | { $type: 'ResourceType'; name: string; body: Ref }
  | { $type: 'ResourceFunctionType'; name: string; resourceType: string; apiVersion: string; output: Ref; input?: Ref };

/** Property flags of bicep-types (TypePropertyFlags). */
export const FLAGS = { Required: 1, ReadOnly: 2, WriteOnly: 4, DeployTimeConstant: 8, Identifier: 16 } as const;

/** Properties bicep adds to every resource body that are no part of the ARM wire format. */
const BICEP_ONLY_PROPERTIES = new Set(['apiVersion']);

/**
 * The api-versions whose swagger is TypeSpec-generated (API-VERSIONS.md §0): no model sets
 * `additionalProperties:false` there, so their objects are open. The hand-written swaggers close their objects
 * (and Microsoft's traffic validator, oav, treats every declared object of them as closed).
 */
export const TYPESPEC_VERSIONS: ReadonlySet<string> = new Set([
  '2024-10-01-preview',
  '2025-10-01-preview',
  '2025-12-01',
  '2026-01-15-preview',
  '2026-03-01',
  '2026-03-15-preview',
  '2026-05-01',
  '2026-05-15-preview',
]);

export const PROVIDER = 'Microsoft.MachineLearningServices';

export interface BicepTypes {
  version: string;
  file: string;
  types: BicepType[];
  /** Resource body type index by lower-cased `Microsoft.X/a/b` type name. */
  resources: Map<string, number>;
  /** Actions by lower-cased `Microsoft.X/a/b` type name, then lower-cased action name. */
  actions: Map<string, Map<string, { name: string; input?: number; output: number }>>;
}

/** `../shared/specs/azure-ml/api-versions/bicep-types` beside the repo (or under `$AMLITE_SHARED_DIR`), if present. */
export function bicepTypesDir(): string | undefined {
  const candidates: string[] = [];
  const shared = process.env.AMLITE_SHARED_DIR;
  if (shared) candidates.push(resolve(shared, 'specs/azure-ml/api-versions/bicep-types'));
  candidates.push(fileURLToPath(new URL('../../../shared/specs/azure-ml/api-versions/bicep-types', import.meta.url)));
  return candidates.find((dir) => existsSync(dir));
}

const cache = new Map<string, BicepTypes | undefined>();

/** The type graph of one api-version, or undefined when the digest has no file for it. Cached. */
export function loadBicepTypes(version: string, dir = bicepTypesDir()): BicepTypes | undefined {
  if (!dir) return undefined;
  const file = join(dir, `${version}.json`);
  if (cache.has(file)) return cache.get(file);
  let loaded: BicepTypes | undefined;
  if (existsSync(file)) {
    const types = JSON.parse(readFileSync(file, 'utf8')) as BicepType[];
    const resources = new Map<string, number>();
    const actions: BicepTypes['actions'] = new Map();
    for (const t of types) {
      if (t.$type === 'ResourceType') {
        const [name, at] = t.name.split('@');
        if (at === version && name) resources.set(name.toLowerCase(), index(t.body));
      } else if (t.$type === 'ResourceFunctionType' && t.apiVersion === version) {
        const key = t.resourceType.toLowerCase();
        if (!actions.has(key)) actions.set(key, new Map());
        const input = t.input ? index(t.input) : undefined;
        actions.get(key)?.set(t.name.toLowerCase(), { name: t.name, input, output: index(t.output) });
      }
    }
    loaded = { version, file, types, resources, actions };
  }
  cache.set(file, loaded);
  return loaded;
}

function index(ref: Ref): number {
  const n = Number(ref.$ref.slice(ref.$ref.lastIndexOf('/') + 1));
  if (!Number.isInteger(n)) throw new Error(`unsupported $ref ${ref.$ref}`);
  return n;
}

// ---- validating a body --------------------------------------------------------------------------

export type ViolationKind =
  | 'unknown-property'
  | 'wrong-type'
  | 'enum'
  | 'pattern'
  | 'length'
  | 'range'
  | 'missing-required'
  | 'null-required'
  | 'write-only-in-response'
  | 'read-only-in-request'
  | 'discriminator'
  | 'status'
  | 'header'
  | 'body'
  | 'no-definition';

export interface Violation {
  kind: ViolationKind;
  /** JSON path inside the body, e.g. `properties.contentSafety.contentSafetyLevel`; '' for the whole exchange. */
  path: string;
  message: string;
}

export type Direction = 'request' | 'response';

export interface BodyOptions {
  direction: Direction;
  /** Undeclared properties are violations (hand-written swaggers). Default: per version (TYPESPEC_VERSIONS). */
  closed?: boolean;
  /** Report read-only properties in a request body (Azure ignores them; default false). */
  readOnlyInRequest?: boolean;
  /** The top level is a resource body: id/name/type come from the URL in requests. */
  resourceBody?: boolean;
}

interface Walk {
  types: BicepType[];
  options: Required<Omit<BodyOptions, 'resourceBody'>>;
  out: Violation[];
}

/** Every violation of `value` against the type `typeIndex` of `types`. */
export function validateBody(types: BicepTypes, typeIndex: number, value: unknown, options: BodyOptions): Violation[] {
  const walk: Walk = {
    types: types.types,
    options: {
      direction: options.direction,
      closed: options.closed ?? !TYPESPEC_VERSIONS.has(types.version),
      readOnlyInRequest: options.readOnlyInRequest ?? false,
    },
    out: [],
  };
  check(walk, typeIndex, value, '', options.resourceBody === true);
  return walk.out;
}

function check(w: Walk, at: number, value: unknown, path: string, resourceTop = false): void {
  const t = w.types[at];
  if (!t) throw new Error(`no type #${at}`);
  const report = (kind: ViolationKind, message: string): void => {
    w.out.push({ kind, path, message });
  };
  switch (t.$type) {
    case 'AnyType':
      return;
    case 'StringType':
      if (typeof value !== 'string') return report('wrong-type', `must be a string, got ${show(value)}`);
      return checkString(t, value, report);
    case 'StringLiteralType':
      if (value !== t.value) report('enum', `must be ${JSON.stringify(t.value)}, got ${show(value)}`);
      return;
    case 'IntegerType':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return report('wrong-type', `must be an integer, got ${show(value)}`);
      if ((t.minValue !== undefined && value < t.minValue) || (t.maxValue !== undefined && value > t.maxValue))
        report('range', `must be within [${t.minValue ?? '-∞'}, ${t.maxValue ?? '∞'}], got ${value}`);
      return;
    case 'BooleanType':
      if (typeof value !== 'boolean') report('wrong-type', `must be a boolean, got ${show(value)}`);
      return;
    case 'ArrayType':
      if (!Array.isArray(value)) return report('wrong-type', `must be an array, got ${show(value)}`);
      if ((t.minLength !== undefined && value.length < t.minLength) || (t.maxLength ?? Infinity) < value.length)
        report('length', `must hold ${t.minLength ?? 0}..${t.maxLength ?? '∞'} items, got ${value.length}`);
      value.forEach((item, i) => check(w, index(t.itemType), item, `${path}[${i}]`));
      return;
    case 'UnionType':
      return checkUnion(w, t.elements.map(index), value, path, report);
    case 'ObjectType':
      if (!isObject(value)) return report('wrong-type', `must be an object, got ${show(value)}`);
      return checkObject(w, t.properties, t.additionalProperties, value, path, resourceTop);
    case 'DiscriminatedObjectType':
      return checkDiscriminated(w, t, value, path, report);
    default:
      report('no-definition', `type #${at} (${t.$type}) is not a body type`);
  }
}

function checkString(
  t: { pattern?: string; minLength?: number; maxLength?: number },
  value: string,
  report: (kind: ViolationKind, message: string) => void,
): void {
  if ((t.minLength !== undefined && value.length < t.minLength) || (t.maxLength ?? Infinity) < value.length)
    report('length', `length must be ${t.minLength ?? 0}..${t.maxLength ?? '∞'}, got ${value.length}`);
  if (t.pattern !== undefined && !new RegExp(t.pattern).test(value))
    report('pattern', `must match ${t.pattern}, got ${show(value)}`);
}

/** Open unions (a plain string member: modelAsString) take any string; closed ones only their literals. */
function checkUnion(
  w: Walk,
  members: number[],
  value: unknown,
  path: string,
  report: (kind: ViolationKind, message: string) => void,
): void {
  const literals = members.map((m) => w.types[m]).filter((m) => m?.$type === 'StringLiteralType');
  if (literals.length === members.length) {
    const allowed = literals.map((l) => (l as { value: string }).value);
    if (typeof value !== 'string') report('wrong-type', `must be a string, got ${show(value)}`);
    else if (!allowed.includes(value)) report('enum', `must be one of ${allowed.join(', ')}, got ${show(value)}`);
    return;
  }
  for (const member of members) {
    const trial: Walk = { ...w, out: [] };
    check(trial, member, value, path);
    if (trial.out.length === 0) return;
  }
  report('wrong-type', `matches no member of the union, got ${show(value)}`);
}

function checkDiscriminated(
  w: Walk,
  t: Extract<BicepType, { $type: 'DiscriminatedObjectType' }>,
  value: unknown,
  path: string,
  report: (kind: ViolationKind, message: string) => void,
): void {
  if (!isObject(value)) return report('wrong-type', `must be an object, got ${show(value)}`);
  const tag = value[t.discriminator];
  const element = typeof tag === 'string' ? t.elements[tag] : undefined;
  if (!element) {
    const known = Object.keys(t.elements).join(', ');
    return report('discriminator', `${t.discriminator} must be one of ${known}, got ${show(tag)}`);
  }
  const sub = w.types[index(element)];
  if (sub?.$type !== 'ObjectType') throw new Error(`${t.name}.${tag} is not an object type`);
  const properties = { ...t.baseProperties, ...sub.properties };
  checkObject(w, properties, sub.additionalProperties, value, path, false);
}

function checkObject(
  w: Walk,
  properties: Record<string, Property>,
  extra: Ref | undefined,
  value: Record<string, unknown>,
  path: string,
  resourceTop: boolean,
): void {
  const { direction, closed, readOnlyInRequest } = w.options;
  const at = (name: string) => (path ? `${path}.${name}` : name);
  for (const [name, prop] of Object.entries(properties)) {
    if (resourceTop && BICEP_ONLY_PROPERTIES.has(name)) continue;
    const flags = prop.flags ?? 0;
    const present = Object.hasOwn(value, name) && value[name] !== undefined;
    const readOnly = (flags & FLAGS.ReadOnly) !== 0;
    const required = (flags & FLAGS.Required) !== 0;
    if (!present) {
      const urlBorne = resourceTop && direction === 'request' && name === 'name';
      const applies = direction === 'response' || !readOnly;
      if (required && applies && !urlBorne)
        w.out.push({ kind: 'missing-required', path: at(name), message: `is required, absent` });
      continue;
    }
    if (direction === 'response' && (flags & FLAGS.WriteOnly) !== 0) {
      w.out.push({ kind: 'write-only-in-response', path: at(name), message: 'is write-only, shown in a response' });
      continue;
    }
    if (direction === 'request' && readOnly && readOnlyInRequest && !(resourceTop && name === 'name')) {
      w.out.push({ kind: 'read-only-in-request', path: at(name), message: 'is read-only, sent in a request' });
    }
    // Bicep drops x-nullable: null stands for "absent" on an optional property, never on a required one.
    if (value[name] === null) {
      if (required && (direction === 'response' || !readOnly))
        w.out.push({ kind: 'null-required', path: at(name), message: 'is required, null' });
      continue;
    }
    // The name's pattern is the PUT path parameter's (checked on the URL): a response's name is any string.
    if (resourceTop && name === 'name' && direction === 'response') {
      if (typeof value[name] !== 'string')
        w.out.push({ kind: 'wrong-type', path: 'name', message: `must be a string, got ${show(value[name])}` });
      continue;
    }
    check(w, index(prop.type), value[name], at(name));
  }
  for (const [name, item] of Object.entries(value)) {
    if (Object.hasOwn(properties, name) && !(resourceTop && BICEP_ONLY_PROPERTIES.has(name))) continue;
    if (extra) {
      if (item !== null) check(w, index(extra), item, at(name));
    } else if (closed && !(resourceTop && direction === 'request' && ['id', 'type'].includes(name))) {
      w.out.push({ kind: 'unknown-property', path: at(name), message: `is not declared (got ${show(item)})` });
    }
  }
}

/**
 * The flags of the property at a dotted `path` of a resource type's body (`properties.offer.publisher`), or
 * undefined when the version does not declare it. Discriminated objects are searched in their base properties.
 */
export function propertyFlags(types: BicepTypes, resourceType: string, path: string): number | undefined {
  let at = types.resources.get(`${PROVIDER}/${resourceType}`.toLowerCase());
  let flags: number | undefined;
  for (const name of path.split('.')) {
    const t = at === undefined ? undefined : types.types[at];
    const props =
      t?.$type === 'ObjectType' ? t.properties : t?.$type === 'DiscriminatedObjectType' ? t.baseProperties : {};
    const prop = props?.[name];
    if (!prop) return undefined;
    flags = prop.flags ?? 0;
    at = index(prop.type);
  }
  return flags;
}

/** The discriminator values a discriminated object at `path` (e.g. `properties`) accepts; [] when not one. */
export function discriminatorValues(types: BicepTypes, resourceType: string, path: string): string[] {
  const body = types.resources.get(`${PROVIDER}/${resourceType}`.toLowerCase());
  let t = body === undefined ? undefined : types.types[body];
  for (const name of path.split('.')) {
    const props =
      t?.$type === 'ObjectType' ? t.properties : t?.$type === 'DiscriminatedObjectType' ? t.baseProperties : {};
    const prop = props?.[name];
    t = prop ? types.types[index(prop.type)] : undefined;
  }
  return t?.$type === 'DiscriminatedObjectType' ? Object.keys(t.elements) : [];
}

/** Whether the version declares the POST `action` on `resourceType`. */
export function hasAction(types: BicepTypes, resourceType: string, action: string): boolean {
  return types.actions.get(`${PROVIDER}/${resourceType}`.toLowerCase())?.has(action.toLowerCase()) === true;
}

// ---- resources, actions and lists ---------------------------------------------------------------

/** Validates a resource body (PUT request or GET/PUT/PATCH response) of `resourceType` (`workspaces/...`). */
export function validateResource(
  types: BicepTypes,
  resourceType: string,
  body: unknown,
  options: Omit<BodyOptions, 'resourceBody'>,
): Violation[] {
  const at = types.resources.get(`${PROVIDER}/${resourceType}`.toLowerCase());
  if (at === undefined) {
    return [{ kind: 'no-definition', path: '', message: `${resourceType} does not exist at ${types.version}` }];
  }
  const found = validateBody(types, at, body, { ...options, resourceBody: true });
  if (options.direction === 'response' && isObject(body)) {
    for (const name of ['id', 'name', 'type'])
      if (typeof body[name] !== 'string')
        found.push({ kind: 'missing-required', path: name, message: 'every ARM resource answers it, absent' });
  }
  return found;
}

/** A LIST page: `{value: [resource…], nextLink?}`, closed like the version's other objects. */
export function validateList(
  types: BicepTypes,
  resourceType: string,
  body: unknown,
  options: { closed?: boolean } = {},
): Violation[] {
  if (!isObject(body))
    return [{ kind: 'wrong-type', path: '', message: `a list must be an object, got ${show(body)}` }];
  const found: Violation[] = [];
  if (!Array.isArray(body.value)) found.push({ kind: 'missing-required', path: 'value', message: 'must be an array' });
  else
    body.value.forEach((item, i) => {
      for (const v of validateResource(types, resourceType, item, { direction: 'response', closed: options.closed }))
        found.push({ ...v, path: `value[${i}]${v.path ? `.${v.path}` : ''}` });
    });
  if (body.nextLink !== undefined && body.nextLink !== null && typeof body.nextLink !== 'string')
    found.push({ kind: 'wrong-type', path: 'nextLink', message: `must be a string, got ${show(body.nextLink)}` });
  const closed = options.closed ?? !TYPESPEC_VERSIONS.has(types.version);
  for (const name of Object.keys(body))
    if (closed && name !== 'value' && name !== 'nextLink')
      found.push({ kind: 'unknown-property', path: name, message: 'is not declared on the list page' });
  return found;
}

/** Validates an action's request (its input) or response (its output) body. */
export function validateAction(
  types: BicepTypes,
  resourceType: string,
  action: string,
  body: unknown,
  options: Omit<BodyOptions, 'resourceBody'>,
): Violation[] {
  const fn = types.actions.get(`${PROVIDER}/${resourceType}`.toLowerCase())?.get(action.toLowerCase());
  if (!fn)
    return [
      { kind: 'no-definition', path: '', message: `${resourceType}/${action} does not exist at ${types.version}` },
    ];
  const at = options.direction === 'request' ? fn.input : fn.output;
  if (at === undefined) {
    const empty = body === undefined || (isObject(body) && Object.keys(body).length === 0);
    return empty ? [] : [{ kind: 'body', path: '', message: `${action} declares no request body, got ${show(body)}` }];
  }
  if (body === undefined)
    return [{ kind: 'body', path: '', message: `${action} declares a ${options.direction} body` }];
  return validateBody(types, at, body, options);
}

// ---- status codes and LRO headers (API-VERSIONS.md §3, §4, §8) ---------------------------------

export type Operation = 'put' | 'get' | 'list' | 'patch' | 'delete' | 'action';

export interface StatusRule {
  /** The status codes the version's swagger declares for a success. */
  statuses: number[];
  /** Header each status must carry (lower-cased). */
  headers: Record<number, string[]>;
  /** Bounds of Retry-After on a 202, when declared. */
  retryAfter?: { min: number; max: number };
}

const HAND_WRITTEN_PREVIEWS_WITH_DELETE_200 = (v: string) => v.endsWith('-preview') && !TYPESPEC_VERSIONS.has(v);

/**
 * The success statuses of an operation on a type family at a version. `family` is the last segment of the
 * resource type (serverlessEndpoints, marketplaceSubscriptions, inferencePools, groups, endpoints, workspaces,
 * connections); `action` the POST action's name.
 */
export function statusRule(family: string, op: Operation, version: string, action = ''): StatusRule {
  const asyncPut: StatusRule = { statuses: [200, 201], headers: { 201: ['azure-asyncoperation'] } };
  const lroPatch: StatusRule = { statuses: [200, 202], headers: { 202: ['location'] } };
  const handWritten = !TYPESPEC_VERSIONS.has(version);
  switch (op) {
    case 'get':
    case 'list':
      return { statuses: [200], headers: {} };
    case 'put':
      if (family === 'workspaces') return { statuses: [200, 202], headers: { 202: ['location'] } };
      if (family === 'connections') return { statuses: [200], headers: {} };
      return asyncPut;
    case 'patch':
      if (family === 'marketplaceSubscriptions' || family === 'connections') return { statuses: [], headers: {} };
      if (family === 'serverlessEndpoints' && handWritten) return { ...lroPatch, retryAfter: { min: 10, max: 600 } };
      return lroPatch;
    case 'delete': {
      const accepted = { 202: ['location'] };
      if (family === 'serverlessEndpoints')
        return HAND_WRITTEN_PREVIEWS_WITH_DELETE_200(version)
          ? { statuses: [200, 202, 204], headers: accepted }
          : { statuses: [202, 204], headers: accepted };
      if (family === 'marketplaceSubscriptions') return { statuses: [202, 204], headers: accepted };
      if (family === 'connections') return { statuses: [200, 204], headers: {} };
      return { statuses: [200, 202, 204], headers: accepted };
    }
    case 'action':
      if (action.toLowerCase() === 'regeneratekeys') return { statuses: [200, 202], headers: { 202: ['location'] } };
      return { statuses: [200], headers: {} };
  }
}

// ---- one recorded exchange ----------------------------------------------------------------------

export interface Classified {
  /** `workspaces`, `workspaces/serverlessEndpoints`, `workspaces/inferencePools/groups`, … */
  resourceType: string;
  op: Operation;
  action?: string;
  version: string;
  /** The resource's name, from the URL (put, get, patch, delete). */
  name?: string;
}

const ARM_PATH = new RegExp(`/providers/${PROVIDER}/(.+)$`, 'i');
const OPERATION_STATUS = /operation(s)?(status|results)?$/i;

/** What a recorded request was: resource type, operation, api-version. Undefined outside the provider's resources. */
export function classify(rec: TrafficRecord): Classified | undefined {
  const url = new URL(rec.url, 'http://localhost');
  const version = url.searchParams.get('api-version') ?? '';
  const match = ARM_PATH.exec(url.pathname.replace(/\/{2,}/g, '/').replace(/\/$/, ''));
  if (!match?.[1]) return undefined;
  const segments = match[1].split('/').map(decodeURIComponent);
  if (segments[0]?.toLowerCase() !== 'workspaces') return undefined; // locations/…: operation status, quotas
  if (segments.some((s) => OPERATION_STATUS.test(s))) return undefined;
  const method = rec.method.toUpperCase();
  const types: string[] = [];
  let i = 0;
  for (; i + 1 < segments.length; i += 2) types.push(segments[i] ?? '');
  const collection = i < segments.length; // an odd count: a collection, or a POST action on a resource
  if (collection && method === 'POST') {
    return { resourceType: types.join('/'), op: 'action', action: segments[i], version };
  }
  if (collection) {
    if (method !== 'GET') return undefined;
    return { resourceType: [...types, segments[i] ?? ''].join('/'), op: 'list', version };
  }
  const op = ({ PUT: 'put', GET: 'get', PATCH: 'patch', DELETE: 'delete' } as const)[method];
  return op ? { resourceType: types.join('/'), op, version, name: segments.at(-1) } : undefined;
}

export interface ExchangeOptions {
  /** Override closedness (default: hand-written versions closed, TypeSpec open). */
  closed?: boolean;
  /** Validate the request body too (default true). */
  requests?: boolean;
  /** Extra write-only paths per resource type (e.g. connection credentials): never in a response. */
  secrets?: Record<string, string[]>;
}

/** Resource fields that must never appear in a response though bicep does not flag them (issue 15 §2). */
export const SECRET_PATHS: Record<string, string[]> = {
  'workspaces/connections': ['properties.credentials'],
};

/**
 * Every violation of one recorded exchange against its api-version: the status code and LRO headers the digest
 * declares, the response body (resource, list page or action output), and the request body (PUT or action input).
 * Error answers (4xx) are only checked for the ARM error envelope.
 */
export function validateExchange(rec: TrafficRecord, options: ExchangeOptions = {}): Violation[] {
  const what = classify(rec);
  const types = what && loadBicepTypes(what.version);
  if (!what || !types) return [];
  const found = options.requests === false ? [] : requestViolations(types, what, rec.requestBody, options.closed);
  if (rec.status >= 400) {
    if (!isArmError(rec.body))
      found.push({ kind: 'body', path: '', message: 'error body is not {error:{code,message}}' });
    return found;
  }
  found.push(...statusViolations(what, rec));
  const closed = options.closed;
  if (what.op === 'action' && what.action) {
    if (rec.status === 200)
      found.push(...validateAction(types, what.resourceType, what.action, rec.body, { direction: 'response', closed }));
  } else if (what.op === 'list') {
    found.push(...validateList(types, what.resourceType, rec.body, { closed }));
  } else if (what.op === 'get' || (what.op !== 'delete' && (rec.status === 200 || rec.status === 201))) {
    found.push(...validateResource(types, what.resourceType, rec.body, { direction: 'response', closed }));
  } else if (rec.status === 204 && rec.body !== undefined && rec.body !== '') {
    found.push({ kind: 'body', path: '', message: '204 with a body' });
  }
  found.push(...secretViolations(what, rec.body, { ...SECRET_PATHS, ...options.secrets }));
  return found;
}

/**
 * The violations of a request body (PUT resource body or action input; bicep has no PATCH bodies), paths prefixed
 * `request:`. Undefined `what` (not a resource of the provider, or a version the digest lacks): none.
 */
export function validateRequest(
  method: string,
  url: string,
  body: unknown,
  options: { closed?: boolean } = {},
): Violation[] {
  const what = classify({ method, url, status: 0, headers: {} });
  const types = what && loadBicepTypes(what.version);
  return what && types ? requestViolations(types, what, body, options.closed) : [];
}

function requestViolations(types: BicepTypes, what: Classified, body: unknown, closed?: boolean): Violation[] {
  const direction = 'request';
  if (what.op === 'action' && what.action)
    return tag(validateAction(types, what.resourceType, what.action, body, { direction, closed }));
  if (what.op !== 'put') return [];
  const found = validateResource(types, what.resourceType, body, { direction, closed });
  const at = types.resources.get(`${PROVIDER}/${what.resourceType}`.toLowerCase());
  const nameType = at === undefined ? undefined : types.types[at];
  const nameRef = nameType?.$type === 'ObjectType' ? nameType.properties.name?.type : undefined;
  if (nameRef && what.name !== undefined) {
    const walk: Walk = { types: types.types, options: { direction, closed: false, readOnlyInRequest: false }, out: [] };
    check(walk, index(nameRef), what.name, 'url:name');
    found.push(...walk.out);
  }
  return tag(found);
}

function statusViolations(what: Classified, rec: TrafficRecord): Violation[] {
  const found: Violation[] = [];
  const rule = statusRule(what.resourceType.split('/').at(-1) ?? '', what.op, what.version, what.action);
  if (!rule.statuses.includes(rec.status)) {
    const declared = rule.statuses.join(', ') || 'none (the operation does not exist)';
    found.push({ kind: 'status', path: '', message: `status ${rec.status} is not declared (declared: ${declared})` });
  }
  for (const name of rule.headers[rec.status] ?? [])
    if (!rec.headers[name]) found.push({ kind: 'header', path: '', message: `${rec.status} without ${name} header` });
  const retryAfter = rec.headers['retry-after'];
  if (rec.status === 202 && rule.retryAfter && retryAfter !== undefined) {
    const n = Number(retryAfter);
    const { min, max } = rule.retryAfter;
    if (!Number.isInteger(n) || n < min || n > max)
      found.push({ kind: 'header', path: '', message: `Retry-After ${retryAfter} outside ${min}..${max}` });
  }
  return found;
}

function tag(violations: Violation[]): Violation[] {
  return violations.map((v) => ({ ...v, path: `request:${v.path}` }));
}

function secretViolations(what: Classified, body: unknown, secrets: Record<string, string[]>): Violation[] {
  const paths = Object.entries(secrets).find(([t]) => t.toLowerCase() === what.resourceType.toLowerCase())?.[1];
  if (!paths || what.op === 'action') return [];
  const items = what.op === 'list' && isObject(body) && Array.isArray(body.value) ? body.value : [body];
  const found: Violation[] = [];
  for (const path of paths)
    items.forEach((item) => {
      let node: unknown = item;
      for (const key of path.split('.')) node = isObject(node) ? node[key] : undefined;
      if (node !== undefined && node !== null)
        found.push({ kind: 'write-only-in-response', path, message: 'is write-only (a secret), shown in a response' });
    });
  return found;
}

/** A one-line description: `2024-04-01 PUT workspaces/serverlessEndpoints 200 properties.x: unknown-property …`. */
export function describeViolation(rec: TrafficRecord, v: Violation): string {
  const what = classify(rec);
  const op = what ? `${what.op}${what.action ? `:${what.action}` : ''} ${what.resourceType}` : rec.url;
  return `${what?.version ?? '?'} ${rec.method} ${op} ${rec.status} ${v.path || '(exchange)'}: ${v.kind} ${v.message}`;
}

function isArmError(body: unknown): boolean {
  return (
    isObject(body) &&
    isObject(body.error) &&
    typeof body.error.code === 'string' &&
    typeof body.error.message === 'string'
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
