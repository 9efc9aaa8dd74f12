// Crash safety: a mixed load of creates, replaces, updates, deletes and key rotations, the process SIGKILLed at a
// random (seeded) moment, restarted on the same data dir, several rounds. After every restart: each acknowledged
// write is there as acknowledged, every operation is terminal, nothing stays Creating/Updating/Deleting, and the
// SQLite file passes PRAGMA integrity_check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  armFetch,
  createResourceGroup,
  describeResponse,
  endpointBody,
  endpointPath,
  freshDataDir,
  pollUntil,
  sleep,
  withApiVersion,
  workspacePath,
  TERMINAL_STATES,
  type FetchResult,
} from './support/harness.js';
import { startCli, stopCli, type CliServer } from './support/cli.js';

const SEED = Number(process.env.AMLITE_CRASH_SEED ?? 424242);
const ROUNDS = Number(process.env.AMLITE_CRASH_ROUNDS ?? 4);
const WORKERS = 6;
const NAMES_PER_WORKER = 4;
const STABLE = '2025-09-01';
const SUB = '0c4a5b1e-0000-4000-8000-00000000c4a5';
const RG = 'rg-crash';
const WS = 'ws-crash';

/** mulberry32: small, seedable, good enough to pick operations and moments. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a name may hold: exists, its tag `v`, its primary key (undefined: not known to the test). */
interface State {
  exists: boolean;
  tag?: string;
  key?: string;
}

type Op =
  | { kind: 'put'; tag: string }
  | { kind: 'patch'; tag: string }
  | { kind: 'delete' }
  | { kind: 'regen'; key: string }
  | { kind: 'get' };

/** The state after `op` succeeded on `s`; undefined when it cannot succeed there. */
function after(op: Op, s: State): State | undefined {
  switch (op.kind) {
    case 'put':
      return { exists: true, tag: op.tag, key: s.exists ? s.key : undefined };
    case 'patch':
      return s.exists ? { ...s, tag: op.tag } : undefined;
    case 'delete':
      return { exists: false };
    case 'regen':
      return s.exists ? { ...s, key: op.key } : undefined;
    case 'get':
      return s;
  }
}

const same = (a: State, b: State) => a.exists === b.exists && a.tag === b.tag && a.key === b.key;
const dedupe = (xs: State[]) => xs.filter((x, i) => xs.findIndex((y) => same(x, y)) === i);
const show = (xs: State[]) =>
  xs.map((s) => (s.exists ? `{tag ${s.tag}, key ${s.key?.slice(0, 6) ?? '?'}}` : '{absent}')).join(' | ');

/** Every name's possible states; a name has one unless a request on it went unanswered when the process died. */
class Model {
  readonly names = new Map<string, State[]>();
  readonly violations: string[] = [];
  /** Status URLs of acknowledged operations, to check they end. */
  readonly operations = new Set<string>();

  states(name: string): State[] {
    return this.names.get(name) ?? [{ exists: false }];
  }

  /** A request that got no answer: it may or may not have happened. */
  unknown(name: string, op: Op): void {
    const now = this.states(name);
    this.names.set(name, dedupe([...now, ...now.map((s) => after(op, s)).filter((s): s is State => !!s)]));
  }

  /** An answer: keeps the states it is consistent with, then applies the operation when it succeeded. */
  answered(name: string, op: Op, res: FetchResult): void {
    const now = this.states(name);
    const keep = (pred: (s: State) => boolean, why: string): State[] => {
      const kept = now.filter(pred);
      if (!kept.length)
        this.violations.push(
          `${name}: ${op.kind} answered ${res.status} (${why}), but the acknowledged state is ${show(now)}; ${describeResponse(res).slice(0, 300)}`,
        );
      return kept.length ? kept : now;
    };
    for (const h of ['azure-asyncoperation', 'location']) {
      const url = res.headers.get(h);
      if (url && res.status < 300)
        this.operations.add(
          new URL(url.replace('/mfeOperationResults/', '/mfeOperationsStatus/')).pathname + new URL(url).search,
        );
    }
    const s = res.status;
    const apply = (xs: State[]) => dedupe(xs.map((x) => after(op, x)).filter((x): x is State => !!x));
    if (s === 409 && res.body?.error?.code === 'AnotherOperationInProgress') return; // refused: nothing changed
    if (s >= 500 || ![200, 201, 202, 204, 404, 409].includes(s)) {
      this.violations.push(`${name}: ${op.kind} got ${describeResponse(res).slice(0, 300)}`);
      return;
    }
    switch (op.kind) {
      case 'put':
        if (s === 201) this.names.set(name, apply(keep((x) => !x.exists, 'created')));
        else if (s === 200) this.names.set(name, apply(keep((x) => x.exists, 'replaced')));
        else this.violations.push(`${name}: put got ${s}`);
        return;
      case 'patch':
      case 'regen':
        if (s === 404)
          this.names.set(
            name,
            keep((x) => !x.exists, 'absent'),
          );
        else if (s === 200 || s === 202) {
          if (op.kind === 'regen' && res.body?.primaryKey !== op.key)
            this.violations.push(`${name}: regenerateKeys answered another key`);
          this.names.set(name, apply(keep((x) => x.exists, 'exists')));
        } else this.violations.push(`${name}: ${op.kind} got ${s}`);
        return;
      case 'delete':
        if (s === 202) {
          keep((x) => x.exists, 'deleting');
          this.names.set(name, [{ exists: false }]);
        } else if (s === 204) this.names.set(name, apply(keep((x) => !x.exists, 'already absent')));
        else this.violations.push(`${name}: delete got ${s}`);
        return;
      case 'get': {
        if (s === 404)
          this.names.set(
            name,
            keep((x) => !x.exists, 'absent'),
          );
        else if (s === 200 && TERMINAL_STATES.includes(res.body?.properties?.provisioningState)) {
          const tag = res.body?.tags?.v;
          this.names.set(
            name,
            keep((x) => x.exists && x.tag === tag, `shows tag ${tag}`),
          );
        }
        return;
      }
    }
  }

