/** resourceId(), subscriptionResourceId(), tenantResourceId(), extensionResourceId(): ARM's id building rules. */
import { templateErrors } from './errors.js';

/** "/providers/{ns}/{t1}/{n1}/{t2}/{n2}" for type "ns/t1/t2" and names [n1, n2]. */
export function providerPath(fn: string, type: string, names: string[]): string {
  const parts = type.split('/');
  if (parts.length < 2 || parts.some((p) => !p)) {
    throw templateErrors.invalidArg(fn, `the type '${type}' is not a valid fully qualified resource type.`);
  }
  const segments = names.flatMap((n) => n.split('/'));
  if (segments.length !== parts.length - 1) {
    throw templateErrors.invalidArg(fn, `the type '${type}' requires '${parts.length - 1}' resource name argument(s).`);
  }
  let path = `/providers/${parts[0]}`;
  for (let i = 1; i < parts.length; i++) path += `/${parts[i]}/${segments[i - 1]}`;
  return path;
}

/** Split resourceId's arguments: what comes before the first one containing '/' is [subscriptionId,] resourceGroup. */
export function resourceIdOf(args: string[], current: { subscriptionId: string; resourceGroupName?: string }): string {
  const t = args.findIndex((a) => a.includes('/'));
  if (t < 0 || t > 2) throw templateErrors.invalidArg('resourceId', 'a fully qualified resource type is required.');
  const sub = t === 2 ? args[0]! : current.subscriptionId;
  const rg = t === 2 ? args[1] : t === 1 ? args[0] : current.resourceGroupName;
  const tail = providerPath('resourceId', args[t]!, args.slice(t + 1));
  return rg === undefined ? `/subscriptions/${sub}${tail}` : `/subscriptions/${sub}/resourceGroups/${rg}${tail}`;
}

export function subscriptionResourceIdOf(args: string[], subscriptionId: string): string {
  const t = args.findIndex((a) => a.includes('/'));
  if (t < 0 || t > 1)
    throw templateErrors.invalidArg('subscriptionResourceId', 'a fully qualified resource type is required.');
  const sub = t === 1 ? args[0]! : subscriptionId;
  return `/subscriptions/${sub}${providerPath('subscriptionResourceId', args[t]!, args.slice(t + 1))}`;
}

export function tenantResourceIdOf(args: string[]): string {
  return providerPath('tenantResourceId', args[0]!, args.slice(1));
}

export function extensionResourceIdOf(args: string[]): string {
  const [scope, type, ...names] = args;
  return `${scope!.replace(/\/+$/, '')}${providerPath('extensionResourceId', type!, names)}`;
}

export function managementGroupResourceIdOf(args: string[], current?: string): string {
  const t = args.findIndex((a) => a.includes('/'));
  const mg = t === 1 ? args[0] : current;
  if (t < 0 || t > 1 || !mg) {
    throw templateErrors.invalidArg('managementGroupResourceId', 'a fully qualified resource type is required.');
  }
  const tail = providerPath('managementGroupResourceId', args[t]!, args.slice(t + 1));
  return `/providers/Microsoft.Management/managementGroups/${mg}${tail}`;
}
