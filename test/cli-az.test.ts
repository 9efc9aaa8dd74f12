// The Azure CLI against amlite (issue 16): the recipe `amlite connect az` prints is run as printed, in a fresh
// AZURE_CONFIG_DIR and a clean environment, against a strict-mode server; then the scenario users run: a group, a
// workspace, a serverless endpoint created, shown, updated, tagged, its keys listed (az resource invoke-action and
// az rest), the group's resources listed, the endpoint deleted, the group deleted with --no-wait + az group wait
// --deleted, and an error rendered readably. Runs when `az` is on PATH (.ci/run installs Debian's azure-cli).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { certDir, freshDataDir, MODEL_ID, type RunningServer } from './support/harness.js';
import { startStrict } from './support/strict-tokens.js';
import { connectCli } from '../src/cli/connect.js';
import { azSkip, cleanEnv, run } from './support/az.js';

const V = '2025-09-01';
const SUB = '00000000-0000-0000-0000-000000000001';
const WS_TYPE = 'Microsoft.MachineLearningServices/workspaces';
const skip = azSkip;

describe('the Azure CLI, set up by `amlite connect az`', { skip }, () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  const ws = `/subscriptions/${SUB}/resourceGroups/rg-az/providers/${WS_TYPE}/ws-az`;
  const ep = `${ws}/serverlessEndpoints/ep-az`;

  /** `az …` in the recipe's environment: its JSON output parsed when there is one; fails the test on an error. */
  async function az(...args: string[]): Promise<any> {
    const r = await run('az', [...args, '--only-show-errors'], env);
    assert.equal(r.code, 0, `az ${args.join(' ')}\n${r.out}\n${r.err}`);
    return r.out.trim() ? JSON.parse(r.out) : undefined;
  }

  before(async () => {
    server = await startStrict(freshDataDir('amlite-az-'), { inMemory: true });
    env = cleanEnv(mkdtempSync(join(freshDataDir('amlite-azcfg-'), 'az-')));
  });
  after(() => server?.close());

  test('the printed recipe registers the cloud, logs in with a service principal and sets the subscription', async () => {
    const recipe = await connectCli(['az', '--url', server.url, '--cacert', join(certDir(), 'cert.pem')], {});
    for (const part of [
      'REQUESTS_CA_BUNDLE',
      'az cloud register',
      'az cloud set --name amlite',
      'az login --service-principal',
      'AzureCloud',
    ])
      assert.ok(recipe.includes(part), part);
    const r = await run('bash', ['-euo', 'pipefail', '-c', recipe], env);
    assert.equal(r.code, 0, `${recipe}\n---\n${r.out}\n${r.err}`);
    // What the recipe exported stays in force for the scenario below, as in the user's shell.
    for (const m of recipe.matchAll(/^export (\w+)="([^"]*)"$/gm)) env[m[1]] = m[2];
    const account = await az('account', 'show');
    assert.equal(account.id, SUB);
    assert.equal(account.environmentName, 'amlite');
    assert.equal(account.user.type, 'servicePrincipal');
    const cloud = await az('cloud', 'show', '--name', 'amlite');
    assert.equal(cloud.endpoints.resourceManager, `${server.url}/`);
  });

  test('group, workspace, serverless endpoint: create, show, update, tag, listKeys, list, delete', async () => {
    assert.equal(
      (await az('group', 'create', '-n', 'rg-az', '-l', 'eastus')).properties.provisioningState,
      'Succeeded',
    );
    const full = (o: unknown) => JSON.stringify(o);
    const w = await az(
      'resource',
      'create',
      '-g',
      'rg-az',
      '-n',
      'ws-az',
      '--resource-type',
      WS_TYPE,
      '--api-version',
      V,
      '--is-full-object',
      '-p',
      full({ location: 'eastus', properties: {} }),
    );
    assert.equal(w.id.toLowerCase(), ws.toLowerCase());
    const body = {
      location: 'eastus',
      sku: { name: 'Consumption' },
      properties: { authMode: 'Key', modelSettings: { modelId: MODEL_ID } },
    };
    const created = await az(
      'resource',
      'create',
      '--id',
      ep,
      '--api-version',
      V,
      '--is-full-object',
      '-p',
      full(body),
    );
    assert.equal(created.properties.provisioningState, 'Succeeded');
    const shown = await az('resource', 'show', '--ids', ep, '--api-version', V);
    assert.equal(shown.name, 'ep-az');
    assert.match(shown.properties.inferenceEndpoint.uri, /^https:\/\//);
    const updated = await az('resource', 'update', '--ids', ep, '--api-version', V, '--set', 'tags.env=dev');
    assert.equal(updated.tags.env, 'dev');
    const tagged = await az(
      'resource',
      'tag',
      '--ids',
      ep,
      '--api-version',
      V,
      '--tags',
      'team=nlp',
      '--is-incremental',
    );
    assert.deepEqual(tagged.tags, { env: 'dev', team: 'nlp' });
    const merged = await az('tag', 'update', '--resource-id', ep, '--operation', 'Merge', '--tags', 'cost=42');
    assert.deepEqual(merged.properties.tags, { env: 'dev', team: 'nlp', cost: '42' });
    const keys = await az('resource', 'invoke-action', '--ids', ep, '--api-version', V, '--action', 'listKeys');
    assert.ok(keys.primaryKey && keys.secondaryKey);
    const viaRest = await az('rest', '--method', 'post', '--url', `${ep}/listKeys?api-version=${V}`);
    assert.equal(viaRest.primaryKey, keys.primaryKey);
    const listed = await az('resource', 'list', '-g', 'rg-az');
    assert.deepEqual(listed.map((r: { name: string }) => r.name).sort(), ['ws-az', 'ws-az/ep-az']);
    const subs = await az('rest', '--method', 'get', '--url', '/subscriptions?api-version=2022-12-01');
    assert.ok(subs.value.some((s: { subscriptionId: string }) => s.subscriptionId === SUB));
    await az('resource', 'delete', '--ids', ep, '--api-version', V);
    const gone = await run('az', ['resource', 'show', '--ids', ep, '--api-version', V], env);
    assert.notEqual(gone.code, 0);
  });

  test('an error is rendered readably: the ARM code and message, no stack trace', async () => {
    const r = await run(
      'az',
      ['resource', 'show', '--ids', `${ws}/serverlessEndpoints/missing`, '--api-version', V],
      env,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.err, /ResourceNotFound/);
    assert.match(r.err, /serverlessEndpoints\/missing/);
    assert.doesNotMatch(r.err, /Traceback/);
  });

  test('az group delete --no-wait, then az group wait --deleted', async () => {
    await az('group', 'delete', '-n', 'rg-az', '--yes', '--no-wait');
    await az('group', 'wait', '--deleted', '-n', 'rg-az', '--timeout', '120');
    const exists = await run('az', ['group', 'exists', '-n', 'rg-az'], env);
    assert.equal(exists.out.trim(), 'false');
  });
});
