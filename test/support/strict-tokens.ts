// Strict mode (`--auth strict`) for tests: a server on a file store, and tokens from its own issuer, obtained the way
// a real app obtains them (ClientSecretCredential against amlite's token endpoint).
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { startAmlite } from '../../src/server.js';
import { certDir, freshDataDir, type RunningServer, type ServerOverrides } from './harness.js';

export const ARM_SCOPE = 'https://management.azure.com/.default';
export const ML_SCOPE = 'https://ml.azure.com/.default';
/** The application the tests' tokens are issued to (their `appid`). */
export const STRICT_CLIENT_ID = '5a5b5c5d-1111-4222-8333-444455556666';
/** The tenant a token is for when a test names none. */
export const STRICT_TENANT = '3f1c1a2b-0000-4000-8000-00000000000a';

/** amlite in strict mode on the file store in `dataDir` (its issuer key is kept there), in this process. */
export function startStrict(
  dataDir = freshDataDir('amlite-strict-'),
  extra: Partial<ServerOverrides> = {},
): Promise<RunningServer> {
  return startAmlite({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    certFile: join(certDir(), 'cert.pem'),
    keyFile: join(certDir(), 'key.pem'),
    logLevel: 'silent',
    auth: 'strict',
    ...extra,
  });
}

/** The credential a real app would use, pointed at amlite (instance discovery off: it would ask login.microsoftonline.com). */
export function credentialFor(
  server: { url: string },
  tenant = STRICT_TENANT,
  secret = 'any-secret',
): ClientSecretCredential {
  return new ClientSecretCredential(tenant, STRICT_CLIENT_ID, secret, {
    authorityHost: server.url,
    disableInstanceDiscovery: true,
  });
}

/** An access token for `scope` from `server`'s issuer, for `tenant`. */
export async function strictToken(
  server: { url: string },
  tenant = STRICT_TENANT,
  scope = ARM_SCOPE,
  secret?: string,
): Promise<string> {
  const token = await credentialFor(server, tenant, secret).getToken(scope);
  if (!token) throw new Error(`no token for tenant ${tenant} from ${server.url}`);
  return token.token;
}
