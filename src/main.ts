#!/usr/bin/env node
import { ConfigError, helpText, loadConfig } from './config.js';
import { startAmlite, VERSION } from './server.js';
import { TlsError } from './tls.js';
import { TOKEN_USAGE, tokenCli } from './cli/token.js';
import { CONNECT_USAGE, connectCli } from './cli/connect.js';
import { banner, catalogWarnings, upstreamWarningsOf } from './cli/banner.js';
import { CatalogError } from './inference/catalog.js';
import { RulesFileError } from './control/rules-file.js';
import { controlCli, CONTROL_USAGE, UsageError } from './control/cli.js';

/** `amlite control|token|connect …`: each prints its answer, or its usage on a usage error (exit 2). */
type Subcommand = { run: (argv: string[], env: NodeJS.ProcessEnv) => Promise<string> | string; usage: string };
const SUBCOMMANDS: Record<string, Subcommand> = {
  control: { run: controlCli, usage: CONTROL_USAGE },
  token: { run: (argv) => tokenCli(argv), usage: TOKEN_USAGE },
  connect: { run: connectCli, usage: CONNECT_USAGE },
};

async function main(argv: string[]): Promise<void> {
  const sub = SUBCOMMANDS[argv[0]];
  if (sub) {
    try {
      process.stdout.write(`${await sub.run(argv.slice(1), process.env)}\n`);
    } catch (e) {
      const usage = e instanceof UsageError ? `${sub.usage}\n` : '';
      process.stderr.write(`amlite ${argv[0]}: ${(e as Error).message}\n${usage}`);
      process.exit(e instanceof UsageError ? 2 : 1);
    }
    return;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const config = loadConfig(argv, process.env);
  let server;
  try {
    server = await startAmlite(config);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE')
      throw new ConfigError(
        `port ${config.port} on ${config.host} is already in use: stop the other process, or pick another port with --port N (--port 0 takes any free one)`,
      );
    if (err.code === 'EACCES')
      throw new ConfigError(`not allowed to listen on ${config.host}:${config.port}: use a port above 1023 (--port N)`);
    if (err.code === 'EADDRNOTAVAIL')
      throw new ConfigError(
        `cannot listen on ${config.host}: that address is not on this machine (--host 127.0.0.1 is the default)`,
      );
    throw e;
  }
  const lines = banner(server, config, process.cwd());
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const warning of catalogWarnings(config.catalog)) process.stderr.write(`amlite: warning: ${warning}\n`);
  void upstreamWarningsOf(config.catalog).then((ws) => {
    for (const warning of ws) process.stderr.write(`amlite: warning: ${warning}\n`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'stopping: draining in-flight requests');
    await server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main(process.argv.slice(2)).catch((e: Error) => {
  if (e instanceof ConfigError || e instanceof TlsError || e instanceof CatalogError || e instanceof RulesFileError) {
    process.stderr.write(`amlite: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`amlite: failed to start: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
