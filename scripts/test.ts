/**
 * `npm test`: makes (once) the certificate the test servers serve, trusts it through NODE_EXTRA_CA_CERTS (Node reads
 * that only at start, hence this wrapper), and runs every test file with Node's own test runner.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadOrCreateCertificate } from '../src/tls.js';
import { ensureDashboardBundle } from './build-dashboard.js';

const root = resolve(import.meta.dirname, '..');
const certDir = join(root, '.amlite-test');
const tls = await loadOrCreateCertificate(certDir);
// The dashboard's browser test loads the page's bundle: build it when missing or older than its source.
await ensureDashboardBundle();
const only = process.argv.slice(2);
const files = only.length ? only : readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', f));

const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, AMLITE_TEST_CERT_DIR: certDir, NODE_EXTRA_CA_CERTS: tls.certPath },
});
process.exit(run.status ?? 1);
