// Another process writing to an amlite SQLite file while a server has it open: sets a resource's tags, keeping its
// ETag when asked (a write the ETag alone would not reveal). Usage: read-caches-writer.ts <db> <key> <tag> [keep]
import { SqliteStore } from '../../src/store/sqlite.js';
import { newEtag } from '../../src/arm/etag.js';

const [file, key, tag, keep] = process.argv.slice(2);
const store = new SqliteStore(file);
const r = await store.get(key);
if (!r) throw new Error(`no resource ${key}`);
const next = { ...r, body: { ...r.body, tags: { written: tag } }, etag: keep === 'keep' ? r.etag : newEtag() };
if (!(await store.commit([{ op: 'update', resource: next, ifEtag: r.etag }]))) throw new Error('the write lost');
await store.close();
