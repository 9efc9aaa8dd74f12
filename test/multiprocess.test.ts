// Several amlite processes (the real CLI) on one PostgreSQL database: they serve the same resources, operations
// and keys; conditional writes racing through two processes have one winner; a process killed mid-operation has
// its operation finished by another once the lease lapses, and one stopped with SIGTERM hands over at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  armFetch,
  createResourceGroup,
  describeResponse,
  endpointBody,
  endpointPath,
  pollUntil,
  rgPath,
  withApiVersion,
  workspacePath,
} from './support/harness.js';
import { PROVISIONER_DEFAULTS } from '../src/provisioner/provisioner.js';
import { stopCli, type CliServer as Cli } from './support/cli.js';
import { cliOnPostgres, type CliOnPostgres } from './support/cli-postgres.js';
import { describeWithPostgres } from './support/with-postgres.js';

const STABLE = '2025-09-01';
const RG_VERSION = '2025-04-01';
const TERMINAL = ['Succeeded', 'Failed', 'Canceled'];

/** A CLI process with the name the tests know it by. */
interface CliServer extends Cli {
  name: string;
}

async function start(name: string, cluster: CliOnPostgres, profile: 'fast' | 'realistic'): Promise<CliServer> {
  const server = await cluster.start(['--profile', profile]).catch((e: Error) => {
    throw new Error(`${name}: ${e.message}`);
  });
  return { ...server, name };
}

/** The same path on another process (a status URL carries the origin of the process that answered). */
const on = (server: CliServer, url: string) => {
  const u = new URL(url);
  return `${server.url}${u.pathname}${u.search}`;
};

async function operationStatus(server: CliServer, statusUrl: string): Promise<string> {
  const res = await armFetch(server, 'GET', on(server, statusUrl));
  assert.equal(res.status, 200, `${server.name}: ${describeResponse(res)}`);
  return res.body.status;
}

