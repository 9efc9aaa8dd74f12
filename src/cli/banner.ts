import { relative } from 'node:path';
import type { Config } from '../config.js';
import type { RunningAmlite } from '../server.js';
import { VERSION } from '../server.js';
import { Catalog } from '../inference/catalog.js';
import { describeCatalog, fileWarnings, upstreamWarnings } from '../inference/catalog-health.js';

const SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';

/** What `amlite` prints once it listens: where it is, what to trust, where its data is, and a line to try. */
export function banner(server: RunningAmlite, config: Config, cwd: string): string[] {
  const show = (p: string) => (relative(cwd, p).startsWith('..') ? p : `./${relative(cwd, p) || '.'}`);
  const cert = server.certPath ? show(server.certPath) : undefined;
  const curlTls = cert ? `--cacert ${cert} ` : '';
  const store =
    server.database === ':memory:'
      ? 'in memory (--in-memory)'
      : server.store.shared
        ? `${server.database} (shared: start more amlite processes on it)`
        : show(server.database);
  const put =
    `-X PUT -H "Authorization: Bearer $T" -H "Content-Type: application/json" -d '{"location":"eastus"}' ` +
    `"${server.url}/subscriptions/${SUBSCRIPTION}/resourcegroups/my-rg?api-version=2025-04-01"`;
  // Strict mode refuses the unsigned development token: the try line gets one from the token issuer instead.
  const token =
    config.auth === 'strict'
      ? `T=$(curl -s ${curlTls}-d grant_type=client_credentials -d client_id=my-app ` +
        `-d client_secret=${config.issuerSecret ? '"$AMLITE_ISSUER_SECRET"' : 'any-secret'} ` +
        `-d scope=https://management.azure.com/.default ${server.url}/${SUBSCRIPTION}/oauth2/v2.0/token ` +
        `| sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`
      : 'T=$(npx amlite token)';
  return [
    `amlite listening on ${server.url}`,
    `  amlite ${VERSION}: management (ARM) and data plane on one port; readiness at ${server.url}/health`,
    cert
      ? `  certificate: ${cert}   (Node clients: export NODE_EXTRA_CA_CERTS=${server.certPath})`
      : '  plain HTTP (--http): Azure SDK clients will not send tokens over it',
    `  data dir: ${show(server.dataDir)}   store: ${store}   profile: ${config.profile}   auth: ${config.auth}`,
    `  catalog: ${config.catalog ? `${show(config.catalog)}: ` : ''}${catalogSummary(config.catalog)}`,
    `  dashboard: ${server.url}/_dashboard   (from this machine only)`,
    `  try: ${token}; curl ${curlTls}${put}`,
  ];
}

function catalogSummary(path: string | undefined): string {
  if (!path) return '* → simulated (no --catalog: every model simulated)';
  return describeCatalog(Catalog.load(path).file).join(', ');
}

/** Catalog entries that cannot serve (a missing model file): warnings for the start. */
export function catalogWarnings(path: string | undefined): string[] {
  return path ? fileWarnings(Catalog.load(path).file) : [];
}

/** Catalog entries whose upstream does not answer: checked after the start, never delaying it. */
export async function upstreamWarningsOf(path: string | undefined): Promise<string[]> {
  return path ? upstreamWarnings(Catalog.load(path).file) : [];
}
