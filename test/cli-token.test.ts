// `amlite token` (loose-mode tokens with chosen claims, accepted by the data plane), `amlite control --help`, and
// strict mode taking amlite's own origin as a management audience (as Azure Stack takes its own endpoint).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientSecretCredential } from '@azure/identity';
import {
  armFetch,
  certDir,
  describeResponse,
  endpointBody,
  endpointPath,
  freshDataDir,
  putAndWait,
  rgPath,
  startWithWorkspace,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';
import { startAmlite } from '../src/server.js';
import { tokenCli } from '../src/cli/token.js';
import { controlCli, UsageError } from '../src/control/cli.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SUB = '4b1c2d3e-4f50-4617-8293-a4b5c6d7e8f1';
const RG = 'token-rg';
const WS = 'token-ws';
const PREVIEW = '2026-03-15-preview';

/** The real CLI, as a user runs it. */
function amlite(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

describe('amlite token', () => {
  let server: RunningServer;
  let aadUri: string;
  let poolUri: string;
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
    const ep = await putAndWait(
      server,
      endpointPath(SUB, RG, WS, 'aad-ep'),
      PREVIEW,
      endpointBody({ authMode: 'AAD' }),
    );
    aadUri = ep.final.properties.inferenceEndpoint.uri;
    const pool = `${workspacePath(SUB, RG, WS)}/inferencePools/pool1`;
    await putAndWait(server, pool, PREVIEW, { location: 'eastus', sku: { name: 'S1', capacity: 1 }, properties: {} });
    await putAndWait(server, `${pool}/groups/g1`, PREVIEW, {
      location: 'eastus',
      sku: { name: 'Standard_NC24ads_A100_v4', capacity: 1 },
      properties: {
        scaleUnitSize: 1,
        modelConfiguration: { modelId: 'azureml://registries/azureml-meta/models/Llama-3.3-70B-Instruct/versions/1' },
      },
    });
    const pe = await putAndWait(server, `${pool}/endpoints/chat`, PREVIEW, {
      location: 'eastus',
      properties: { authMode: 'AAD', groupName: 'g1' },
    });
    poolUri = pe.final.properties.endpointUri;
    assert.ok(aadUri && poolUri, 'both endpoints have a URI');
  });
  after(() => server?.close());

  const chat = (uri: string, token: string) =>
    fetch(`${uri}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 }),
    });

  test('--audience https://ml.azure.com with --tenant, --appid and --expires: the data plane of a pool endpoint and an AAD serverless endpoint accept it', async () => {
    const out = amlite([
      'token',
      '--audience',
      'https://ml.azure.com',
      '--tenant',
      SUB,
      '--appid',
      'my-app-id',
      '--expires',
      '30m',
    ]);
    assert.equal(out.code, 0, out.stderr);
    const token = out.stdout.trim();
    const c = claimsOf(token);
    assert.equal(c.aud, 'https://ml.azure.com');
    assert.equal(c.tid, SUB);
    assert.equal(c.appid, 'my-app-id');
    assert.equal(c.idtyp, 'app');
    assert.equal(c.upn, undefined);
    assert.ok(Math.abs(c.exp - c.iat - 1800) <= 1, 'lives 30 minutes');
    for (const uri of [poolUri, aadUri]) {
      const res = await chat(uri, token);
      assert.equal(res.status, 200, `${uri}: ${await res.text()}`);
    }
  });

  test('the default token is for the management plane (refused by the data plane); --upn names the user in systemData', async () => {
    const plain = tokenCli([]);
    assert.equal((await chat(poolUri, plain)).status, 401);
    const user = tokenCli(['--upn', 'someone@contoso.com']);
    const path = `${workspacePath(SUB, RG, 'ws-by-someone')}?api-version=2025-09-01`;
    const res = await armFetch(server, 'PUT', path, { token: user, body: { location: 'eastus', properties: {} } });
    assert.equal(res.status, 200, describeResponse(res)); // a workspace create answers 200 (no 201 in its swagger)
    assert.equal(res.body.systemData.createdBy, 'someone@contoso.com');
    assert.equal(res.body.systemData.createdByType, 'User');
  });

  test('--expires 0 gives an expired token (401); bad options are usage errors; --help explains strict mode', async () => {
    const expired = tokenCli(['--audience', 'https://ml.azure.com', '--expires', '0']);
    assert.equal((await chat(aadUri, expired)).status, 401);
    assert.throws(
      () => tokenCli(['--expires', 'soon']),
      (e) => e instanceof UsageError && /--expires must be/.test(e.message),
    );
    assert.throws(() => tokenCli(['--upn', 'a', '--appid', 'b']), UsageError);
    assert.throws(() => tokenCli(['--audeince', 'x']), UsageError);
    const help = amlite(['token', '--help']);
    assert.equal(help.code, 0);
    for (const flag of ['--audience', '--tenant', '--upn', '--appid', '--expires', 'oauth2/v2.0/token'])
      assert.ok(help.stdout.includes(flag), flag);
  });
});

describe('amlite control', () => {
  test('--help prints the control help', async () => {
    const out = amlite(['control', '--help']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /usage: amlite control/);
    assert.match(out.stdout, /release OPERATION_ID/);
    for (const args of [['help'], ['-h'], ['rules', '--help']])
      assert.match(await controlCli(args, {}), /usage: amlite control/);
  });

  test('an unreachable server: the error names AMLITE_URL and --url', () => {
    const out = amlite(['control', 'rules'], { AMLITE_URL: 'https://127.0.0.1:1' });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /cannot reach amlite at https:\/\/127\.0\.0\.1:1/);
    assert.match(out.stderr, /--url/);
    assert.match(out.stderr, /AMLITE_URL/);
  });
});

describe("strict mode takes amlite's own origin as a management audience", () => {
  const TENANT = '3f1c1a2b-0000-4000-8000-0000000000c1';
  let server: RunningServer;
  before(async () => {
    server = await startAmlite({
      port: 0,
      host: '127.0.0.1',
      dataDir: freshDataDir('amlite-origin-'),
      inMemory: true,
      auth: 'strict',
      logLevel: 'silent',
      certFile: join(certDir(), 'cert.pem'),
      keyFile: join(certDir(), 'key.pem'),
    });
  });
  after(() => server?.close());

  const tokenFor = async (scope: string) => {
    const credential = new ClientSecretCredential(TENANT, '5a5b5c5d-1111-4222-8333-444455556666', 's', {
      authorityHost: server.url,
      disableInstanceDiscovery: true,
    });
    return (await credential.getToken(scope))!.token;
  };

  test('a token scoped to the endpoint URL (as @azure/arm-resources v7 asks), by 127.0.0.1 or localhost, with or without the slash', async () => {
    const port = new URL(server.url).port;
    const origins = [server.url, `${server.url}/`, `https://localhost:${port}`, `https://localhost:${port}/`];
    for (const [i, origin] of origins.entries()) {
      const token = await tokenFor(`${origin}/.default`.replace('//.default', '/.default'));
      assert.equal(claimsOf(token).aud.replace(/\/$/, ''), origin.replace(/\/$/, ''));
      const res = await armFetch(server, 'PUT', withApiVersion(rgPath(SUB, `origin-${i}`), RG_API_VERSION), {
        token,
        body: { location: 'eastus' },
      });
      assert.equal(res.status, 201, `${origin}: ${describeResponse(res)}`);
    }
    // An audience with the trailing slash, as a resource= (v1) request would carry it.
    const v1 = await fetch(`${server.url}/${TENANT}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'app',
        client_secret: 's',
        resource: `${server.url}/`,
      }),
    });
    const slashToken = (await v1.json()).access_token;
    const ok = await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'origin-0'), RG_API_VERSION), {
      token: slashToken,
    });
    assert.equal(ok.status, 200, describeResponse(ok));
  });

  test('another origin (another port) is still the wrong audience, and the error lists the accepted ones', async () => {
    const token = await tokenFor('https://127.0.0.1:1/.default');
    const res = await armFetch(server, 'GET', withApiVersion(rgPath(SUB, 'origin-0'), RG_API_VERSION), { token });
    assert.equal(res.status, 401, describeResponse(res));
    assert.equal(res.body.error.code, 'InvalidAuthenticationTokenAudience');
    assert.ok(res.body.error.message.includes(`'${server.url}'`), res.body.error.message);
  });
});
