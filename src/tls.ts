import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import selfsigned from 'selfsigned';
import { DATA_DIR_MODE, SECRET_FILE_MODE } from './file-modes.js';

export interface TlsFiles {
  cert: string;
  key: string;
  certPath: string;
  generated: boolean;
  /** A CA certificate an earlier amlite generated was replaced by a leaf one (clients must trust the new file). */
  replacedCa?: boolean;
}

export class TlsError extends Error {}

/** The subject (and issuer) of the certificate amlite generates. */
const GENERATED_SUBJECT = 'CN=amlite';
/** How long a generated certificate is valid: 825 days, the most Apple's TLS clients accept for a server one. */
export const GENERATED_CERT_DAYS = 825;

/**
 * The certificate to serve: the one given, or one generated at first start and kept in the data dir. The generated
 * one is a leaf (cA:false, serverAuth only), so trusting it trusts nothing else signed with its key. One an earlier
 * amlite generated as a CA is replaced (the caller says so at start); a certificate the user put there is kept.
 */
export async function loadOrCreateCertificate(dataDir: string, certFile?: string, keyFile?: string): Promise<TlsFiles> {
  if (certFile && keyFile)
    return { cert: readPem(certFile, '--cert'), key: readPem(keyFile, '--key'), certPath: certFile, generated: false };
  const certPath = join(dataDir, 'cert.pem');
  const keyPath = join(dataDir, 'key.pem');
  const existing = readExisting(certPath, keyPath);
  if (existing && stillValid(existing.cert) && !generatedCa(existing.cert))
    return { ...existing, certPath, generated: false };
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'amlite' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + GENERATED_CERT_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  // Each file replaced whole (rename), the key first; a pair that does not match is made again on the next start.
  writeAtomically(keyPath, pems.private, SECRET_FILE_MODE);
  writeAtomically(certPath, pems.cert, 0o644);
  const replacedCa = !!existing && stillValid(existing.cert) && generatedCa(existing.cert);
  return { cert: pems.cert, key: pems.private, certPath, generated: true, ...(replacedCa ? { replacedCa } : {}) };
}

/** The pair in the data dir when both files are there and the key is the certificate's. */
function readExisting(certPath: string, keyPath: string): { cert: string; key: string } | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)) ? { cert, key } : undefined;
  } catch {
    return undefined;
  }
}

/** A CA certificate amlite generated itself (before it made leaf certificates): self-issued as CN=amlite. */
function generatedCa(pem: string): boolean {
  try {
    const x = new X509Certificate(pem);
    return x.ca && x.subject === GENERATED_SUBJECT && x.issuer === GENERATED_SUBJECT;
  } catch {
    return false;
  }
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

function readPem(path: string, flag: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN')) throw new Error('not a PEM file');
    return text;
  } catch (e) {
    throw new TlsError(
      `cannot read ${flag} ${path}: ${(e as Error).message}. Pass a readable PEM file, or leave out --cert/--key to use a generated certificate.`,
    );
  }
}

function stillValid(pem: string): boolean {
  try {
    return Date.parse(new X509Certificate(pem).validTo) > Date.now() + 24 * 3600 * 1000;
  } catch {
    return false;
  }
}
