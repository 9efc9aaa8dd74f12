import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Who may read what amlite keeps on disk: the database (every endpoint key), the TLS and token-signing private keys
 * and the tenant bindings are the user's alone; the data dir amlite creates is too. The certificate (public) is not.
 */
export const SECRET_FILE_MODE = 0o600;
export const DATA_DIR_MODE = 0o700;

/** The data dir's secret files besides the database (which the SQLite store looks after: it may live elsewhere). */
const SECRET_FILES = ['key.pem', 'issuer-key.pem', 'tenants.json', 'tenants.json.imported'];

/** Creates the data dir owner-only when it is missing (an existing one keeps its mode) and tightens its secrets. */
export function prepareDataDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  tightenSecrets(SECRET_FILES.map((f) => join(dir, f)));
}

/** Creates `file` empty and owner-only unless it exists, so a library that opens it later keeps that mode. */
export function createPrivate(file: string): void {
  closeSync(openSync(file, 'a', SECRET_FILE_MODE));
}

/**
 * Secret files left open to group or others (made by an older amlite under the umask) lose those bits (0644 becomes
 * 0600): only files this user owns; missing ones are skipped. Returns the paths changed.
 */
export function tightenSecrets(paths: string[]): string[] {
  const changed: string[] = [];
  for (const path of paths) {
    try {
      const st = statSync(path);
      if (!st.isFile() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o077) === 0) continue;
      chmodSync(path, st.mode & 0o700);
      changed.push(path);
    } catch {
      // Missing, or not ours to change: nothing to do.
    }
  }
  return changed;
}
