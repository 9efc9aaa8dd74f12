import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  LIMITS,
  clientError,
  frameworkError,
  installPipeline,
  limitConnections,
  type ServerLimits,
} from './pipeline.js';
import { ConfigError, defaults, type Config } from './config.js';
import { Engine } from './arm/engine.js';
import { armRoutes } from './arm/routes.js';
import { metadataRoutes } from './arm/platform.js';
import type { ResourceType } from './arm/resource-type.js';
import { TypeRegistry } from './arm/registry.js';
import { createManagementHooks } from './arm/hooks.js';
import { SqliteStore } from './store/sqlite.js';
import { PostgresStore, redactUrl } from './store/postgres.js';
import type { Store } from './store/types.js';
import { Provisioner } from './provisioner/provisioner.js';
import { PROFILES } from './provisioner/profiles.js';
import { loadOrCreateCertificate } from './tls.js';
import { machineLearning, servingTargets } from './providers/machine-learning/index.js';
import { PLACEHOLDER_PROVIDERS } from './providers/placeholders/index.js';
import { requireMarketplaceSubscriptions } from './providers/machine-learning/marketplace-subscriptions.js';
import { Catalog } from './inference/catalog.js';
import { inferenceRoutes } from './inference/routes.js';
import { createDataPlaneHooks } from './inference/serving.js';
import { authSetup, authenticateRequest } from './auth/strict.js';
import { prepareDataDir } from './file-modes.js';
import { issuerRoutes } from './auth/issuer.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { TestControl, testControlPlugin } from './control/control.js';
import { controlRoutes } from './control/routes.js';
import { pruneOperations } from './provisioner/retention.js';
import { loadRules } from './control/rules-file.js';
import { installEdgeRules, isLoopbackBind } from './http-edge.js';
import { createDeployments } from './deployments/index.js';

export const VERSION = '0.1.0';

/** The providers served beside ARM's own types. */
export const PROVIDERS = [machineLearning];

/** Every provider resource type the management plane serves, parents first (resource groups are ARM's own). */
export const RESOURCE_TYPES: ResourceType[] = PROVIDERS.flatMap((p) => p.types);

