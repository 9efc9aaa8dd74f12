#!/usr/bin/env node
/**
 * `npm run setup:llama`: installs node-llama-cpp and the one prebuilt llama.cpp binary for this machine (CPU), for the
 * catalog's `llama-cpp` backend. Not part of `npm ci`: the package's optional dependencies bring every platform's and
 * GPU's binaries (~680 MB). Nothing is saved to package.json or the lock file; `npm ci` removes it again.
 * Its install script (which may download or build llama.cpp) is not run: the prebuilt binary is used as it is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_LLAMA_CPP_VERSION = '3.21.1';
/** node-llama-cpp's CPU binary packages, by Node's platform-arch. */
const BINARIES = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-arm64': 'mac-arm64-metal',
  'darwin-x64': 'mac-x64',
  'win32-x64': 'win-x64',
  'win32-arm64': 'win-arm64',
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binary = BINARIES[`${process.platform}-${process.arch}`];
if (!binary) {
  console.error(`setup:llama: node-llama-cpp has no prebuilt binary for ${process.platform}-${process.arch}`);
  process.exit(1);
}
// --omit=optional keeps the other platforms' binaries out, but would also remove the optional packages already
// installed (esbuild's binary): name those, so they stay.
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const keep = Object.entries(lock.packages)
  .filter(([path, p]) => p.optional && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && existsSync(join(root, path)))
  .map(([path, p]) => `${path.slice('node_modules/'.length)}@${p.version}`);
const args = [
  'install',
  '--no-save',
  '--ignore-scripts',
  '--omit=optional',
  '--no-audit',
  '--no-fund',
  `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`,
  `@node-llama-cpp/${binary}@${NODE_LLAMA_CPP_VERSION}`,
  ...keep,
];
console.log(`npm ${args.join(' ')}`);
const npm = process.env.npm_execpath;
const run = npm
  ? spawnSync(process.execPath, [npm, ...args], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(run.status ?? 1);
