// Several amlite CLI processes on one fresh PostgreSQL database: what the multi-process suites set up and tear down.
import { rmSync } from 'node:fs';
import { freshDataDir } from './harness.js';
import { startPostgres, type RunningPostgres } from './postgres.js';
import { killAllCli, startCli, type CliServer } from './cli.js';

export interface CliOnPostgres {
  postgres: RunningPostgres;
  /** The database's URL, as `--store` takes it. */
  database: string;
  /**
   * One more amlite process on the database (`--store`, `--data-dir`, `--log-level warn`, then `args`), with a data
   * dir of its own unless `dataDir` is given (processes that must accept each other's strict tokens share one).
   */
  start(args?: string[], dataDir?: string): Promise<CliServer>;
  /** Kills every CLI process of the test file, stops PostgreSQL and removes the data dirs it made. */
  stop(): Promise<void>;
}

/** Starts PostgreSQL with a fresh database named after `name`; processes are started with `start`. */
export async function cliOnPostgres(name: string): Promise<CliOnPostgres> {
  const postgres = await startPostgres();
  const database = await postgres.freshDatabase(name).catch(async (e: unknown) => {
    await postgres.stop();
    throw e;
  });
  const dataDirs: string[] = [];
  return {
    postgres,
    database,
    start(args = [], dataDir) {
      if (!dataDir) dataDirs.push((dataDir = freshDataDir(`${name}-`)));
      return startCli(['--store', database, '--data-dir', dataDir, '--log-level', 'warn', ...args]);
    },
    async stop() {
      await killAllCli();
      await postgres.stop();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
