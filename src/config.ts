import { resolve } from 'node:path';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  inMemory: boolean;
  certFile?: string;
  keyFile?: string;
  http: boolean;
  auth: 'loose' | 'none' | 'strict';
  /** The client secret the token issuer requires (strict mode's token endpoint); unset: any. */
  issuerSecret?: string;
  profile: 'fast' | 'realistic';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  anyApiVersion: boolean;
  /** Other providers' types templates create (storage accounts, key vaults…) are stored as placeholders. */
  placeholders: boolean;
  /** Serverless endpoints for third-party models need a Subscribed marketplace subscription in their workspace. */
  requireMarketplaceSubscription: boolean;
  catalog?: string;
  rules?: string;
  /** `sqlite`, or a postgres:// URL shared by several processes. */
  store: string;
  /** The subscription `GET /subscriptions` lists for every caller (what `az login` picks). */
  defaultSubscription: string;
}

type Kind = 'string' | 'int' | 'bool' | readonly string[];

interface Setting {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  default?: Config[keyof Config];
  help: string;
  /** A `--no-…` flag: given (bare or `=true`) it turns the setting off; the environment variable says on or off. */
  negated?: boolean;
}

/** Every setting: its flag, its AMLITE_* environment variable, its default. The README's table is this table. */
export const SETTINGS: readonly Setting[] = [
  {
    key: 'host',
    flag: '--host',
    env: 'AMLITE_HOST',
    kind: 'string',
    default: '127.0.0.1',
    help: 'address to listen on',
  },
  {
    key: 'port',
    flag: '--port',
    env: 'AMLITE_PORT',
    kind: 'int',
    default: 8443,
    help: 'port to listen on; 0 picks a free one (printed at start)',
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'AMLITE_DATA_DIR',
    kind: 'string',
    default: '.amlite',
    help: 'where the SQLite database and the generated certificate live',
  },
  {
    key: 'store',
    flag: '--store',
    env: 'AMLITE_STORE',
    kind: 'string',
    default: 'sqlite',
    help: 'sqlite (a file in --data-dir, or --in-memory), or postgres://user:password@host:port/db to share one database between several amlite processes',
  },
  {
    key: 'inMemory',
    flag: '--in-memory',
    env: 'AMLITE_IN_MEMORY',
    kind: 'bool',
    default: false,
    help: 'keep resources in memory only (the certificate still goes to the data dir)',
  },
  {
    key: 'certFile',
    flag: '--cert',
    env: 'AMLITE_CERT',
    kind: 'string',
    help: 'PEM certificate to serve instead of the generated one (needs --key)',
  },
  { key: 'keyFile', flag: '--key', env: 'AMLITE_KEY', kind: 'string', help: 'PEM private key of --cert' },
  {
    key: 'http',
    flag: '--http',
    env: 'AMLITE_HTTP',
    kind: 'bool',
    default: false,
    help: 'serve plain HTTP instead of HTTPS (Azure SDKs will not send tokens over it)',
  },
  {
    key: 'auth',
    flag: '--auth',
    env: 'AMLITE_AUTH',
    kind: ['loose', 'none', 'strict'],
    default: 'loose',
    help: "loose: any unexpired JWT-shaped bearer token; none: no token needed; strict: only tokens signed by amlite's token issuer",
  },
  {
    key: 'issuerSecret',
    flag: '--issuer-secret',
    env: 'AMLITE_ISSUER_SECRET',
    kind: 'string',
    help: 'the client secret the token issuer requires (default: any client id and secret)',
  },
  {
    key: 'profile',
    flag: '--profile',
    env: 'AMLITE_PROFILE',
    kind: ['fast', 'realistic'],
    default: 'fast',
    help: 'fast: operations finish at once; realistic: they take Azure-like seconds',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'AMLITE_LOG_LEVEL',
    kind: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    help: 'log verbosity',
  },
  {
    key: 'catalog',
    flag: '--catalog',
    env: 'AMLITE_CATALOG',
    kind: 'string',
    help: 'JSON file mapping model ids to inference backends (default: every model simulated)',
  },
  {
    key: 'rules',
    flag: '--rules',
    env: 'AMLITE_RULES',
    kind: 'string',
    help: 'JSON file of test-control rules (fail, delay, throttle) to apply from the start',
  },
  {
    key: 'anyApiVersion',
    flag: '--any-api-version',
    env: 'AMLITE_ANY_API_VERSION',
    kind: 'bool',
    default: false,
    help: 'serve unknown api-versions as the newest known one instead of answering 400',
  },
  {
    key: 'placeholders',
    flag: '--no-placeholders',
    env: 'AMLITE_PLACEHOLDERS',
    kind: 'bool',
    default: true,
    negated: true,
    help: "do not store other providers' resources (storage, key vault, AI Services…) as placeholders: they answer as unknown types",
  },
  {
    key: 'requireMarketplaceSubscription',
    flag: '--require-marketplace-subscription',
    env: 'AMLITE_REQUIRE_MARKETPLACE_SUBSCRIPTION',
    kind: 'bool',
    default: false,
    help: "creating a serverless endpoint for a third-party model (registry other than 'azureml') fails unless its workspace has a marketplace subscription for the model, as in Azure",
  },
  {
    key: 'defaultSubscription',
    flag: '--default-subscription',
    env: 'AMLITE_DEFAULT_SUBSCRIPTION',
    kind: 'string',
    default: '00000000-0000-0000-0000-000000000001',
    help: "the subscription GET /subscriptions lists for every caller (az login's), beside the caller's tenant's others",
  },
];

