/** Resource ids: building, keying (case-insensitive) and name rules. */

/** The store key of a resource: its id in lower case, so lookups ignore casing while the id keeps the client's. */
export const keyOf = (id: string): string => id.toLowerCase();

/** The key of the parent resource, or the subscription key for a resource group. */
export function parentKeyOf(key: string): string {
  const parts = key.split('/');
  // .../providers/{ns}/{type}/{name}: drop type+name, and "providers/{ns}" when that leaves us at the group.
  parts.splice(-2, 2);
  if (parts.at(-2) === 'providers') parts.splice(-2, 2);
  return parts.join('/');
}

/** The lower bound and (exclusive) upper bound of the keys strictly below `key` ('/' sorts just before '0'). */
export function descendantRange(key: string): [string, string] {
  return [`${key}/`, `${key}0`];
}

export const normalizeLocation = (location: string): string => location.replace(/\s+/g, '').toLowerCase();

/** Azure Resource Manager's own limits on any resource name (types may add a stricter pattern). */
// eslint-disable-next-line no-control-regex -- ARM forbids control characters in names: matching them is the point
const ARM_FORBIDDEN = /[<>%&:\\?/#\u0000-\u001f\u007f-\u009f]/;
/** The longest resource name ARM accepts. */
export const MAX_NAME_LENGTH = 260;
/**
 * Whitespace of any kind (none of the emulated types' swaggers allows it in a name): a space in a name breaks every
 * URL built from it.
 */
const WHITESPACE = /[\s\u200b\u2028\u2029\ufeff]/;

export interface NameRule {
  pattern: RegExp;
  /** How the rule reads in an error message. */
  text: string;
}

export function nameRule(pattern: string): NameRule {
  return { pattern: new RegExp(pattern), text: `match the pattern '${pattern}'` };
}

/** Returns the broken rule's description, or undefined when the name is fine. */
export function checkName(name: string, rule?: NameRule): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return `be between 1 and ${MAX_NAME_LENGTH} characters long`;
  if (ARM_FORBIDDEN.test(name)) return "not contain '<', '>', '%', '&', ':', '\\', '?', '/', '#' or control characters";
  // '.' and '..' are path segments that clients and proxies resolve away (a DELETE of '<ws>/endpoints/..' would
  // reach the workspace); a trailing '.' is dropped by some URL handling, so ARM refuses it.
  if (name.endsWith('.')) return "not be '.' or '..' nor end with '.'";
  if (WHITESPACE.test(name)) return 'not contain whitespace';
  if (rule && !rule.pattern.test(name)) return rule.text;
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => UUID.test(value);

/** A user-assigned identity id: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}. */
const USER_ASSIGNED_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i;
export const isUserAssignedIdentityId = (value: string): boolean => USER_ASSIGNED_ID.test(value);

/** The store key of the child `name` of type `childType` (whose last segment is its collection) under `parentKey`. */
export const childKey = (parentKey: string, childType: string, name: string): string =>
  keyOf(`${parentKey}/${childType.slice(childType.lastIndexOf('/') + 1)}/${name}`);
