// Credentials stay secret: data-plane keys (current, rotated, wrong), bearer tokens and client secrets never appear
// in the log stream (captured at trace level, the most verbose) nor in any error answer. And the data plane refuses
// wrong, missing and rotated keys with 401.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import {
  armFetch,
  describeResponse,
  endpointBody,
  endpointPath,
  fakeToken,
  freshDataDir,
  pollUntil,
  rgPath,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
} from './support/harness.js';
import { startCli, stopCli } from './support/cli.js';
import { rawRequest } from './support/raw-http.js';
import { TokenIssuer } from '../src/auth/issuer.js';
import { signJwt } from '../src/auth/jwt.js';

const TENANT = '9a8b7c6d-0000-4000-8000-00000000abcd';
const CLIENT_ID = 'c11e47a0-0000-4000-8000-0000000c11e4';
const STABLE = '2025-09-01';
const PREVIEW = '2026-03-15-preview';

test(
  'no key, token or client secret in the trace-level log or in an error answer; bad keys get 401',
  { timeout: 60_000 },
  async (t) => {
    const dataDir = freshDataDir('amlite-secrets-');
    const clientSecret = `cs-${randomBytes(18).toString('base64url')}`;
    const server = await startCli([
      '--data-dir',
      dataDir,
      '--log-level',
      'trace',
      '--auth',
      'strict',
      '--issuer-secret',
      clientSecret,
    ]);
    /** Every credential the test handles; none may show in the log. */
    const secrets = new Set<string>([clientSecret]);
    const errorBodies: string[] = [];
    const remember = <T extends { status: number; text: string }>(res: T): T => {
      if (res.status >= 400) errorBodies.push(res.text);
      return res;
    };
    try {
      const tokenFor = async (scope: string, secret = clientSecret) => {
        const res = await fetch(`${server.url}/${TENANT}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: CLIENT_ID,
            client_secret: secret,
            scope,
          }).toString(),
        });
        const text = await res.text();
        remember({ status: res.status, text });
        return { status: res.status, token: res.ok ? (JSON.parse(text).access_token as string) : undefined };
      };
      const wrongSecret = `wrong-${randomBytes(12).toString('base64url')}`;
      secrets.add(wrongSecret);
      assert.equal(
        (await tokenFor('https://management.azure.com/.default', wrongSecret)).status,
        401,
        'a wrong client secret',
      );
      const arm = (await tokenFor('https://management.azure.com/.default')).token!;
      const ml = (await tokenFor('https://ml.azure.com/.default')).token!;
      secrets.add(arm).add(ml);

      const sub = randomUUID();
      const call = async (method: string, path: string, body?: unknown, token: string | null = arm) =>
        remember(await armFetch(server, method, path, { body, token }));
      assert.equal(
        (await call('PUT', withApiVersion(rgPath(sub, 'rg'), RG_API_VERSION), { location: 'eastus' })).status,
        201,
      );
      const ws = workspacePath(sub, 'rg', 'ws-secrets');
      assert.ok(
        [200, 201].includes(
          (await call('PUT', withApiVersion(ws, STABLE), { location: 'eastus', properties: {} })).status,
        ),
      );
      const keyEp = endpointPath(sub, 'rg', 'ws-secrets', 'ep-key');
      const aadEp = endpointPath(sub, 'rg', 'ws-secrets', 'ep-aad');
      assert.equal((await call('PUT', withApiVersion(keyEp, STABLE), endpointBody())).status, 201);
      assert.equal((await call('PUT', withApiVersion(aadEp, PREVIEW), endpointBody({ authMode: 'AAD' }))).status, 201);
      const uriOf = async (path: string, v: string) =>
        pollUntil(`${path} online`, async () => {
          const r = await call('GET', withApiVersion(path, v));
          return r.body.properties.provisioningState === 'Succeeded'
            ? (r.body.properties.inferenceEndpoint.uri as string)
            : undefined;
        });
      const keyUri = await uriOf(keyEp, STABLE);
      const aadUri = await uriOf(aadEp, PREVIEW);

      const keys = (await call('POST', withApiVersion(`${keyEp}/listKeys`, STABLE))).body as {
        primaryKey: string;
        secondaryKey: string;
      };
      const rotated = `rot-${randomBytes(24).toString('base64url')}`;
      const regen = await call('POST', withApiVersion(`${keyEp}/regenerateKeys`, STABLE), {
        keyType: 'Primary',
        keyValue: rotated,
      });
      assert.equal(regen.status, 200, describeResponse(regen));
      const newSecondary = (
        await call('POST', withApiVersion(`${keyEp}/regenerateKeys`, STABLE), { keyType: 'Secondary' })
      ).body.secondaryKey as string;
      const wrongKey = `bad-${randomBytes(24).toString('base64url')}`;
      for (const k of [keys.primaryKey, keys.secondaryKey, rotated, newSecondary, wrongKey]) secrets.add(k);

      // The data plane: current keys work, wrong / missing / rotated ones are 401, in either header.
      const chat = async (uri: string, headers: Record<string, string>) => {
        const res = await fetch(`${uri}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
        });
        return remember({ status: res.status, text: await res.text() });
      };
      assert.equal((await chat(keyUri, { 'api-key': rotated })).status, 200, 'the regenerated primary key');
      assert.equal(
        (await chat(keyUri, { authorization: `Bearer ${newSecondary}` })).status,
        200,
        'the regenerated secondary key as a bearer',
      );
      const refused: [string, Record<string, string>][] = [
        ['no key', {}],
        ['a wrong key', { 'api-key': wrongKey }],
        ['the rotated-out primary key', { 'api-key': keys.primaryKey }],
        ['the rotated-out secondary key as a bearer', { authorization: `Bearer ${keys.secondaryKey}` }],
        ['an empty key', { 'api-key': '' }],
        ['a token on a key endpoint', { authorization: `Bearer ${ml}` }],
      ];
      for (const [what, headers] of refused) {
        const res = await chat(keyUri, headers);
        assert.equal(res.status, 401, `${what}: ${res.text}`);
        assert.equal(JSON.parse(res.text).error.code, 'Unauthorized', what);
      }
      assert.equal(
        (await chat(aadUri, { authorization: `Bearer ${ml}` })).status,
        200,
        'an ml.azure.com token of the issuer',
      );
      assert.equal(
        (await chat(aadUri, { authorization: `Bearer ${arm}` })).status,
        401,
        'a management token on the data plane',
      );
      assert.equal((await chat(aadUri, { 'api-key': rotated })).status, 401, 'a key on an AAD endpoint');

      // Management plane: refused tokens of every kind.
      const issuer = await TokenIssuer.load(dataDir);
      const now = Math.floor(Date.now() / 1000);
      const expired = issuer.sign({
        aud: 'https://management.azure.com/',
        iss: `${server.url}/${TENANT}/v2.0`,
        tid: TENANT,
        appid: CLIENT_ID,
        iat: now - 7200,
        exp: now - 3600,
      });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forged = signJwt(
        JSON.parse(Buffer.from(arm.split('.')[1], 'base64url').toString()),
        privateKey,
        issuer.kid,
      );
      const unsigned = fakeToken();
      for (const tk of [expired, forged, unsigned]) secrets.add(tk);
      for (const tk of [expired, forged, unsigned, ml]) {
        assert.equal((await call('GET', withApiVersion(keyEp, STABLE), undefined, tk)).status, 401);
      }

      // Requests Node rejects before Fastify sees them, with credentials in their headers, and a malformed body with a key.
      const huge = await rawRequest(
        server.url,
        `GET ${new URL(keyUri).pathname}/info HTTP/1.1\r\nHost: 127.0.0.1\r\napi-key: ${rotated}\r\nauthorization: Bearer ${arm}\r\nx-pad: ${'p'.repeat(20_000)}\r\n\r\n`,
      );
      assert.equal(huge.status, 431);
      errorBodies.push(huge.body);
      const garbage = await rawRequest(
        server.url,
        `GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\napi-key: ${rotated}\r\nbad header line without colon ${newSecondary}\r\n\r\n`,
      );
      assert.equal(garbage.status, 400);
      errorBodies.push(garbage.body);
      const malformed = remember(
        await armFetch(server, 'POST', withApiVersion(`${keyEp}/regenerateKeys`, STABLE), {
          body: `{"keyType":"Primary","keyValue": ${rotated}}`,
          token: arm,
          headers: { 'content-type': 'application/json' },
        }),
      );
      assert.equal(malformed.status, 400, describeResponse(malformed));
      const malformed2 = await armFetch(server, 'POST', withApiVersion(`${keyEp}/regenerateKeys`, STABLE), {
        body: `${newSecondary}`,
        token: arm,
        headers: { 'content-type': 'application/json' },
      });
      remember(malformed2);
      assert.equal(malformed2.status, 400);
      const badChatBody = await fetch(`${keyUri}/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': rotated, 'content-type': 'application/json' },
        body: `{"messages": ${rotated}`,
      });
      remember({ status: badChatBody.status, text: await badChatBody.text() });
      assert.equal(badChatBody.status, 400);
    } finally {
      const exit = await stopCli(server, 'SIGTERM');
      assert.equal(exit.code, 0, server.output().slice(-2000));
    }

    const log = server.output();
    const lines = log.split('\n').filter((l) => l.startsWith('{'));
    t.diagnostic(`${lines.length} log lines captured at trace level`);
    assert.ok(
      lines.filter((l) => l.includes('"msg":"request"')).length >= 30,
      'the capture holds one line per request',
    );
    assert.ok(
      lines.some((l) => l.includes('"level":10') || l.includes('"level":20')),
      'trace/debug lines are in the capture',
    );
    for (const secret of secrets) {
      // The whole credential, and any 16-character piece of its secret part (a JWT's signature, a key).
      const secretPart = secret.split('.').length === 3 ? secret.split('.')[2] || secret.split('.')[1] : secret;
      const pieces = [
        secret,
        ...Array.from({ length: Math.max(0, secretPart.length - 15) }, (_, i) => secretPart.slice(i, i + 16)),
      ];
      for (const piece of pieces) {
        assert.ok(!log.includes(piece), `a credential (…${piece.slice(-6)}) appears in the log`);
        for (const body of errorBodies)
          assert.ok(
            !body.includes(piece),
            `a credential (…${piece.slice(-6)}) appears in an error answer: ${body.slice(0, 200)}`,
          );
      }
    }
  },
);