export class ConfigError extends Error {}

function parse(s: Setting, raw: string, from: string): Config[keyof Config] {
  if (s.kind === 'int') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new ConfigError(`${from} must be a port number from 0 to 65535, not '${raw}'`);
    return n;
  }
  if (s.kind === 'bool') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${from} must be true or false, not '${raw}'`);
  }
  if (Array.isArray(s.kind) && !s.kind.includes(raw))
    throw new ConfigError(`${from} must be one of ${s.kind.join(', ')}, not '${raw}'`);
  return raw;
}

export function defaults(): Config {
  return Object.fromEntries(
    SETTINGS.filter((s) => s.default !== undefined).map((s) => [s.key, s.default]),
  ) as unknown as Config;
}

/** Defaults, then AMLITE_* variables, then flags (`--flag value`, `--flag=value`, bare `--bool-flag`). */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const config = defaults() as unknown as Record<string, unknown>;
  for (const s of SETTINGS) {
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') config[s.key] = parse(s, raw, s.env);
  }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const s = SETTINGS.find((x) => x.flag === flag);
    if (!s) throw new ConfigError(`unknown option '${argv[i]}' (see amlite --help)`);
    if (s.kind === 'bool' && inline === undefined) {
      config[s.key] = !s.negated;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new ConfigError(`${flag} needs a value`);
    const value = parse(s, raw, flag);
    config[s.key] = s.negated ? !value : value;
  }
  const c = config as unknown as Config;
  if (c.store !== 'sqlite' && !/^postgres(ql)?:\/\/./i.test(c.store))
    throw new ConfigError(
      `--store must be sqlite or a postgres://user:password@host:port/database URL, not '${c.store.includes('://') ? `${c.store.split('://')[0]}://…` : c.store}'`,
    );
  if (c.inMemory && c.store !== 'sqlite')
    throw new ConfigError('--in-memory keeps the SQLite store in memory: it does not go with a PostgreSQL --store');
  if (!!c.certFile !== !!c.keyFile)
    throw new ConfigError('--cert and --key go together: pass both, or neither to use the generated certificate');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(c.defaultSubscription))
    throw new ConfigError(`--default-subscription must be a subscription id (a GUID), not '${c.defaultSubscription}'`);
  c.dataDir = resolve(c.dataDir);
  return c;
}

export function helpText(): string {
  const rows = SETTINGS.map((s) => {
    const value =
      s.kind === 'bool' ? '' : Array.isArray(s.kind) ? ` ${s.kind.join('|')}` : s.kind === 'int' ? ' N' : ' VALUE';
    return `  ${(s.flag + value).padEnd(34)} ${s.help}${s.default !== undefined && s.kind !== 'bool' ? ` (default ${s.default})` : ''}  [${s.env}]`;
  });
  return [
    'usage: amlite [options]        start the emulator',
    '       amlite token …          print a bearer token loose auth accepts (amlite token --help: audience, tenant, …)',
    '       amlite connect TOOL     print the setup pointing node, python, curl or az at the running amlite',
    '       amlite control …        test control: rules, releases, endpoint state (amlite control --help)',
    '',
    'options:',
    ...rows,
    '  --help'.padEnd(36) + ' this text',
  ].join('\n');
}
