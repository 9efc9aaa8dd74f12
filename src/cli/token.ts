import { devToken } from '../auth/bearer.js';
import { UsageError } from '../control/cli.js';

export const TOKEN_USAGE = `usage: amlite token [--audience URL] [--tenant ID] [--upn NAME | --appid ID]
                          [--expires DURATION]
Prints an unsigned bearer token that loose auth (the default) accepts; its claims fill systemData.
  --audience URL     aud claim (default https://management.azure.com/); https://ml.azure.com for the data plane of
                     pool endpoints and AAD serverless endpoints
  --tenant ID        tid claim (default 00000000-0000-0000-0000-000000000001)
  --upn NAME         a user caller (default developer@amlite.local)
  --appid ID         an application caller instead (idtyp app, no upn)
  --expires DURATION lifetime: seconds, or 30m, 12h, 7d (default 24h); 0 or less makes an expired token
Strict auth (--auth strict) refuses these tokens: get one from amlite's token issuer instead, e.g.
  curl --cacert .amlite/cert.pem -d grant_type=client_credentials -d client_id=my-app -d client_secret=any \\
    -d scope=https://management.azure.com/.default https://127.0.0.1:8443/$TENANT/oauth2/v2.0/token
(amlite connect curl prints it for the running server).`;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90`, `90s`, `30m`, `12h`, `7d`, `-1h` → seconds. */
export function parseLifetime(text: string): number {
  const m = /^(-?\d+)([smhd]?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`--expires must be seconds or a number with s, m, h or d (30m, 12h), not '${text}'`);
  return Number(m[1]) * UNITS[(m[2] || 's').toLowerCase()];
}

/** `amlite token …`: the token, or the help text. */
export function tokenCli(argv: string[], now = Date.now()): string {
  const opts: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') return TOKEN_USAGE;
    const m = /^--(audience|tenant|upn|appid|expires)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new UsageError(`unknown token option '${argv[i]}'`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${m[1]} needs a value`);
    opts[m[1]] = value;
  }
  if (opts.upn && opts.appid) throw new UsageError('--upn (a user) and --appid (an application) do not go together');
  const claims: Record<string, unknown> = {};
  if (opts.audience) claims.aud = opts.audience;
  if (opts.tenant) {
    claims.tid = opts.tenant;
    claims.iss = `https://sts.windows.net/${opts.tenant}/`;
  }
  if (opts.upn) claims.upn = opts.upn;
  if (opts.appid)
    Object.assign(claims, { appid: opts.appid, azp: opts.appid, idtyp: 'app', upn: undefined, name: undefined });
  if (opts.expires !== undefined) {
    const seconds = Math.floor(now / 1000);
    Object.assign(claims, { iat: seconds, nbf: seconds, exp: seconds + parseLifetime(opts.expires) });
  }
  return devToken(claims);
}
