import type { Principal } from '../arm/context.js';

/** Who calls when nobody is asked to prove it (`--auth none`). */
export const ANONYMOUS: Principal = {
  name: 'anonymous',
  type: 'User',
  objectId: '00000000-0000-0000-0000-000000000000',
  tenantId: '00000000-0000-0000-0000-000000000000',
};

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** Users carry a UPN; applications (idtyp=app, or an appid and no UPN) are named by their app id. */
export function principalOf(c: Record<string, unknown>): Principal {
  const upn = str(c.upn) ?? str(c.unique_name) ?? str(c.email) ?? str(c.preferred_username);
  const appId = str(c.appid) ?? str(c.azp);
  const isApp = c.idtyp === 'app' || (!upn && !!appId);
  const objectId = str(c.oid) ?? str(c.sub) ?? ANONYMOUS.objectId;
  return {
    name: isApp ? (appId ?? objectId) : (upn ?? objectId),
    type: isApp ? 'Application' : 'User',
    objectId,
    tenantId: str(c.tid) ?? ANONYMOUS.tenantId,
  };
}
