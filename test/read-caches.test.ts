// The read path's caches (issue 18): rendered forms kept per stored text and api-version and origin, whole LIST
// pages kept per data version, decoded and verified tokens kept per raw token. What they must never change: a write
// by another process shows at once, a token stops working when it expires, each cache stays within its bound.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  API_VERSIONS,
  armFetch,
  createResourceGroup,
  createWorkspace,
  endpointBody,
  endpointPath,
  freshDataDir,
  putAndWait,
  startTestServer,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';
import { RENDER_CACHE_FORMS, RenderCache } from '../src/arm/render-cache.js';
import { TOKEN_CACHE_ENTRIES, decodeJwt, decodedTokens } from '../src/auth/token-cache.js';
import { authRequest, Refusal } from '../src/auth/authenticators/authenticator.js';
import { LooseAuthenticator } from '../src/auth/authenticators/loose.js';
import { devToken } from '../src/auth/bearer.js';
import { TokenIssuer } from '../src/auth/issuer.js';
import { StrictAuth, TenantBindings, managementAudiences } from '../src/auth/strict.js';

const [STABLE, PREVIEW] = API_VERSIONS;

describe('rendered forms on the file store', () => {
  let server: RunningServer;
  let dataDir: string;
  const sub = randomUUID();
  const ep = endpointPath(sub, 'rg', 'wsp', 'ep-1');
  const list = withApiVersion(`${workspacePath(sub, 'rg', 'wsp')}/serverlessEndpoints`, STABLE);

  before(async () => {
    dataDir = freshDataDir();
    server = await startTestServer({ inMemory: false, dataDir, profile: 'fast' });
    await createResourceGroup(server, sub, 'rg');
    await createWorkspace(server, sub, 'rg', 'wsp');
    await putAndWait(server, ep, STABLE, endpointBody());
    await putAndWait(server, endpointPath(sub, 'rg', 'wsp', 'ep-2'), STABLE, endpointBody());
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Writes the endpoint's tags from another process, as a second amlite on the same file would. */
  const writeElsewhere = (tag: string, keepEtag: boolean) => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'support', 'read-caches-writer.ts'),
        join(dataDir, 'amlite.db'),
        ep.toLowerCase(),
        tag,
        keepEtag ? 'keep' : 'new',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  };

  test('a write by another process shows in the next GET and LIST, even one that keeps the ETag', async () => {
    const first = await armFetch(server, 'GET', withApiVersion(ep, STABLE));
    assert.equal((await armFetch(server, 'GET', withApiVersion(ep, STABLE))).text, first.text, 'served again');
    await armFetch(server, 'GET', list);
    await armFetch(server, 'GET', list);
    for (const [tag, keep] of [
      ['one', false],
      ['two', true],
    ] as const) {
      writeElsewhere(tag, keep);
      const got = await armFetch(server, 'GET', withApiVersion(ep, STABLE));
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.tags, { written: tag });
      if (!keep) assert.notEqual(got.headers.get('etag'), first.headers.get('etag'));
      const page = await armFetch(server, 'GET', list);
      const listed = page.body.value.find((r: { name: string }) => r.name === 'ep-1');
      assert.deepEqual(listed.tags, { written: tag });
      assert.deepEqual(listed, got.body, 'LIST shows what GET shows');
    }
  });

  test('a write through this server shows at once; GET answers JSON with the ETag', async () => {
    await armFetch(server, 'GET', withApiVersion(ep, STABLE));
    const patched = await armFetch(server, 'PATCH', withApiVersion(ep, STABLE), { body: { tags: { here: '1' } } });
    assert.ok(patched.status === 200 || patched.status === 202, patched.text);
    const got = await putAndWait(server, ep, STABLE, { ...endpointBody(), tags: { here: '2' } });
    const again = await armFetch(server, 'GET', withApiVersion(ep, STABLE));
    assert.deepEqual(again.body.tags, { here: '2' });
    assert.deepEqual(again.body, got.final);
    assert.match(again.headers.get('content-type') ?? '', /^application\/json; charset=utf-8$/);
    assert.ok(again.headers.get('etag'));
    const page = await armFetch(server, 'GET', list);
    assert.deepEqual(page.body.value.find((r: { name: string }) => r.name === 'ep-1').tags, { here: '2' });
  });

  test('each api-version and each origin gets its own rendering, however they alternate', async () => {
    const at = async (version: string, host: string) =>
      (await armFetch(server, 'GET', `https://${host}:${new URL(server.url).port}${withApiVersion(ep, version)}`)).body;
    const stable = await at(STABLE, '127.0.0.1');
    const preview = await at(PREVIEW, '127.0.0.1');
    const named = await at(STABLE, 'localhost');
    assert.match(stable.properties.inferenceEndpoint.uri, /^https:\/\/127\.0\.0\.1:/);
    assert.match(named.properties.inferenceEndpoint.uri, /^https:\/\/localhost:/);
    assert.deepEqual(await at(STABLE, '127.0.0.1'), stable);
    assert.deepEqual(await at(PREVIEW, '127.0.0.1'), preview);
    assert.deepEqual(await at(STABLE, 'localhost'), named);
  });

  test('a resource whose operation is running shows it running, and finished once it is', async () => {
    const fresh = endpointPath(sub, 'rg', 'wsp', 'ep-3');
    const put = await armFetch(server, 'PUT', withApiVersion(fresh, STABLE), { body: endpointBody() });
    assert.equal(put.status, 201, put.text);
    const done = await putAndWait(server, fresh, STABLE, endpointBody());
    assert.equal(done.final.properties.provisioningState, 'Succeeded');
    const page = await armFetch(server, 'GET', list);
    const listed = page.body.value.find((r: { name: string }) => r.name === 'ep-3');
    assert.equal(listed.properties.provisioningState, 'Succeeded');
  });
});