  /** After a restart: every name as the server now has it, checked against what was acknowledged. */
  async verify(server: { url: string }, names: string[]): Promise<void> {
    for (const name of names) {
      const path = endpointPath(SUB, RG, WS, name);
      const res = await armFetch(server, 'GET', withApiVersion(path, STABLE));
      const now = this.states(name);
      if (res.status === 404) {
        if (!now.some((s) => !s.exists))
          this.violations.push(`${name}: lost after the restart; acknowledged ${show(now)}`);
        this.names.set(name, [{ exists: false }]);
        continue;
      }
      if (res.status !== 200) {
        this.violations.push(`${name}: GET after the restart: ${describeResponse(res).slice(0, 300)}`);
        continue;
      }
      const state = res.body.properties?.provisioningState;
      if (state !== 'Succeeded') this.violations.push(`${name}: ${state} after the restart (stuck)`);
      const keys = await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, STABLE));
      const actual: State = { exists: true, tag: res.body.tags?.v, key: keys.body?.primaryKey };
      const matching = now.filter(
        (s) => s.exists && s.tag === actual.tag && (s.key === undefined || s.key === actual.key),
      );
      if (!matching.length)
        this.violations.push(`${name}: after the restart ${show([actual])}; acknowledged ${show(now)}`);
      this.names.set(name, [actual]);
    }
    for (const path of this.operations) {
      const res = await armFetch(server, 'GET', path);
      if (res.status !== 200 || !TERMINAL_STATES.includes(res.body?.status))
        this.violations.push(`operation ${path}: ${describeResponse(res).slice(0, 300)}`);
    }
    this.operations.clear();
  }
}

/** One worker: its own names, one request at a time, until the server goes away. */
async function worker(
  server: { url: string },
  model: Model,
  names: string[],
  rand: () => number,
  stopped: () => boolean,
  counts: Record<string, number>,
): Promise<void> {
  let n = 0;
  while (!stopped()) {
    const name = names[Math.floor(rand() * names.length)];
    const likely = model.states(name).at(-1)!;
    const tag = `${name}-${Date.now().toString(36)}-${n++}`;
    const pick = rand();
    const op: Op = !likely.exists
      ? pick < 0.85
        ? { kind: 'put', tag }
        : { kind: 'get' }
      : pick < 0.25
        ? { kind: 'put', tag }
        : pick < 0.55
          ? { kind: 'patch', tag }
          : pick < 0.75
            ? { kind: 'regen', key: `key-${tag}` }
            : pick < 0.9
              ? { kind: 'delete' }
              : { kind: 'get' };
    const path = endpointPath(SUB, RG, WS, name);
    try {
      const res =
        op.kind === 'put'
          ? await armFetch(server, 'PUT', withApiVersion(path, STABLE), {
              body: { ...endpointBody(), tags: { v: op.tag } },
            })
          : op.kind === 'patch'
            ? await armFetch(server, 'PATCH', withApiVersion(path, STABLE), { body: { tags: { v: op.tag } } })
            : op.kind === 'delete'
              ? await armFetch(server, 'DELETE', withApiVersion(path, STABLE))
              : op.kind === 'regen'
                ? await armFetch(server, 'POST', withApiVersion(`${path}/regenerateKeys`, STABLE), {
                    body: { keyType: 'Primary', keyValue: op.key },
                  })
                : await armFetch(server, 'GET', withApiVersion(path, STABLE));
      counts[`${op.kind} ${res.status}`] = (counts[`${op.kind} ${res.status}`] ?? 0) + 1;
      model.answered(name, op, res);
    } catch (e) {
      // Connection refused: the request never reached a server. Anything else: it may have been applied.
      const refused = (e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
      if (!refused) model.unknown(name, op);
      counts[refused ? `${op.kind} refused` : `${op.kind} no answer`] =
        (counts[refused ? `${op.kind} refused` : `${op.kind} no answer`] ?? 0) + 1;
      return;
    }
  }
}

/** PRAGMA integrity_check on the store, and what is left in progress in it (any table, any text column). */
function inspectStore(file: string): { integrity: string; inProgress: string[] } {
  const db = new Database(file);
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
    const inProgress: string[] = [];
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        for (const v of Object.values(row)) {
          if (
            typeof v === 'string' &&
            /"provisioningState":"(Creating|Updating|Deleting)"|"status":"InProgress"/.test(v)
          )
            inProgress.push(`${name}: ${v.slice(0, 200)}`);
        }
      }
    }
    return { integrity, inProgress };
  } finally {
    db.close();
  }
}

