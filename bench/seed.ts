/**
 * Seeds a store fast for the scale benchmarks: copies of a template resource (one amlite created through its API, so
 * the stored shape is the real one), written through the real Store interface in big transactions (one `commit` per
 * batch) — not through HTTP, which would take minutes for 100,000 resources on two cores.
 * Usage: seed.ts <database file> <template key> <name prefix> <from index> <count>
 * Copy i is named <prefix><i, six digits>, under the template's parent, with its own key, id, route, keys and ETag.
 */
import { randomBytes } from 'node:crypto';
import { SqliteStore } from '../src/store/sqlite.js';
import type { StoredResource, Write } from '../src/store/types.js';
import { keyOf } from '../src/arm/ids.js';
import { newEtag } from '../src/arm/etag.js';

const [database, templateKey, prefix, fromArg, countArg] = process.argv.slice(2);
const from = Number(fromArg),
  count = Number(countArg);
const BATCH = 5000;

const t0 = performance.now();
const store = new SqliteStore(database);
const template = await store.get(templateKey);
if (!template) throw new Error(`seed: no template resource ${templateKey}`);
const parentId = template.id.slice(0, template.id.lastIndexOf('/'));
const hex = (n: number) => randomBytes(n).toString('hex');

function copy(i: number): StoredResource {
  const name = `${prefix}${String(i).padStart(6, '0')}`;
  const id = `${parentId}/${name}`;
  const internal: StoredResource['internal'] = { ...template!.internal };
  delete internal.pendingOperation;
  if (internal.route) internal.route = `${name}-${hex(3)}`;
  if (internal.keys)
    internal.keys = {
      primaryKey: randomBytes(24).toString('base64url'),
      secondaryKey: randomBytes(24).toString('base64url'),
    };
  return { ...template!, key: keyOf(id), id, name, internal, etag: newEtag() };
}

for (let start = from; start < from + count; start += BATCH) {
  const writes: Write[] = [];
  for (let i = start; i < Math.min(start + BATCH, from + count); i++) writes.push({ op: 'insert', resource: copy(i) });
  if (!(await store.commit(writes))) throw new Error(`seed: a batch from ${start} did not commit (names taken?)`);
}
await store.close();
process.stdout.write(`seeded ${count} in ${Math.round(performance.now() - t0)} ms\n`);
