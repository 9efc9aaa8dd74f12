/**
 * Property-based fuzz from the official swagger (issue 12): schemathesis, from PyPI, generates requests for the
 * serverless-endpoint and inference-pool operations of both seed api-versions and sends them to amlite on loopback
 * (in memory). Checks: no 5xx, and every response conforms to the swagger's schema for its status. Bounded in time
 * (SCHEMATHESIS_SECONDS_PER_SPEC each).
 *
 * Needs the venv that .ci/run creates (npm run setup:python: test/python/.venv from
 * test/python/requirements.txt) and ../shared/specs; skipped, with the reason, without either.
 */
import assert from 'node:assert/strict';
import { TEST_VENV } from './support/python.js';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  certDir,
  createResourceGroup,
  createWorkspace,
  fakeToken,
  startTestServer,
  type RunningServer,
} from './support/harness.js';

/** The fuzz's time budget per swagger file (schemathesis --max-time). */
export const SCHEMATHESIS_SECONDS_PER_SPEC = 45;

const root = resolve(import.meta.dirname, '..');
const venvBin = join(TEST_VENV, 'bin', 'schemathesis');
const schemathesis = process.env.AMLITE_SCHEMATHESIS ?? venvBin;
const specsRoot = join(process.env.AMLITE_SHARED_DIR ?? resolve(root, '..', 'shared'), 'specs', 'azure-ml');
const RM =
  'specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/MachineLearningServices';
const SPECS = [
  {
    apiVersion: '2025-09-01',
    file: join(specsRoot, '2025-09-01', RM, 'stable/2025-09-01/mfe.serverlessEndpoints.subset.json'),
  },
  {
    apiVersion: '2026-03-15-preview',
    file: join(
      specsRoot,
      '2026-03-15-preview',
      RM,
      'preview/2026-03-15-preview/openapi.inferencePools-serverlessEndpoints.subset.json',
    ),
  },
];

const skip = !existsSync(schemathesis)
  ? `schemathesis not installed (${venvBin}: npm run setup:python; .ci/run does this)`
  : SPECS.find((s) => !existsSync(s.file))
    ? `../shared/specs not found (${specsRoot})`
    : false;

const SUB = '00000000-0000-0000-0000-00000000f022';
const RG = 'fuzz-rg';
const WS = 'fuzz-ws';

// A skipped suite is not counted as skipped by Node's runner: a skipped test is.
if (skip) it('schemathesis fuzz from the official swagger', { skip }, () => {});
else
  describe(
    'schemathesis fuzz from the official swagger',
    { timeout: 4 * SCHEMATHESIS_SECONDS_PER_SPEC * 1000 + 60_000 },
    () => {
      let server: RunningServer;
      let dir: string;

      before(async () => {
        server = await startTestServer({ host: '127.0.0.1' });
        await createResourceGroup(server, SUB, RG);
        await createWorkspace(server, SUB, RG, WS);
        dir = mkdtempSync(join(tmpdir(), 'amlite-schemathesis-'));
      });
      after(async () => {
        await server?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      for (const spec of SPECS) {
        it(`${spec.apiVersion}: no 5xx, every response as the swagger says`, async () => {
          const config = join(dir, `${spec.apiVersion}.toml`);
          // The ancestors exist (created above) so the generated requests reach the endpoints' own validation.
          writeFileSync(
            config,
            [
              `headers = { Authorization = "Bearer ${fakeToken({ exp: Math.floor(Date.now() / 1000) + 3600 })}" }`,
              '[parameters]',
              `subscriptionId = "${SUB}"`,
              `resourceGroupName = "${RG}"`,
              `workspaceName = "${WS}"`,
              `"api-version" = "${spec.apiVersion}"`,
              'poolName = "fuzz-pool"',
              'inferencePoolName = "fuzz-pool"',
              'groupName = "fuzz-group"',
              '',
            ].join('\n'),
          );
          const args = [
            '--config-file',
            config,
            'run',
            inheritable(spec.file, dir),
            '--url',
            server.url,
            '--checks',
            'not_a_server_error,response_schema_conformance',
            '--phases',
            'examples,coverage,fuzzing,stateful',
            '--max-time',
            String(SCHEMATHESIS_SECONDS_PER_SPEC),
            '--max-examples',
            '50',
            '--workers',
            '2',
            '--seed',
            '13',
            '--request-timeout',
            '10',
            '--tls-verify',
            join(certDir(), 'cert.pem'),
            '--suppress-health-check',
            'all',
            '--warnings',
            'off',
            '--report',
            'junit',
            '--report-dir',
            join(dir, spec.apiVersion),
          ];
          const { code, output } = await run(schemathesis, args);
          assert.equal(code, 0, `schemathesis found failures (exit ${code}):\n${output.slice(-20_000)}`);
        });
      }
    },
  );

/**
 * A copy of the swagger (with the common types it refers to) read as autorest reads it: `allOf` is inheritance, so a
 * model with `additionalProperties: false` still has its parents' properties (a TrackedResource's id, name, type,
 * systemData). JSON Schema would refuse those, so `additionalProperties: false` is dropped where `allOf` is present.
 */
function inheritable(file: string, dir: string): string {
  const versionDir = join(specsRoot, relative(specsRoot, file).split('/')[0]!);
  const copyDir = join(dir, 'specs', relative(specsRoot, versionDir));
  cpSync(versionDir, copyDir, { recursive: true });
  const copy = join(copyDir, relative(versionDir, file));
  const swagger = JSON.parse(readFileSync(copy, 'utf8')) as { definitions: Record<string, Record<string, unknown>> };
  for (const def of Object.values(swagger.definitions)) {
    if (def.allOf && def.additionalProperties === false) delete def.additionalProperties;
  }
  writeFileSync(copy, JSON.stringify(swagger));
  return copy;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}
