#!/usr/bin/env node
import { relative } from 'node:path';
import { ConfigError, helpText, loadConfig } from './config.js';
import { startAmlite, VERSION } from './server.js';
import { TlsError } from './tls.js';
import { devToken } from './auth/bearer.js';
import { CatalogError } from './inference/catalog.js';
import { RulesFileError } from './control/rules-file.js';
import { controlCli, CONTROL_USAGE, UsageError } from './control/cli.js';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'control') {
    try {
      process.stdout.write(`${await controlCli(argv.slice(1), process.env)}\n`);
    } catch (e) {
      process.stderr.write(`amlite control: ${(e as Error).message}\n${e instanceof UsageError ? `${CONTROL_USAGE}\n` : ''}`);
      process.exit(e instanceof UsageError ? 2 : 1);
    }
    return;
  }
  if (argv[0] === 'token') {
    process.stdout.write(`${devToken()}\n`);
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
    if (err.code === 'EADDRINUSE') throw new ConfigError(`port ${config.port} on ${config.host} is already in use: stop the other process, or pick another port with --port N (--port 0 takes any free one)`);
    if (err.code === 'EACCES') throw new ConfigError(`not allowed to listen on ${config.host}:${config.port}: use a port above 1023 (--port N)`);
    if (err.code === 'EADDRNOTAVAIL') throw new ConfigError(`cannot listen on ${config.host}: that address is not on this machine (--host 127.0.0.1 is the default)`);
    throw e;
  }
  const show = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : `./${relative(process.cwd(), p) || '.'}`);
  const cert = server.certPath ? show(server.certPath) : undefined;
  const curlTls = cert ? `--cacert ${cert} ` : '';
  const lines = [
    `amlite listening on ${server.url}`,
    `  amlite ${VERSION}: management (ARM) and data plane on one port; readiness at ${server.url}/health`,
    cert ? `  certificate: ${cert}   (Node clients: export NODE_EXTRA_CA_CERTS=${server.certPath})` : '  plain HTTP (--http): Azure SDK clients will not send tokens over it',
    `  data dir: ${show(server.dataDir)}   store: ${server.database === ':memory:' ? 'in memory (--in-memory)' : server.store.shared ? `${server.database} (shared: start more amlite processes on it)` : show(server.database)}   profile: ${config.profile}   auth: ${config.auth}`,
    `  dashboard: ${server.url}/_dashboard   (from this machine only)`,
    `  try: curl ${curlTls}-X PUT -H "Authorization: Bearer $(npx amlite token)" -H "Content-Type: application/json" -d '{"location":"eastus"}' "${server.url}/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/my-rg?api-version=2025-04-01"`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

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
