// Strict mode's tenants (issue 12, items 1, 13, 10): subscription → tenant bindings live in the store, so every
// process on one PostgreSQL database answers the other tenant 401 InvalidAuthenticationTokenTenant, whoever came
// first and through whichever process, also after a restart; an older data dir's tenants.json is imported once and
// never written again; the control API (/_amlite) acts for the caller's tenant only; and GET /_amlite/operations
// answers hostile query parameters with 400.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  armFetch,
  describeResponse,
  endpointBody,
  endpointPath,
  freshDataDir,
  rgPath,
  startTestServer,
  withApiVersion,
  workspacePath,
  RG_API_VERSION,
  type RunningServer,
} from './support/harness.js';
import { stopCli, type CliServer } from './support/cli.js';
import { cliOnPostgres, type CliOnPostgres } from './support/cli-postgres.js';
import { startStrict, strictToken } from './support/strict-tokens.js';
import { describeWithPostgres } from './support/with-postgres.js';

const TENANT_A = '7e1a0000-0000-4000-8000-00000000000a';
const TENANT_B = '7e1a0000-0000-4000-8000-00000000000b';
const STABLE = '2025-09-01';
const WRONG_TENANT = 'InvalidAuthenticationTokenTenant';

const putGroup = (server: { url: string }, token: string, sub: string, rg = 'rg') =>
  armFetch(server, 'PUT', withApiVersion(rgPath(sub, rg), RG_API_VERSION), { token, body: { location: 'eastus' } });
const getGroup = (server: { url: string }, token: string, sub: string, rg = 'rg') =>
  armFetch(server, 'GET', withApiVersion(rgPath(sub, rg), RG_API_VERSION), { token });

describeWithPostgres('tenant bindings across processes on one PostgreSQL database', () => {
  let cluster: CliOnPostgres;
  // One data dir for both: they must share the token issuer's key to accept each other's tokens (README).
  const dataDir = freshDataDir('amlite-tenants-pg-');
  const start = () => cluster.start(['--auth', 'strict'], dataDir);
  let p1: CliServer;
  let p2: CliServer;

  before(async () => {
    cluster = await cliOnPostgres('amlite_tenants');
    [p1, p2] = await Promise.all([start(), start()]);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const subA = randomUUID();
  const subB = randomUUID();

  test('whoever binds first, through either process, the other tenant gets 401 on both', async () => {
    const [a1, b1, a2, b2] = await Promise.all([
      strictToken(p1, TENANT_A),
      strictToken(p1, TENANT_B),
      strictToken(p2, TENANT_A),
      strictToken(p2, TENANT_B),
    ]);
    // Order 1: A first, through p1; B then through p2.
    assert.equal((await putGroup(p1, a1, subA)).status, 201);
    const intruder = await putGroup(p2, b2, subA, 'rg-b');
    assert.equal(intruder.status, 401, describeResponse(intruder));
    assert.equal(intruder.body.error.code, WRONG_TENANT);
    assert.equal((await getGroup(p2, b2, subA)).body.error?.code, WRONG_TENANT);
    assert.equal((await getGroup(p2, a2, subA, 'rg-b')).status, 404, "B's create through p2 made nothing");
    // Order 2: B first, through p2; A then through p1.
    assert.equal((await putGroup(p2, b2, subB)).status, 201);
    assert.equal((await putGroup(p1, a1, subB, 'rg-a')).body.error?.code, WRONG_TENANT);
    assert.equal((await getGroup(p1, b1, subB)).status, 200, 'B owns it through p1 as well');
  });

  test('two tenants racing for a new subscription through two processes: one wins, both processes agree', async () => {
    const [a1, b2, a2, b1] = await Promise.all([
      strictToken(p1, TENANT_A),
      strictToken(p2, TENANT_B),
      strictToken(p2, TENANT_A),
      strictToken(p1, TENANT_B),
    ]);
    for (let round = 0; round < 10; round++) {
      const sub = randomUUID();
      const [ra, rb] = await Promise.all([putGroup(p1, a1, sub, 'ra'), putGroup(p2, b2, sub, 'rb')]);
      const winners = [ra, rb].filter((r) => r.status === 201);
      assert.equal(winners.length, 1, `round ${round}: ${describeResponse(ra)} / ${describeResponse(rb)}`);
      const loser = ra.status === 201 ? rb : ra;
      assert.equal(loser.body.error?.code, WRONG_TENANT);
      const owner = ra.status === 201 ? 'A' : 'B';
      for (const [server, token, tenant] of [
        [p1, a1, 'A'],
        [p2, a2, 'A'],
        [p1, b1, 'B'],
        [p2, b2, 'B'],
      ] as const) {
        const res = await getGroup(server, token, sub, owner === 'A' ? 'ra' : 'rb');
        assert.equal(
          res.status,
          tenant === owner ? 200 : 401,
          `round ${round}, tenant ${tenant}: ${describeResponse(res)}`,
        );
      }
    }
  });

  test('the bindings outlive a restart of both processes', async () => {
    await Promise.all([stopCli(p1, 'SIGTERM'), stopCli(p2, 'SIGTERM')]);
    [p1, p2] = await Promise.all([start(), start()]);
    const [a1, b1, a2, b2] = await Promise.all([
      strictToken(p1, TENANT_A),
      strictToken(p1, TENANT_B),
      strictToken(p2, TENANT_A),
      strictToken(p2, TENANT_B),
    ]);
    assert.equal((await getGroup(p2, a2, subA)).status, 200);
    assert.equal((await getGroup(p1, b1, subA)).body.error?.code, WRONG_TENANT);
    assert.equal((await getGroup(p1, b1, subB)).status, 200);
    assert.equal((await getGroup(p2, a2, subB)).body.error?.code, WRONG_TENANT);
    assert.equal((await putGroup(p1, a1, subB, 'late')).body.error?.code, WRONG_TENANT);
    assert.equal((await putGroup(p2, b2, subA, 'late')).body.error?.code, WRONG_TENANT);
    assert.ok(!existsSync(join(dataDir, 'tenants.json')), 'no tenants.json is written any more');
  });
});

describe('tenant bindings on SQLite: tenants.json imported once, bindings in the store', () => {
  const dataDir = freshDataDir('amlite-tenants-sqlite-');
  const legacySub = randomUUID();
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  test('an older data dir keeps its bindings; new ones go to the store and survive a restart', async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'tenants.json'), JSON.stringify({ [legacySub]: TENANT_A }));
    const first = await startStrict(dataDir);
    const newSub = randomUUID();
    try {
      const [a, b] = await Promise.all([strictToken(first, TENANT_A), strictToken(first, TENANT_B)]);
      assert.equal((await putGroup(first, b, legacySub)).body.error?.code, WRONG_TENANT, 'the imported binding holds');
      assert.equal((await putGroup(first, a, legacySub)).status, 201);
      assert.equal((await putGroup(first, b, newSub)).status, 201);
      assert.ok(!existsSync(join(dataDir, 'tenants.json')), 'imported, then out of the way');
      assert.deepEqual(
        JSON.parse(readFileSync(join(dataDir, 'tenants.json.imported'), 'utf8')),
        { [legacySub]: TENANT_A },
        'never rewritten',
      );
    } finally {
      await first.close();
    }
    const second = await startStrict(dataDir);
    try {
      const [a, b] = await Promise.all([strictToken(second, TENANT_A), strictToken(second, TENANT_B)]);
      assert.equal((await getGroup(second, b, legacySub)).body.error?.code, WRONG_TENANT);
      assert.equal((await getGroup(second, a, newSub)).body.error?.code, WRONG_TENANT);
      assert.equal((await getGroup(second, b, newSub)).status, 200);
    } finally {
      await second.close();
    }
  });
});

