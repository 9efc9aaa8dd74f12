// The real CLI as a child process (`node --import tsx src/main.ts ...`), for crash and log tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certDir } from './harness.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const STARTUP_TIMEOUT_MS = 30_000;

export interface CliServer {
  proc: ChildProcess;
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts amlite on a free port with the test certificate; resolves once it prints its URL. */
export async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const argv = [
    '--import',
    'tsx',
    'src/main.ts',
    '--port',
    '0',
    '--cert',
    join(certDir(), 'cert.pem'),
    '--key',
    join(certDir(), 'key.pem'),
    ...args,
  ];
  const proc = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.add(proc);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      res({ code, signal });
    });
  });
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`no "amlite listening on" line within ${STARTUP_TIMEOUT_MS} ms:\n${out}`)),
      STARTUP_TIMEOUT_MS,
    );
    const check = () => {
      const match = /amlite listening on (https?:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        res(match[1].replace(/\/$/, ''));
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`amlite exited (code ${code}, signal ${signal}) before it was ready:\n${out}`));
    });
  });
  return { proc, url, output: () => out, exited };
}

/** SIGKILLs every CLI child of this test file still running and waits for them to exit (for `after` hooks). */
export async function killAllCli(): Promise<void> {
  const running = [...children];
  const gone = running.map((child) => new Promise((res) => child.once('exit', res)));
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(gone);
}

/** Sends `signal` and waits for the exit. */
export async function stopCli(
  server: CliServer,
  signal: NodeJS.Signals,
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.proc.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () => rej(new Error(`amlite did not exit within ${timeoutMs} ms of ${signal}:\n${server.output().slice(-3000)}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