export interface RunningAmlite {
  url: string;
  dataDir: string;
  /** The certificate clients should trust (NODE_EXTRA_CA_CERTS), when serving HTTPS. */
  certPath?: string;
  /** Where resources are kept: a file path, ':memory:', or the PostgreSQL URL without its password. */
  database: string;
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

/** `tuning` changes the server's limits (tests use it to make timeouts short); the defaults are LIMITS. */
export async function startAmlite(
  overrides: Partial<Config> = {},
  tuning: Partial<ServerLimits> = {},
): Promise<RunningAmlite> {
  const config: Config = { ...defaults(), ...overrides };
  const limits: ServerLimits = { ...LIMITS, ...tuning };
  const catalog = Catalog.load(config.catalog);
  prepareDataDir(config.dataDir);
  const tls = config.http ? undefined : await loadOrCreateCertificate(config.dataDir, config.certFile, config.keyFile);

  const postgres = config.store !== 'sqlite';
  const database = postgres
    ? redactUrl(config.store)
    : config.inMemory
      ? ':memory:'
      : join(config.dataDir, 'amlite.db');
  const store = postgres ? await openPostgres(config.store) : new SqliteStore(database);
  const profile = PROFILES[config.profile];

  // Node's own protections against slow and oversized requests, on the HTTP(S) server itself.
  const nodeServer = {
    maxHeaderSize: limits.headerBytes,
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    // A missing Host gets our own 400 in ARM's envelope (http-edge.ts), not Node's bare one.
    requireHostHeader: false,
  };
  const app = Fastify({
    https: tls ? { cert: tls.cert, key: tls.key, handshakeTimeout: limits.handshakeTimeoutMs, ...nodeServer } : null,
    http: nodeServer,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    clientErrorHandler: (err: Error, socket: Duplex) => clientError(err, socket, limits, app.log),
    frameworkErrors: frameworkError,
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["api-key"]'] },
    // One line per request comes from our onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyBytes,
    genReqId: () => randomUUID(),
    exposeHeadRoutes: false,
    return503OnClosing: true,
    routerOptions: {
      caseSensitive: false,
      ignoreDuplicateSlashes: true,
      ignoreTrailingSlash: true,
      maxParamLength: 1000,
    },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  limitConnections(app, limits.maxConnections);
  const auth = await authSetup(config, store);
  if (auth.imported)
    app.log.info(
      { bindings: auth.imported },
      'tenant bindings imported from tenants.json into the store (renamed to tenants.json.imported)',
    );
  if (tls?.replacedCa)
    app.log.warn(
      { certificate: tls.certPath },
      'the generated certificate was a CA certificate (older amlite): replaced by a leaf certificate; clients must trust the new file',
    );

  // Placeholders come after the emulated providers: their types never shadow an emulated one.
  const registry = new TypeRegistry(config.placeholders ? [...PROVIDERS, ...PLACEHOLDER_PROVIDERS] : PROVIDERS);
  const provisioner = new Provisioner(
    store,
    (t) => registry.find(t),
    profile,
    () => new Date(),
    app.log,
  );
  const control = new TestControl(store, app.log);
  if (config.rules) await loadRules(control, config.rules);
  const hooks = createManagementHooks();
  if (config.requireMarketplaceSubscription) requireMarketplaceSubscriptions(hooks);
  const dataPlaneHooks = createDataPlaneHooks();
  const engine = new Engine(store, provisioner, profile, registry, hooks);
  const deployments = createDeployments({
    engine,
    store,
    registry,
    provisioner,
    hooks,
    anyApiVersion: config.anyApiVersion,
    profile,
    log: app.log,
  });
  const bindings = typeof auth.mode === 'object' ? auth.mode.bindings : undefined;
  const authenticate = (req: FastifyRequest) =>
    authenticateRequest(req.headers.authorization, auth.mode, new Date(), req);

  installPipeline(app, limits);
  // Bound to loopback, every plane answers under loopback host names only (DNS rebinding); see http-edge.ts.
  installEdgeRules(app, { loopbackOnly: isLoopbackBind(config.host) });
  app.get('/health', async () => ({ status: 'ok', version: VERSION, profile: profile.name }));
  // Test control plugs in from outside, through the planes' hooks.
  await app.register(testControlPlugin, { control, management: hooks, dataPlane: dataPlaneHooks });
  await app.register(async (arm) =>
    armRoutes(arm, {
      engine,
      store,
      provisioner,
      profile,
      registry,
      authenticate,
      anyApiVersion: config.anyApiVersion,
      defaultSubscription: config.defaultSubscription,
      tenantOf: bindings && ((sub: string) => bindings.tenantOf(sub)),
      hooks,
      extraRoutes: [deployments.routes],
    }),
  );
  await app.register(async (ctl) =>
    controlRoutes(ctl, {
      control,
      store,
      provisioner,
      authenticate,
      strict: typeof auth.mode === 'object' ? auth.mode : undefined,
    }),
  );

  await app.register(async (dataPlane) =>
    inferenceRoutes(dataPlane, {
      store,
      catalog,
      auth: auth.mode,
      targets: servingTargets,
      hooks: dataPlaneHooks,
    }),
  );
  // Cloud metadata (`az cloud register`), unauthenticated as ARM's is.
  await app.register(async (metadata) => metadataRoutes(metadata, { anyApiVersion: config.anyApiVersion }));
  // The local token issuer (OpenID discovery, JWKS, client-credentials tokens) at the root, as login.microsoftonline.com.
  await app.register(async (issuer) =>
    issuerRoutes(issuer, { issuer: auth.issuer, clientSecret: config.issuerSecret }),
  );
  await app.register(async (dashboard) =>
    dashboardRoutes(dashboard, { store, engine, provisioner, types: [...registry.providerTypes] }),
  );

  const stopPruning = pruneOperations(store, app.log);
  const resumed = await provisioner.resume();
  const resumedDeployments = await deployments.resume(provisioner.owner);
  if (resumedDeployments) app.log.info({ deployments: resumedDeployments }, 'resuming template deployments');
  if (resumed) app.log.info({ operations: resumed }, 'resuming operations accepted before the last stop');

  // The CLI prints its own banner with the URL: Fastify's "Server listening at" line would only repeat it.
  const level = app.log.level;
  app.log.level = 'warn';
  try {
    await app.listen({ host: config.host, port: config.port });
    app.log.level = level;
  } catch (e) {
    stopPruning();
    await provisioner.stop();
    await store.close();
    await catalog.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    dataDir: config.dataDir,
    certPath: tls?.certPath,
    database,
    app,
    store,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        stopPruning();
        await deployments.stop();
        await provisioner.stop();
        await store.close();
        await catalog.close();
      })()),
  };
}

/** PostgreSQL named by --store; what goes wrong there (unreachable, refused, a newer schema) is a settings problem. */
async function openPostgres(url: string): Promise<Store> {
  try {
    return await PostgresStore.open(url);
  } catch (e) {
    throw new ConfigError(
      `cannot use the PostgreSQL store at ${redactUrl(url)} (--store): ${(e as Error).message || String(e)}`,
    );
  }
}
