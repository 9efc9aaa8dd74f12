import { randomUUID } from 'node:crypto';
import { errors } from './errors.js';
import { isUserAssignedIdentityId } from './ids.js';
import type { Principal } from './context.js';

export interface Identity {
  type: string;
  principalId?: string;
  tenantId?: string;
  userAssignedIdentities?: Record<string, { principalId: string; clientId: string } | Record<string, never>>;
}

type Requested = { type?: string; userAssignedIdentities?: Record<string, unknown> | null };

/**
 * The identity to store, given what the client asked for and what the resource had.
 * ARM mints principals; with no ARM in front we invent GUIDs once and keep them for as long as the identity stays.
 * `patch`: a missing type keeps the current one, and a null user-assigned entry removes that identity.
 */
export function resolveIdentity(
  requested: Requested | undefined,
  current: Identity | undefined,
  caller: Principal,
  patch: boolean,
): Identity | undefined {
  if (!requested) return current;
  const type = requested.type ?? current?.type ?? 'None';
  if (type === 'None') return { type: 'None' };
  const result: Identity = { type };
  if (type.includes('SystemAssigned')) {
    result.principalId = current?.principalId ?? randomUUID();
    result.tenantId = current?.tenantId ?? caller.tenantId;
  }
  const wantsUser = type.includes('UserAssigned');
  const currentUser = new Map(
    Object.entries(current?.userAssignedIdentities ?? {}).map(([k, v]) => [k.toLowerCase(), { id: k, v }]),
  );
  const asked = requested.userAssignedIdentities ?? {};
  if (!wantsUser) {
    if (Object.keys(asked).length && Object.values(asked).some((v) => v !== null))
      throw errors.badRequest(
        `The identity type '${type}' does not take userAssignedIdentities.`,
        'identity.userAssignedIdentities',
      );
    return result;
  }
  const next =
    patch || requested.userAssignedIdentities === undefined
      ? new Map(currentUser)
      : new Map<string, { id: string; v: unknown }>();
  for (const [id, value] of Object.entries(asked)) {
    if (!isUserAssignedIdentityId(id))
      throw errors.linkedInvalidPropertyId(id, `identity.userAssignedIdentities['${id}']`);
    if (value === null) next.delete(id.toLowerCase());
    else
      next.set(id.toLowerCase(), {
        id,
        v: currentUser.get(id.toLowerCase())?.v ?? { principalId: randomUUID(), clientId: randomUUID() },
      });
  }
  if (next.size === 0)
    throw errors.badRequest(
      `The identity type '${type}' needs at least one entry in userAssignedIdentities.`,
      'identity.userAssignedIdentities',
    );
  result.userAssignedIdentities = Object.fromEntries(
    [...next.values()].map(({ id, v }) => [id, v as { principalId: string; clientId: string }]),
  );
  return result;
}
