import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArmError } from '../arm/errors.js';
import { DashboardView, type ViewDeps } from './view.js';
import { API_BASE, DASHBOARD_BASE, type ChangeEvent, type OperationsResponse } from './api.js';
import { BUNDLE_DIR } from './bundle.js';
import { isLoopbackAddress, isLoopbackHost } from '../http-edge.js';

export interface DashboardDeps extends ViewDeps {
  /** How often the change feed looks at the store while a page listens (ms). */
  pollMs?: number;
}

type Query = Record<string, string | string[] | undefined>;

/**
 * The dashboard: the page (`/_dashboard`, a bundle built by `npm run build:dashboard`) and the JSON API it reads
 * (`/_amlite/api/...`). Both answer loopback clients only: it is a local development tool, with no token of its own.
 */
export async function dashboardRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const view = new DashboardView(deps);
  const feed = new ChangeFeed(() => view.fingerprint(), deps.pollMs ?? 300, app.log);

  app.addHook('onRequest', async (req) => {
    const denied = whyDenied(req.raw.socket.remoteAddress, req.headers.host);
    if (denied) throw new ArmError(403, 'Forbidden', denied);
  });
  // Open event streams would keep the server from closing.
  app.addHook('preClose', async () => feed.close());

  const origin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;
  const api = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  // ---------- the page ----------

  app.get(DASHBOARD_BASE, async (_req, reply) => {
    const built = await exists(join(BUNDLE_DIR, 'app.js'));
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(built ? PAGE : NOT_BUILT);
  });

  app.get(`${DASHBOARD_BASE}/:file`, async (req, reply) => {
    const { file } = req.params as { file: string };
    const type = ASSET_TYPES[file.slice(file.lastIndexOf('.'))];
    const body =
      type && /^[\w-]+(\.[\w-]+)*$/.test(file)
        ? await readFile(join(BUNDLE_DIR, file)).catch(() => undefined)
        : undefined;
    if (!body) throw new ArmError(404, 'NotFound', `The dashboard has no file '${file}'.`);
    return reply.type(type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
  });

  // ---------- the JSON API ----------

  app.get(`${API_BASE}/tree`, async (req, reply) => api(reply).send(await view.tree(origin(req))));

  app.get(`${API_BASE}/operations`, async (req, reply) => {
    const raw = first((req.query as Query).limit);
    const limit = raw === undefined || raw === '' ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new ArmError(
        400,
        'InvalidQueryParameter',
        `limit must be a whole number from 1 to 500, not '${raw}'.`,
        'limit',
      );
    const body: OperationsResponse = { value: await view.operations(limit) };
    return api(reply).send(body);
  });

  app.get(`${API_BASE}/keys`, async (req, reply) => {
    const q = req.query as Query;
    const id = first(q.id);
    if (!id)
      throw new ArmError(
        400,
        'InvalidQueryParameter',
        'The id query parameter (the resource id of an endpoint) is required.',
        'id',
      );
    const reveal = String(first(q.reveal)).toLowerCase() === 'true';
    return api(reply).send(await view.keys(id, reveal, origin(req)));
  });

  app.get(`${API_BASE}/events`, async (req, reply) => {
    await feed.ready();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    feed.add(res);
    req.raw.once('close', () => feed.remove(res));
  });
}

/**
 * Server-sent change signals. While at least one page listens, it takes the store's fingerprint every `pollMs` and
 * pushes `event: change` when it moved; the page then reads the JSON API again. Looking at the store (rather than at
 * our own requests) also sees the provisioner finishing operations and other processes sharing the store.
 */
class ChangeFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer?: NodeJS.Timeout;
  private last?: string;
  private version = 0;
  private checking?: Promise<void>;
  private lastWrite = 0;

  constructor(
    private readonly fingerprint: () => Promise<string>,
    private readonly pollMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Takes the baseline before a client gets `ready`, so no change between its first read and the first tick is lost. */
  async ready(): Promise<void> {
    if (this.last === undefined) await this.check();
  }

  add(res: ServerResponse): void {
    this.clients.add(res);
    this.send(
      res,
      `retry: 2000\nevent: ready\ndata: ${JSON.stringify({ version: this.version } satisfies ChangeEvent)}\n\n`,
    );
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.pollMs);
      this.timer.unref();
    }
  }

  remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const now = await this.fingerprint();
        if (this.last !== undefined && now !== this.last) {
          this.version++;
          this.broadcast(`event: change\ndata: ${JSON.stringify({ version: this.version } satisfies ChangeEvent)}\n\n`);
        } else if (Date.now() - this.lastWrite > 15_000) {
          this.broadcast(': keep-alive\n\n');
        }
        this.last = now;
      } catch (err) {
        this.log.warn({ err }, 'dashboard: could not read the store for changes');
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private broadcast(text: string): void {
    for (const res of this.clients) this.send(res, text);
  }

  private send(res: ServerResponse, text: string): void {
    this.lastWrite = Date.now();
    if (!res.writableEnded) res.write(text);
  }
}

/**
 * Why a request may not see the dashboard, or undefined when it may. Only loopback clients are served, and only under
 * a loopback host name, so a web page elsewhere cannot read it through DNS rebinding either.
 */
export function whyDenied(remoteAddress: string | undefined, host: string | undefined): string | undefined {
  if (!remoteAddress || !isLoopbackAddress(remoteAddress))
    return `The dashboard and its API answer requests from this machine (loopback) only; this one came from ${remoteAddress ?? 'an unknown address'}.`;
  if (!host || !isLoopbackHost(host))
    return `The dashboard and its API answer under a loopback host name only (localhost, 127.0.0.1, [::1]), not '${host}'.`;
  return undefined;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

const exists = (path: string) =>
  readFile(path).then(
    () => true,
    () => false,
  );

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Everything the page loads comes from this server; nothing from elsewhere, nothing inline. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>amlite dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DASHBOARD_BASE}/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="${DASHBOARD_BASE}/app.js"></script>
</body>
</html>
`;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amlite dashboard</title></head>
<body><h1>amlite dashboard</h1><p>The dashboard's bundle is not built. Run <code>npm run build:dashboard</code> (or <code>npm run build</code>) and reload.</p></body>
</html>
`;
