import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import selfsigned from 'selfsigned';

export interface TlsFiles { cert: string; key: string; certPath: string; generated: boolean }

export class TlsError extends Error {}

/** The certificate to serve: the one given, or one generated at first start and kept in the data dir. */
export async function loadOrCreateCertificate(dataDir: string, certFile?: string, keyFile?: string): Promise<TlsFiles> {
  if (certFile && keyFile) return { cert: readPem(certFile, '--cert'), key: readPem(keyFile, '--key'), certPath: certFile, generated: false };
  const certPath = join(dataDir, 'cert.pem');
  const keyPath = join(dataDir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath) && stillValid(readFileSync(certPath, 'utf8')))
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, generated: false };
  const notAfter = new Date(Date.now() + 825 * 24 * 3600 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'amlite' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath, generated: true };
}

function readPem(path: string, flag: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN')) throw new Error('not a PEM file');
    return text;
  } catch (e) {
    throw new TlsError(`cannot read ${flag} ${path}: ${(e as Error).message}. Pass a readable PEM file, or leave out --cert/--key to use a generated certificate.`);
  }
}

function stillValid(pem: string): boolean {
  try {
    return Date.parse(new X509Certificate(pem).validTo) > Date.now() + 24 * 3600 * 1000;
  } catch {
    return false;
  }
}