describe("strict mode: the control API acts for the caller's tenant only", () => {
  let server: RunningServer;
  let a: string;
  let b: string;
  const subA = randomUUID();
  const subB = randomUUID();
  const epA = endpointPath(subA, 'rg', 'ws-t', 'ep-a');
  const ctl = (method: string, path: string, token: string, body?: unknown) =>
    armFetch(server, method, path, { token, body });

  before(async () => {
    server = await startTestServer({ auth: 'strict' });
    [a, b] = await Promise.all([strictToken(server, TENANT_A), strictToken(server, TENANT_B)]);
    for (const [token, sub] of [
      [a, subA],
      [b, subB],
    ]) {
      assert.equal((await putGroup(server, token, sub)).status, 201);
      const ws = await armFetch(server, 'PUT', withApiVersion(workspacePath(sub, 'rg', 'ws-t'), STABLE), {
        token,
        body: { location: 'eastus', properties: {} },
      });
      assert.ok(ws.status < 300, describeResponse(ws));
    }
    for (const [token, path] of [
      [a, epA],
      [b, endpointPath(subB, 'rg', 'ws-t', 'ep-b')],
    ]) {
      const ep = await armFetch(server, 'PUT', withApiVersion(path, STABLE), { token, body: endpointBody() });
      assert.equal(ep.status, 201, describeResponse(ep));
    }
  });
  after(() => server?.close());

  test("operations: each tenant lists its own subscriptions' operations only", async () => {
    const listed = async (token: string) =>
      (await ctl('GET', '/_amlite/operations', token)).body.value as { subscriptionId: string }[];
    const ofA = await listed(a);
    const ofB = await listed(b);
    assert.ok(
      ofA.length > 0 && ofA.every((o) => o.subscriptionId.toLowerCase() === subA.toLowerCase()),
      JSON.stringify(ofA),
    );
    assert.ok(
      ofB.length > 0 && ofB.every((o) => o.subscriptionId.toLowerCase() === subB.toLowerCase()),
      JSON.stringify(ofB),
    );
  });

  test("endpoint state: another tenant's endpoint is 401 InvalidAuthenticationTokenTenant and stays as it is", async () => {
    const res = await ctl('POST', '/_amlite/state', b, { id: epA, endpointState: 'Suspended' });
    assert.equal(res.status, 401, describeResponse(res));
    assert.equal(res.body.error.code, WRONG_TENANT);
    assert.equal(
      (await armFetch(server, 'GET', withApiVersion(epA, STABLE), { token: a })).body.properties.endpointState,
      'Online',
    );
    const own = await ctl('POST', '/_amlite/state', a, { id: epA, endpointState: 'Suspended' });
    assert.equal(own.status, 200, describeResponse(own));
    assert.equal((await ctl('POST', '/_amlite/state', a, { id: epA, endpointState: 'Online' })).status, 200);
  });

  test("rules: one tenant's rules are invisible and untouchable to another; a rule must name a subscription", async () => {
    const mine = await ctl('PUT', '/_amlite/rules/rule-a', a, {
      kind: 'fail',
      match: { subscription: subA, method: 'PATCH' },
      error: { code: 'Injected' },
    });
    assert.equal(mine.status, 201, describeResponse(mine));
    const forA = await ctl('POST', '/_amlite/rules', b, {
      kind: 'fail',
      match: { subscription: subA },
      error: { code: 'Injected' },
    });
    assert.equal(forA.body.error?.code, WRONG_TENANT, describeResponse(forA));
    const global = await ctl('POST', '/_amlite/rules', b, { kind: 'fail', error: { code: 'Injected' } });
    assert.equal(global.status, 400, describeResponse(global));
    assert.equal(global.body.error.target, 'match.subscription');
    assert.deepEqual((await ctl('GET', '/_amlite/rules', b)).body.value, []);
    assert.deepEqual(
      (await ctl('GET', '/_amlite/rules', a)).body.value.map((r: { id: string }) => r.id),
      ['rule-a'],
    );
    assert.equal((await ctl('GET', '/_amlite/rules/rule-a', b)).status, 404);
    const takeover = await ctl('PUT', '/_amlite/rules/rule-a', b, { kind: 'delay', match: { subscription: subB } });
    assert.equal(takeover.status, 403, describeResponse(takeover));
    assert.equal((await ctl('DELETE', '/_amlite/rules/rule-a', b)).status, 204);
    assert.equal((await ctl('POST', '/_amlite/reset', b)).body.rulesRemoved, 0);
    const still = await ctl('GET', '/_amlite/rules/rule-a', a);
    assert.equal(still.status, 200, 'neither DELETE nor reset by B removed it');
    assert.equal(still.body.match.subscription, subA);
    assert.equal((await ctl('DELETE', '/_amlite/rules/rule-a', a)).status, 200);
  });

  test('held operations: another tenant can neither release nor reset them; the owner can', async () => {
    assert.equal(
      (
        await ctl('PUT', '/_amlite/rules/hold-a', a, {
          kind: 'delay',
          match: { subscription: subA, resourceType: 'serverlessEndpoints' },
        })
      ).status,
      201,
    );
    const put = await armFetch(server, 'PUT', withApiVersion(endpointPath(subA, 'rg', 'ws-t', 'held'), STABLE), {
      token: a,
      body: endpointBody(),
    });
    assert.equal(put.status, 201, describeResponse(put));
    const held = (await ctl('GET', '/_amlite/operations?status=InProgress', a)).body.value as { id: string }[];
    assert.equal(held.length, 1);
    assert.deepEqual((await ctl('GET', '/_amlite/operations?status=InProgress', b)).body.value, []);
    const release = await ctl('POST', `/_amlite/operations/${held[0].id}/release`, b);
    assert.equal(release.body.error?.code, WRONG_TENANT, describeResponse(release));
    assert.equal((await ctl('POST', '/_amlite/reset', b)).body.operationsReleased, 0);
    assert.equal((await ctl('GET', '/_amlite/operations?status=InProgress', a)).body.value.length, 1, 'still held');
    assert.deepEqual((await ctl('POST', '/_amlite/reset', a)).body, { rulesRemoved: 1, operationsReleased: 1 });
  });
});

describe('GET /_amlite/operations: hostile query parameters are 400, not 5xx', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  test('repeated, fractional, negative, huge and unknown values', async () => {
    for (const query of [
      'status=Failed&status=Succeeded',
      'limit=1&limit=2',
      'limit=1.5',
      'limit=-1',
      'limit=0',
      'limit=1e400',
      'limit=99999999999',
      'limit=abc',
      'limit=1001',
      'status=Bogus',
    ]) {
      const res = await armFetch(server, 'GET', `/_amlite/operations?${query}`);
      assert.equal(res.status, 400, `${query}: ${describeResponse(res)}`);
      assert.equal(res.body.error.code, 'BadRequest', query);
      assert.ok(res.body.error.target === 'status' || res.body.error.target === 'limit', query);
    }
    for (const query of ['limit=1000', 'limit=1', 'status=failed', 'status=InProgress&limit=5', '']) {
      const res = await armFetch(server, 'GET', `/_amlite/operations?${query}`);
      assert.equal(res.status, 200, `${query}: ${describeResponse(res)}`);
    }
  });
});
