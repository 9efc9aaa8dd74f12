// Issue 18 (scale-out on PostgreSQL): fewer round trips and durable writes per request, without giving up what the
// shared store promises. A due operation (the fast profile) is completed by the process that accepted it without
// first writing a lease (one durable commit less per write request), and is still completed exactly once. Concurrent
// reads of the test-control rules share round trips, yet every read sees each rule put before it was asked for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres.js';
import { startPostgres, type RunningPostgres } from './support/postgres.js';
import { describeWithPostgres } from './support/with-postgres.js';
import {
  armFetch,
  createResourceGroup,
  createWorkspace,
  describeResponse,
  endpointBody,
  endpointPath,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';

describeWithPostgres('scale-out on PostgreSQL: round trips per request', () => {
  let postgres: RunningPostgres;
  let url: string;
  before(async () => {
    postgres = await startPostgres();
    url = await postgres.freshDatabase('amlite_scaleout');
  });
  after(async () => postgres?.stop());

  test('a due operation is completed once, by its accepting process, without a lease written first', async () => {
    const server: RunningServer = await startTestServer({ store: url, inMemory: false, profile: 'fast' });
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const sub = randomUUID();
      await createResourceGroup(server, sub, 'rg');
      await createWorkspace(server, sub, 'rg', 'wsx');
      const ep = withApiVersion(endpointPath(sub, 'rg', 'wsx', 'ep'), '2025-09-01');
      const created = await armFetch(server, 'PUT', ep, { body: endpointBody() });
      assert.equal(created.status, 201, describeResponse(created));
      const done = await waitFor(async () => {
        const { rows } = await db.query<{ status: string; owner: string | null; n: string }>(
          `SELECT status, owner, count(*) OVER () AS n FROM operations WHERE doc->>'resourceKey' = $1`,
          [endpointPath(sub, 'rg', 'wsx', 'ep').toLowerCase()],
        );
        return rows[0]?.status === 'Succeeded' ? rows : undefined;
      });
      assert.equal(done.length, 1, 'one operation');
      assert.equal(done[0].owner, null, 'completed without a lease: no claim was written before the completion');
      const got = await armFetch(server, 'GET', ep);
      assert.equal(got.body.properties.provisioningState, 'Succeeded', describeResponse(got));
    } finally {
      await db.end();
      await server.close();
    }
  });

  test('concurrent rule reads share round trips, yet each sees every rule put before it asked', async () => {
    const reader = await PostgresStore.open(url);
    const writer = await PostgresStore.open(url);
    try {
      const reads: Promise<{ expected: string[]; got: Promise<string[]> }>[] = [];
      for (let i = 0; i < 30; i++) {
        const id = `scaleout-${i}`;
        await writer.putRule({
          id,
          createdAt: new Date(2026, 0, 1, 0, 0, i).toISOString(),
          spec: { kind: 'fail' },
          hits: 0,
        });
        // Not awaited: the reads overlap, so most are made while another is on its way.
        const expected = Array.from({ length: i + 1 }, (_, j) => `scaleout-${j}`);
        const got = reader.listRules().then((rules) => rules.map((r) => r.id).filter((x) => x.startsWith('scaleout-')));
        reads.push(Promise.resolve({ expected, got }));
      }
      for (const r of await Promise.all(reads)) {
        const seen = await r.got;
        for (const id of r.expected) assert.ok(seen.includes(id), `${id} was put before the read, so it is seen`);
      }
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
