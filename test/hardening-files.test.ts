// What amlite keeps on disk (issue 12, item 19): the database (every endpoint key, and its -wal/-shm files), the
// private keys and the data dir it creates are the user's alone; older data dirs are tightened on start; the
// generated TLS certificate is a leaf (cA:false, serverAuth), and one an older amlite generated as a CA is replaced.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { armFetch, describeResponse, freshDataDir, rgPath, withApiVersion, RG_API_VERSION } from './support/harness.js';
import { startAmlite } from '../src/server.js';
import { loadOrCreateCertificate } from '../src/tls.js';

const dirs: string[] = [];
const scratch = (prefix: string) => {
  const dir = freshDataDir(prefix);
  dirs.push(dir);
  return dir;
};
const modeOf = (path: string) => statSync(path).mode & 0o777;

/** The keyUsage bits of a certificate (RFC 5280 order: digitalSignature, nonRepudiation, keyEncipherment, …, keyCertSign). */
function keyUsageBits(x: X509Certificate): Set<string> {
  const names = [
    'digitalSignature',
    'nonRepudiation',
    'keyEncipherment',
    'dataEncipherment',
    'keyAgreement',
    'keyCertSign',
    'cRLSign',
  ];
  const der = x.raw;
  const oid = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]); // id-ce-keyUsage
  let at = der.indexOf(oid);
  assert.ok(at >= 0, 'the certificate has a keyUsage extension');
  at += oid.length;
  if (der[at] === 0x01) at += 3; // critical BOOLEAN
  assert.equal(der[at], 0x04, 'OCTET STRING');
  assert.equal(der[at + 2], 0x03, 'BIT STRING');
  const bytes = der.subarray(at + 5, at + 2 + 2 + der[at + 3]);
  const set = new Set<string>();
  names.forEach((name, i) => {
    if (bytes[i >> 3] & (0x80 >> (i & 7))) set.add(name);
  });
  return set;
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('file modes', () => {
  test('a new data dir is 0700; amlite.db and its -wal/-shm files, the TLS key and the issuer key are 0600', async () => {
    const dataDir = join(scratch('amlite-modes-'), 'nested', 'data');
    const server = await startAmlite({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      auth: 'strict',
      http: true,
    });
    try {
      // A write, so the WAL and its index exist.
      const res = await armFetch(
        server,
        'PUT',
        withApiVersion(rgPath('6c0f0000-0000-4000-8000-000000000001', 'rg'), RG_API_VERSION),
        { token: null, body: { location: 'eastus' } },
      );
      assert.equal(res.status, 401, describeResponse(res));
      assert.equal(modeOf(dataDir), 0o700, 'data dir');
      for (const f of ['amlite.db', 'amlite.db-wal', 'amlite.db-shm', 'issuer-key.pem']) {
        assert.ok(existsSync(join(dataDir, f)), f);
        assert.equal(modeOf(join(dataDir, f)), 0o600, f);
      }
    } finally {
      await server.close();
    }
    const tls = await loadOrCreateCertificate(dataDir);
    assert.equal(modeOf(join(dataDir, 'key.pem')), 0o600, 'key.pem');
    assert.equal(modeOf(tls.certPath), 0o644, 'the certificate is public');
  });

  test('an older data dir: secret files readable by others are made 0600 on start; the dir keeps its mode', async () => {
    const dataDir = scratch('amlite-modes-old-');
    chmodSync(dataDir, 0o755);
    const old = ['key.pem', 'issuer-key.pem', 'tenants.json'];
    for (const f of old) writeFileSync(join(dataDir, f), f === 'tenants.json' ? '{}' : 'x', { mode: 0o644 });
    writeFileSync(join(dataDir, 'amlite.db'), '', { mode: 0o644 });
    const server = await startAmlite({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', http: true });
    try {
      for (const f of [...old, 'amlite.db']) assert.equal(modeOf(join(dataDir, f)), 0o600, f);
      assert.equal(modeOf(dataDir), 0o755, "an existing data dir is the user's choice");
    } finally {
      await server.close();
    }
  });
});

describe('the generated certificate', () => {
  test('is a leaf for 127.0.0.1 and localhost: cA:false, digitalSignature + keyEncipherment, serverAuth', async () => {
    const tls = await loadOrCreateCertificate(scratch('amlite-cert-'));
    const x = new X509Certificate(tls.cert);
    assert.equal(x.ca, false);
    assert.deepEqual([...keyUsageBits(x)].sort(), ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extKeyUsage: serverAuth only');
    assert.ok(x.checkIP('127.0.0.1'), 'SAN IP:127.0.0.1');
    assert.ok(x.checkHost('localhost'), 'SAN DNS:localhost');
    assert.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(tls.key)));
  });

  test('a CA certificate an older amlite generated is replaced by a leaf; a certificate the user put there is kept', async () => {
    const make = async (cn: string) =>
      selfsigned.generate([{ name: 'commonName', value: cn }], {
        keySize: 2048,
        algorithm: 'sha256',
        notAfterDate: new Date(Date.now() + 100 * 864e5),
        extensions: [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        ],
      });
    const oldDir = scratch('amlite-cert-old-');
    const old = await make('amlite');
    writeFileSync(join(oldDir, 'cert.pem'), old.cert);
    writeFileSync(join(oldDir, 'key.pem'), old.private, { mode: 0o600 });
    const replaced = await loadOrCreateCertificate(oldDir);
    assert.equal(replaced.replacedCa, true);
    assert.equal(
      new X509Certificate(readFileSync(join(oldDir, 'cert.pem'))).ca,
      false,
      'the file on disk is the new leaf',
    );
    assert.equal((await loadOrCreateCertificate(oldDir)).replacedCa, undefined, 'replaced once');

    const userDir = scratch('amlite-cert-user-');
    mkdirSync(userDir, { recursive: true });
    const mine = await make('my-dev-ca');
    writeFileSync(join(userDir, 'cert.pem'), mine.cert);
    writeFileSync(join(userDir, 'key.pem'), mine.private, { mode: 0o600 });
    const kept = await loadOrCreateCertificate(userDir);
    assert.equal(kept.generated, false);
    assert.equal(kept.cert, mine.cert);
  });
});
