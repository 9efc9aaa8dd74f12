import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { defaults, type Config } from './config.js';
import { ArmError, errors } from './arm/errors.js';
import { Engine } from './arm/engine.js';
import { armRoutes } from './arm/routes.js';
import type { ResourceType } from './arm/resource-type.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';
import { Provisioner } from './provisioner/provisioner.js';
import { PROFILES } from './provisioner/profiles.js';
import { loadOrCreateCertificate } from './tls.js';
import { resourceGroups } from './resources/resource-groups.js';
import { workspaces } from './resources/workspaces.js';
import { serverlessEndpoints } from './resources/serverless-endpoints.js';
import { Catalog } from './inference/catalog.js';
import { inferenceRoutes } from './inference/routes.js';
import { inferencePools } from './resources/inference-pools.js';
import { inferenceGroups } from './resources/inference-groups.js';
import { inferenceEndpoints } from './resources/inference-endpoints.js';

export const VERSION = '0.1.0';

/** Every resource type the management plane serves, parents first. */
export const RESOURCE_TYPES: ResourceType[] = [workspaces, serverlessEndpoints, inferencePools, inferenceGroups, inferenceEndpoints];

/** ARM's limit on a request body. */
export const BODY_LIMIT = 4 * 1024 * 1024;

export interface RunningAmlite {
  url: string;
  dataDir: string;
  /** The certificate clients should trust (NODE_EXTRA_CA_CERTS), when serving HTTPS. */
  certPath?: string;
  /** Where resources are kept: a file path, or ':memory:'. */
  database: string;
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

export async function startAmlite(overrides: Partial<Config> = {}): Promise<RunningAmlite> {
  const config: Config = { ...defaults(), ...overrides };
  const catalog = Catalog.load(config.catalog);
  mkdirSync(config.dataDir, { recursive: true });
  const tls = config.http ? undefined : await loadOrCreateCertificate(config.dataDir, config.certFile, config.keyFile);

  const database = config.inMemory ? ':memory:' : join(config.dataDir, 'amlite.db');
  const store = new SqliteStore(database);
  const profile = PROFILES[config.profile];

  const app = Fastify({
    https: tls ? { cert: tls.cert, key: tls.key } : null,
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["api-key"]'] },
    // One line per request comes from our onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    genReqId: () => randomUUID(),
    exposeHeadRoutes: false,
    return503OnClosing: true,
    routerOptions: { caseSensitive: false, ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 1000 },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  const types = [resourceGroups, ...RESOURCE_TYPES];
  const provisioner = new Provisioner(store, (t) => types.find((x) => x.type === t), profile, () => new Date(), app.log);
  const engine = new Engine(store, provisioner, profile);

  installPipeline(app);
  app.get('/health', async () => ({ status: 'ok', version: VERSION, profile: profile.name }));
  await app.register(async (arm) => armRoutes(arm, { engine, store, provisioner, profile, types: RESOURCE_TYPES, auth: config.auth, anyApiVersion: config.anyApiVersion }));

  await app.register(async (dataPlane) => inferenceRoutes(dataPlane, { store, catalog, auth: config.auth }));

  const resumed = await provisioner.resume();
  if (resumed) app.log.info({ operations: resumed }, 'resuming operations accepted before the last stop');

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
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
    close: () => (closing ??= (async () => {
      await app.close();
      await provisioner.stop();
      await store.close();
      await catalog.close();
    })()),
  };
}

/** What every request gets: ARM's request ids, JSON parsing with ARM errors, the error envelope, one log line. */
function installPipeline(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(errors.invalidJson((e as Error).message), undefined);
    }
  };
  app.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'string' }, parseJson);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-ms-request-id', req.id);
    const correlation = req.headers['x-ms-correlation-request-id'];
    reply.header('x-ms-correlation-request-id', typeof correlation === 'string' && correlation ? correlation : randomUUID());
    const clientId = req.headers['x-ms-client-request-id'];
    if (clientId && String(req.headers['x-ms-return-client-request-id']).toLowerCase() === 'true') reply.header('x-ms-client-request-id', clientId);
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  app.setNotFoundHandler(async (req, reply) => {
    const e = errors.noRoute(req.method, req.url.split('?')[0]);
    return reply.code(e.status).send(e.toBody());
  });

  app.setErrorHandler(async (err: FastifyError | ArmError, req, reply) => {
    const armError = err instanceof ArmError ? err : fromFastify(err);
    if (armError.status >= 500) req.log.error({ err }, 'request failed');
    reply.code(armError.status).headers(armError.headers);
    return reply.send(armError.toBody());
  });
}

function fromFastify(err: FastifyError): ArmError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.bodyTooLarge(BODY_LIMIT);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(String(err.message.match(/'([^']*)'/)?.[1] ?? 'unknown'));
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidJson(err.message);
  }
  if (err.validation || (err.statusCode && err.statusCode < 500)) return new ArmError(err.statusCode ?? 400, 'BadRequest', err.message);
  return errors.internal();
}