describeWithPostgres('several amlite processes on one PostgreSQL database', () => {
  let cluster: CliOnPostgres;
  /** The victim: realistic profile, so its operations are still running when it is killed. */
  let a: CliServer;
  /** The survivor: fast profile, so what it takes over finishes at once. */
  let b: CliServer;
  const sub = randomUUID();

  before(async () => {
    cluster = await cliOnPostgres('amlite_multiprocess');
    [a, b] = await Promise.all([start('a', cluster, 'realistic'), start('b', cluster, 'fast')]);
  });

  after(() => cluster?.stop());

  test('the banner names the shared store without its password', () => {
    assert.match(b.output(), /store: postgres:\/\/postgres@127\.0\.0\.1:\d+\/amlite_multiprocess_\w+ \(shared/);
  });

  test('what one process writes, the other serves: resources, lists, ETags, keys, the data plane', async () => {
    await createResourceGroup(a, sub, 'rg');
    const ws = await armFetch(b, 'PUT', withApiVersion(workspacePath(sub, 'rg', 'ws-shared'), STABLE), {
      body: { location: 'eastus', properties: {} },
    });
    assert.equal(ws.status, 200, describeResponse(ws)); // a workspace create: 200, no 201 in its swagger
    const fromA = await armFetch(a, 'GET', withApiVersion(workspacePath(sub, 'rg', 'ws-shared'), STABLE));
    assert.equal(fromA.status, 200, describeResponse(fromA));
    assert.equal(fromA.headers.get('etag'), ws.headers.get('etag'));

    // Accepted by b (fast), settled on read by a: the operation is due, so a completes it.
    const ep = endpointPath(sub, 'rg', 'ws-shared', 'shared-ep');
    const created = await armFetch(b, 'PUT', withApiVersion(ep, STABLE), { body: endpointBody() });
    assert.equal(created.status, 201, describeResponse(created));
    assert.equal(await operationStatus(a, created.headers.get('azure-asyncoperation')!), 'Succeeded');
    const onA = await armFetch(a, 'GET', withApiVersion(ep, STABLE));
    assert.equal(onA.body.properties.provisioningState, 'Succeeded', describeResponse(onA));

    const listA = await armFetch(
      a,
      'GET',
      withApiVersion(`${workspacePath(sub, 'rg', 'ws-shared')}/serverlessEndpoints`, STABLE),
    );
    const listB = await armFetch(
      b,
      'GET',
      withApiVersion(`${workspacePath(sub, 'rg', 'ws-shared')}/serverlessEndpoints`, STABLE),
    );
    assert.deepEqual(
      listA.body.value.map((e: { name: string }) => e.name),
      ['shared-ep'],
    );
    // The same documents; only the data-plane URI names the host that was called.
    const sameHost = (res: { text: string }) =>
      JSON.parse(res.text.replaceAll(a.url, 'https://host').replaceAll(b.url, 'https://host'));
    assert.deepEqual(sameHost(listB), sameHost(listA));

    // Keys live in the store: listed on a, used on b; regenerated on b, the old one refused on a at once.
    const keys = await armFetch(a, 'POST', withApiVersion(`${ep}/listKeys`, STABLE));
    assert.equal(keys.status, 200, describeResponse(keys));
    const route = new URL(onA.body.properties.inferenceEndpoint.uri).pathname;
    const chat = (server: CliServer, key: string) =>
      armFetch(server, 'POST', `${route}/chat/completions`, {
        token: null,
        headers: { 'api-key': key },
        body: { messages: [{ role: 'user', content: 'Hi' }] },
      });
    assert.equal((await chat(b, keys.body.primaryKey)).status, 200);
    const regenerated = await armFetch(b, 'POST', withApiVersion(`${ep}/regenerateKeys`, STABLE), {
      body: { keyType: 'Primary' },
    });
    assert.equal(regenerated.status, 200, describeResponse(regenerated));
    assert.equal((await chat(a, keys.body.primaryKey)).status, 401);
    assert.equal((await chat(a, regenerated.body.primaryKey)).status, 200);
  });

  test('If-Match through two processes at once: one write wins, the other gets 412', async () => {
    const path = withApiVersion(rgPath(sub, 'rg-etag'), RG_VERSION);
    await createResourceGroup(b, sub, 'rg-etag');
    for (let round = 0; round < 8; round++) {
      const etag = (await armFetch(a, 'GET', path)).headers.get('etag')!;
      const [ra, rb] = await Promise.all(
        [a, b].map((server) =>
          armFetch(server, 'PUT', path, {
            headers: { 'if-match': etag },
            body: { location: 'eastus', tags: { writer: server.name, round: String(round) } },
          }),
        ),
      );
      assert.deepEqual(
        [ra.status, rb.status].sort(),
        [200, 412],
        `round ${round}: a ${describeResponse(ra)}; b ${describeResponse(rb)}`,
      );
      const winner = ra.status === 200 ? 'a' : 'b';
      const now = await armFetch(b, 'GET', path);
      assert.equal(now.body.tags.writer, winner);
      assert.equal(now.headers.get('etag'), (winner === 'a' ? ra : rb).headers.get('etag'));
    }
  });

  test('creating one name through two processes at once makes one resource', async () => {
    for (let round = 0; round < 6; round++) {
      // If-None-Match: * — exactly one 201, the other 412.
      const guarded = withApiVersion(rgPath(sub, `rg-once-${round}`), RG_VERSION);
      const [ga, gb] = await Promise.all(
        [a, b].map((server) =>
          armFetch(server, 'PUT', guarded, {
            headers: { 'if-none-match': '*' },
            body: { location: 'eastus', tags: { by: server.name } },
          }),
        ),
      );
      assert.deepEqual(
        [ga.status, gb.status].sort(),
        [201, 412],
        `round ${round}: ${describeResponse(ga)}; ${describeResponse(gb)}`,
      );
      // Unconditional: one creates, the other replaces what it finds. A workspace answers 200 to both (its
      // swagger has no 201), so the one create shows as one systemData.createdAt.
      const plain = withApiVersion(workspacePath(sub, 'rg', `ws-race-${round}`), STABLE);
      const [pa, pb] = await Promise.all(
        [a, b].map((server) => armFetch(server, 'PUT', plain, { body: { location: 'eastus', properties: {} } })),
      );
      const both = `round ${round}: ${describeResponse(pa)}; ${describeResponse(pb)}`;
      assert.deepEqual([pa.status, pb.status], [200, 200], both);
      assert.equal(pa.body.systemData.createdAt, pb.body.systemData.createdAt, both);
    }
    const list = await armFetch(
      a,
      'GET',
      withApiVersion(
        `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces`,
        STABLE,
      ),
    );
    const races = list.body.value.map((w: { name: string }) => w.name).filter((n: string) => n.startsWith('ws-race-'));
    assert.deepEqual(races.sort(), Array.from({ length: 6 }, (_, i) => `ws-race-${i}`).sort());
  });

  test('a process killed mid-operation: another finishes the operation once the lease lapses', async (t) => {
    const ep = endpointPath(sub, 'rg', 'ws-shared', 'orphan');
    const created = await armFetch(a, 'PUT', withApiVersion(ep, STABLE), { body: endpointBody() });
    assert.equal(created.status, 201, describeResponse(created));
    assert.equal(created.body.properties.provisioningState, 'Creating');
    const statusUrl = created.headers.get('azure-asyncoperation')!;
    // Running (20 s in the realistic profile), and visible as such through b.
    assert.equal(await operationStatus(b, statusUrl), 'InProgress');
    const onB = await armFetch(b, 'GET', withApiVersion(ep, STABLE));
    assert.equal(onB.body.properties.provisioningState, 'Creating', describeResponse(onB));

    const killed = await stopCli(a, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const t0 = Date.now();
    const status = await pollUntil(
      'b to take over and finish the operation',
      async () => {
        const s = await operationStatus(b, statusUrl);
        return TERMINAL.includes(s) ? s : undefined;
      },
      PROVISIONER_DEFAULTS.leaseMs + 15_000,
      100,
    );
    assert.equal(status, 'Succeeded', `after ${Date.now() - t0} ms`);
    t.diagnostic(
      `taken over and finished ${Date.now() - t0} ms after SIGKILL (lease ${PROVISIONER_DEFAULTS.leaseMs} ms)`,
    );
    const done = await armFetch(b, 'GET', withApiVersion(ep, STABLE));
    assert.equal(done.status, 200, describeResponse(done));
    assert.equal(done.body.properties.provisioningState, 'Succeeded');
    assert.equal(done.body.properties.endpointState, 'Online');
    // b serves it on the data plane too.
    const keys = await armFetch(b, 'POST', withApiVersion(`${ep}/listKeys`, STABLE));
    const route = new URL(done.body.properties.inferenceEndpoint.uri).pathname;
    const chat = await armFetch(b, 'POST', `${route}/chat/completions`, {
      token: null,
      headers: { 'api-key': keys.body.primaryKey },
      body: { messages: [{ role: 'user', content: 'Hi' }] },
    });
    assert.equal(chat.status, 200, describeResponse(chat));
  });

  // After the kill, so that b is the only process left to take over (a live realistic process could take it too,
  // and finish it at its own, slower pace).
  test("SIGTERM hands a process's running operations over at once (its leases are released)", async (t) => {
    const c = await start('c', cluster, 'realistic');
    const ep = endpointPath(sub, 'rg', 'ws-shared', 'handed-over');
    const created = await armFetch(c, 'PUT', withApiVersion(ep, STABLE), { body: endpointBody() });
    assert.equal(created.status, 201, describeResponse(created));
    const statusUrl = created.headers.get('azure-asyncoperation')!;
    assert.equal(await operationStatus(b, statusUrl), 'InProgress');
    const t0 = Date.now();
    const exit = await stopCli(c, 'SIGTERM');
    assert.equal(exit.code, 0, c.output());
    await pollUntil(
      'b to finish what c handed over',
      async () => (await operationStatus(b, statusUrl)) === 'Succeeded' || undefined,
      20_000,
    );
    const waited = Date.now() - t0;
    assert.ok(
      waited < PROVISIONER_DEFAULTS.leaseMs,
      `taken over after ${waited} ms, sooner than a lease (${PROVISIONER_DEFAULTS.leaseMs} ms)`,
    );
    t.diagnostic(`handed over and finished ${waited} ms after SIGTERM`);
  });

  test('the survivor still stops cleanly', async () => {
    const exit = await stopCli(b, 'SIGTERM');
    assert.equal(exit.code, 0, b.output());
  });
});