describe('the rendered-form cache', () => {
  test('keeps at most its bound of resources, dropping the least recently read', () => {
    const cache = new RenderCache(3);
    for (const k of ['a', 'b', 'c']) cache.put(k, `text-${k}`, 'e', 'v o', `json-${k}`, undefined);
    assert.ok(cache.form('a', 'text-a', 'v o', undefined), 'a read: now the most recent');
    cache.put('d', 'text-d', 'e', 'v o', 'json-d', undefined);
    assert.equal(cache.size, 3);
    assert.equal(cache.form('b', 'text-b', 'v o', undefined), undefined, 'the least recently read went');
    assert.equal(cache.form('a', 'text-a', 'v o', undefined)?.json, 'json-a');
  });

  test('a form is served only for the same stored text, or at the same data version', () => {
    const cache = new RenderCache();
    cache.put('a', 'text-1', 'e1', 'v o', 'json-1', '7:1');
    assert.equal(cache.current('a', '7:1', 'v o')?.json, 'json-1');
    assert.equal(cache.current('a', '7:2', 'v o'), undefined, 'something changed: the text is read again');
    assert.equal(cache.current('a', undefined, 'v o'), undefined, 'no version, no shortcut');
    assert.equal(cache.form('a', 'text-2', 'v o', '7:2'), undefined, 'another text: rendered again');
    assert.equal(cache.current('a', '7:1', 'v o'), undefined, 'and the old form is gone');
  });

  test('keeps at most its bound of forms per resource', () => {
    const cache = new RenderCache();
    for (let i = 0; i <= RENDER_CACHE_FORMS; i++) cache.put('a', 'text', 'e', `v${i} o`, `json-${i}`, undefined);
    const kept = Array.from({ length: RENDER_CACHE_FORMS + 1 }, (_, i) =>
      cache.form('a', 'text', `v${i} o`, undefined),
    );
    assert.ok(kept.filter(Boolean).length <= RENDER_CACHE_FORMS);
    assert.equal(kept.at(-1)?.json, `json-${RENDER_CACHE_FORMS}`, 'the newest is kept');
  });
});

describe('kept tokens', () => {
  const ORIGIN = 'https://127.0.0.1:8443';
  let dir: string;
  let strict: StrictAuth;
  let issuer: TokenIssuer;
  const store = { bindTenant: async (_s: string, t: string) => t, tenantOf: async () => undefined };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amlite-read-caches-'));
    issuer = await TokenIssuer.load(dir);
    strict = new StrictAuth(issuer, new TenantBindings(store));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('strict mode: a verified token is refused once it expires, and a forged one never passes', () => {
    const tenant = randomUUID();
    const token = issuer.issue({
      origin: ORIGIN,
      tenantId: tenant,
      clientId: 'app',
      audience: 'https://management.azure.com/',
    }).token;
    const exp = decodeJwt(token)!.claims.exp as number;
    const audiences = managementAudiences(ORIGIN);
    const at = (seconds: number) => strict.check(token, audiences, { origin: ORIGIN }, new Date(seconds * 1000));
    assert.ok(!(at(exp - 60) instanceof Refusal));
    assert.ok(!(at(exp - 30) instanceof Refusal), 'again, from what was kept');
    const expired = at(exp + 1);
    assert.ok(expired instanceof Refusal && expired.kind === 'expired');
    const [h, p, s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(token)!.claims, tid: randomUUID() })).toString('base64url')}.${s}`;
    for (let i = 0; i < 2; i++) {
      const refused = strict.check(forged, audiences, { origin: ORIGIN }, new Date((exp - 60) * 1000));
      assert.ok(refused instanceof Refusal && refused.kind === 'invalid', 'refused each time');
    }
    assert.ok(
      !(strict.check(`${h}.${p}.${s}`, audiences, { origin: ORIGIN }, new Date((exp - 60) * 1000)) instanceof Refusal),
    );
  });

  test('loose mode: a kept token is refused once it expires', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = devToken({ exp: now + 100 });
    const loose = new LooseAuthenticator();
    const ask = (seconds: number) =>
      loose.authenticate(
        authRequest({ authorization: `Bearer ${token}`, origin: ORIGIN, now: new Date(seconds * 1000) }),
      );
    assert.ok(!(ask(now) instanceof Refusal));
    const refused = ask(now + 101);
    assert.ok(refused instanceof Refusal && refused.kind === 'expired');
  });

  test('at most TOKEN_CACHE_ENTRIES decoded tokens are kept, and what is kept cannot be changed', () => {
    for (let i = 0; i < TOKEN_CACHE_ENTRIES + 50; i++) decodeJwt(devToken({ upn: `user-${i}@example.com` }));
    assert.ok(decodedTokens() <= TOKEN_CACHE_ENTRIES, `${decodedTokens()} kept`);
    const jwt = decodeJwt(devToken({ upn: 'someone@example.com' }))!;
    assert.throws(() => {
      (jwt.claims as Record<string, unknown>).upn = 'someone-else';
    });
  });
});