test(
  `crash safety: ${ROUNDS} rounds of load and SIGKILL at random moments (seed ${SEED})`,
  { timeout: 120_000 },
  async (t) => {
    const rand = prng(SEED);
    const dataDir = freshDataDir('amlite-crash-');
    const dbFile = join(dataDir, 'amlite.db');
    const start = (profile: 'fast' | 'realistic') =>
      startCli(['--data-dir', dataDir, '--profile', profile, '--log-level', 'warn']);
    const model = new Model();
    const names = Array.from({ length: WORKERS * NAMES_PER_WORKER }, (_, i) => `ep-crash-${i}`);

    let server: CliServer = await start('fast');
    try {
      await createResourceGroup(server, SUB, RG);
      const ws = await armFetch(server, 'PUT', withApiVersion(workspacePath(SUB, RG, WS), STABLE), {
        body: { location: 'eastus', properties: {} },
      });
      assert.ok([200, 201].includes(ws.status), describeResponse(ws));

      for (let round = 0; round < ROUNDS; round++) {
        // Odd rounds run the realistic profile: every operation accepted in them is still running at the kill.
        const profile = round % 2 === 1 ? 'realistic' : 'fast';
        if (profile === 'realistic') {
          await stopCli(server, 'SIGTERM');
          server = await start('realistic');
        }
        const killAfter = 500 + Math.floor(rand() * 1500);
        let killed = false;
        const counts: Record<string, number> = {};
        const load = Array.from({ length: WORKERS }, (_, w) =>
          worker(
            server,
            model,
            names.slice(w * NAMES_PER_WORKER, (w + 1) * NAMES_PER_WORKER),
            prng(SEED * 31 + round * 7 + w),
            () => killed,
            counts,
          ),
        );
        await sleep(killAfter);
        const victim = server;
        const exit = await stopCli(victim, 'SIGKILL');
        killed = true;
        assert.equal(exit.signal, 'SIGKILL');
        await Promise.all(load);
        const afterKill = inspectStore(dbFile);
        assert.equal(afterKill.integrity, 'ok', `round ${round}: integrity_check after SIGKILL`);

        server = await start('fast');
        await pollUntil(
          'the operations resumed after the restart to finish',
          async () => {
            const list = await armFetch(
              server,
              'GET',
              withApiVersion(`${workspacePath(SUB, RG, WS)}/serverlessEndpoints`, STABLE),
            );
            assert.equal(list.status, 200, describeResponse(list));
            return list.body.value.every((ep: { properties: { provisioningState: string } }) =>
              TERMINAL_STATES.includes(ep.properties.provisioningState),
            )
              ? true
              : undefined;
          },
          15_000,
        );
        await model.verify(server, names);
        const acked = Object.entries(counts)
          .filter(([k]) => /\s2\d\d$/.test(k))
          .reduce((n, [, v]) => n + v, 0);
        t.diagnostic(
          `round ${round} (${profile}): killed after ${killAfter} ms, ${acked} writes and reads acknowledged; ${JSON.stringify(counts)}`,
        );
        assert.ok(acked > 0, `round ${round}: the load made progress before the kill`);
        assert.deepEqual(model.violations, [], `round ${round}: what was acknowledged survived`);
      }

      const list = await armFetch(
        server,
        'GET',
        withApiVersion(`${workspacePath(SUB, RG, WS)}/serverlessEndpoints`, STABLE),
      );
      for (const ep of list.body.value)
        assert.equal(ep.properties.provisioningState, 'Succeeded', `${ep.name} is not left in progress`);
      const exit = await stopCli(server, 'SIGTERM');
      assert.equal(exit.code, 0, server.output().slice(-2000));
      const final = inspectStore(dbFile);
      assert.equal(final.integrity, 'ok');
      assert.deepEqual(final.inProgress, [], 'no resource or operation left in progress in the store');
    } finally {
      if (server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL');
    }
  },
);
