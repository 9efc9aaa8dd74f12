import { Type } from '@sinclair/typebox';
import { Enum, Nullable, ReadOnly, shapes } from './schema.js';

/** The swagger's `format: int32` bounds. */
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
/** The least `sku.capacity` any type takes (the swagger says int32; a negative count of instances means nothing). */
export const MIN_SKU_CAPACITY = 0;

/** An int32 integer, optionally with a tighter minimum or maximum. */
export const int32 = (opts: { minimum?: number; maximum?: number } = {}) =>
  Type.Integer({ minimum: INT32_MIN, maximum: INT32_MAX, ...opts });

export const IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned'] as const;
export const SKU_TIERS = ['Free', 'Basic', 'Standard', 'Premium'] as const;

/** The ARM common types (tracked resource, sku, managed identity) in closed or open form. */
export function armShapes(closed: boolean) {
  const { obj } = shapes(closed);
  const sku = obj({
    name: Type.String(),
    tier: Type.Optional(Enum(SKU_TIERS)),
    size: Type.Optional(Type.String()),
    family: Type.Optional(Type.String()),
    capacity: Type.Optional(int32({ minimum: MIN_SKU_CAPACITY })),
  });
  const partialSku = obj({
    name: Type.Optional(Type.String()),
    tier: Type.Optional(Enum(SKU_TIERS)),
    size: Type.Optional(Type.String()),
    family: Type.Optional(Type.String()),
    capacity: Type.Optional(int32({ minimum: MIN_SKU_CAPACITY })),
  });
  const userIdentity = Nullable(obj({ principalId: ReadOnly(), clientId: ReadOnly() }));
  const identity = obj({
    type: Enum(IDENTITY_TYPES),
    principalId: ReadOnly(),
    tenantId: ReadOnly(),
    userAssignedIdentities: Type.Optional(Nullable(Type.Record(Type.String(), userIdentity))),
  });
  const partialIdentity = obj({
    type: Type.Optional(Enum(IDENTITY_TYPES)),
    principalId: ReadOnly(),
    tenantId: ReadOnly(),
    userAssignedIdentities: Type.Optional(Nullable(Type.Record(Type.String(), userIdentity))),
  });
  const tags = Type.Optional(Type.Record(Type.String(), Type.String()));
  const partialTags = Type.Optional(Nullable(Type.Record(Type.String(), Nullable(Type.String()))));
  /** The fields every tracked resource's PUT body may carry; the read-only ones are ignored. */
  const tracked = {
    id: ReadOnly(),
    name: ReadOnly(),
    type: ReadOnly(),
    systemData: ReadOnly(),
    etag: ReadOnly(),
    location: Type.String({ minLength: 1 }),
    tags,
  };
  return { obj, sku, partialSku, identity, partialIdentity, tags, partialTags, tracked };
}

/** The lifecycle most resources show: only provisioningState. */
export const provisioningStateOnly = (phase: string) => ({
  provisioningState: {
    creating: 'Creating',
    updating: 'Updating',
    deleting: 'Deleting',
    succeeded: 'Succeeded',
    failed: 'Failed',
    updateFailed: 'Failed',
    deleteFailed: 'Failed',
  }[phase],
});
