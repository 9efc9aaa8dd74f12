import { readFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { devToken } from '../auth/bearer.js';

export const CONTROL_USAGE = `usage: amlite control [--url URL] [--cacert FILE] [--token T] COMMAND
Test control of a running amlite (see README, Testing your failure paths). Commands:
  rules                          list the test-control rules
  add '<json>' | --file FILE     add a rule (or an array of rules)
  remove ID                      remove a rule
  reset                          remove every rule and release every held operation
  operations [--status S]        recent long-running operations
  release OPERATION_ID           finish a held operation now
  state RESOURCE_ID Online|Suspended   set a serverless endpoint's endpointState
--url defaults to AMLITE_URL or https://127.0.0.1:8443; --cacert to AMLITE_CACERT or .amlite/cert.pem;
--token to AMLITE_TOKEN or a development token (what loose auth accepts).`;

export class UsageError extends Error {}

/** `amlite control …`: the control API from a shell, for scripts and CI steps. */
export async function controlCli(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const opts: Record<string, string> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') return CONTROL_USAGE;
    const m = /^--(url|cacert|token|file|status)(?:=(.*))?$/.exec(argv[i]);
    if (m) opts[m[1]] = m[2] ?? argv[++i];
    else args.push(argv[i]);
  }
  const url = (opts.url ?? env.AMLITE_URL ?? 'https://127.0.0.1:8443').replace(/\/+$/, '');
  const cacert = opts.cacert ?? env.AMLITE_CACERT ?? join(resolve(env.AMLITE_DATA_DIR ?? '.amlite'), 'cert.pem');
  const token = opts.token ?? env.AMLITE_TOKEN ?? devToken();
  const call = (method: string, path: string, body?: unknown) => send(url, cacert, token, method, path, body);
  const [command, ...rest] = args;
  if (command === 'help') return CONTROL_USAGE;
  switch (command) {
    case 'rules':
      return call('GET', '/_amlite/rules');
    case 'add': {
      const text = opts.file ? readFileSync(opts.file, 'utf8') : rest[0];
      if (!text) throw new UsageError('add needs a rule as JSON, or --file FILE');
      const parsed = JSON.parse(text);
      const out = [];
      for (const rule of Array.isArray(parsed) ? parsed : [parsed])
        out.push(await call('POST', '/_amlite/rules', rule));
      return out.join('\n');
    }
    case 'remove':
      return call('DELETE', `/_amlite/rules/${encodeURIComponent(need(rest[0], 'remove needs a rule id'))}`);
    case 'reset':
      return call('POST', '/_amlite/reset');
    case 'operations':
      return call('GET', `/_amlite/operations${opts.status ? `?status=${encodeURIComponent(opts.status)}` : ''}`);
    case 'release':
      return call(
        'POST',
        `/_amlite/operations/${encodeURIComponent(need(rest[0], 'release needs an operation id'))}/release`,
      );
    case 'state':
      return call('POST', '/_amlite/state', {
        id: need(rest[0], 'state needs a resource id'),
        endpointState: need(rest[1], 'state needs Online or Suspended'),
      });
    default:
      throw new UsageError(command ? `unknown control command '${command}'` : 'a control command is needed');
  }
}

const need = (v: string | undefined, message: string) => {
  if (!v) throw new UsageError(message);
  return v;
};

function send(
  base: string,
  cacert: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<string> {
  const target = new URL(path, `${base}/`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    ...(payload ? { 'content-type': 'application/json' } : {}),
  };
  const secure = target.protocol === 'https:';
  const ca = secure && existsSync(cacert) ? readFileSync(cacert) : undefined;
  return new Promise((resolvePromise, reject) => {
    const req = (secure ? request : httpRequest)(target, { method, headers, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400)
          reject(new Error(`${method} ${target.pathname} answered ${res.statusCode}: ${text}`));
        else resolvePromise(text || `${res.statusCode}`);
      });
    });
    req.on('error', (e) =>
      reject(
        new Error(
          `cannot reach amlite at ${base}: ${e.message}${secure && !ca ? ` (no certificate at ${cacert}: pass --cacert)` : ''}. Is it running? Point --url or AMLITE_URL at it.`,
        ),
      ),
    );
    req.end(payload);
  });
}
