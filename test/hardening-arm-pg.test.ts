// Issue 12 item 5: a child PUT racing its parent's DELETE through two amlite processes on one PostgreSQL database
// never leaves a live child under a deleted parent. Many rounds; after each, the parent and everything below it are
// gone, and the database holds no resource whose parent row is missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  armFetch,
  createResourceGroup,
  describeResponse,
  endpointBody,
  endpointPath,
  pollUntil,
  withApiVersion,
  workspacePath,
  type FetchResult,
} from './support/harness.js';
import type { CliServer } from './support/cli.js';
import { cliOnPostgres, type CliOnPostgres } from './support/cli-postgres.js';
import { describeWithPostgres } from './support/with-postgres.js';

const STABLE = '2025-09-01';
const ROUNDS = 150;
/** Rounds run this many at a time, so the two processes' requests really overlap. */
const PARALLEL = 10;
const WS_BODY = { location: 'eastus', properties: {} };

describeWithPostgres('a child PUT racing its parent DELETE across two processes on PostgreSQL', () => {
  let cluster: CliOnPostgres;
  let a: CliServer;
  let b: CliServer;
  const sub = randomUUID();

  before(async () => {
    cluster = await cliOnPostgres('amlite_orphans');
    [a, b] = await Promise.all([cluster.start(['--profile', 'fast']), cluster.start(['--profile', 'fast'])]);
    await createResourceGroup(a, sub, 'rg');
  });

  after(() => cluster?.stop());

  /** Resources (below a subscription, resource groups aside) whose parent row does not exist. */
  async function orphans(): Promise<string[]> {
    const client = new pg.Client({ connectionString: cluster.database });
    await client.connect();
    try {
      const res = await client.query<{ key: string }>(`
        SELECT r.key FROM resources r
        WHERE r.key LIKE '/subscriptions/%' AND r.type <> 'microsoft.resources/resourcegroups'
          AND NOT EXISTS (SELECT 1 FROM resources p WHERE p.key = r.parent_key)`);
      return res.rows.map((r) => r.key);
    } finally {
      await client.end();
    }
  }

  async function round(i: number): Promise<FetchResult[]> {
    const ws = workspacePath(sub, 'rg', `ws-race-${i}`);
    const created = await armFetch(a, 'PUT', withApiVersion(ws, STABLE), { body: WS_BODY });
    assert.equal(created.status, 200, describeResponse(created)); // a workspace create (no 201 in its swagger)
    const children = [
      [b, 'ep-b'],
      [a, 'ep-a'],
      [b, 'ep-b2'],
    ] as const;
    const ep = (name: string) => withApiVersion(endpointPath(sub, 'rg', `ws-race-${i}`, name), STABLE);
    const [del, ...puts] = await Promise.all([
      armFetch(a, 'DELETE', withApiVersion(ws, STABLE)),
      ...children.map(([server, name]) => armFetch(server, 'PUT', ep(name), { body: endpointBody() })),
    ]);
    assert.equal(del.status, 202, `round ${i} delete: ${describeResponse(del)}`);
    for (const put of puts) {
      assert.ok([201, 404, 409].includes(put.status), `round ${i} child: ${describeResponse(put)}`);
    }
    await pollUntil(
      `round ${i}: the workspace to be deleted`,
      async () => (await armFetch(b, 'GET', withApiVersion(ws, STABLE))).status === 404 || undefined,
      15_000,
    );
    for (const [, name] of children) {
      for (const server of [a, b]) {
        const get = await armFetch(server, 'GET', ep(name));
        assert.equal(get.status, 404, `round ${i}: ${name} outlived its workspace: ${describeResponse(get)}`);
      }
    }
    return puts;
  }

  test(`${ROUNDS} rounds: zero orphans`, async () => {
    const statuses: Record<number, number> = {};
    for (let first = 0; first < ROUNDS; first += PARALLEL) {
      const batch = Array.from({ length: Math.min(PARALLEL, ROUNDS - first) }, (_, k) => round(first + k));
      for (const puts of await Promise.all(batch)) {
        for (const p of puts) statuses[p.status] = (statuses[p.status] ?? 0) + 1;
      }
    }
    assert.deepEqual(await orphans(), [], `child PUT outcomes: ${JSON.stringify(statuses)}`);
    // The resource group is still a parent anyone can write under.
    const wsAfter = withApiVersion(workspacePath(sub, 'rg', 'ws-after'), STABLE);
    const later = await armFetch(b, 'PUT', wsAfter, { body: WS_BODY });
    assert.equal(later.status, 200, describeResponse(later));
  });
});
