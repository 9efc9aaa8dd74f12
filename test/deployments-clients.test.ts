// Template deployments through the clients users deploy with (issue 17, "Clients"): Debian's azure-cli through the
// recipe `amlite connect az` prints (az deployment group create | validate | what-if | show | list | delete | cancel,
// az deployment operation group list, az deployment sub create) and the JavaScript deployments SDK
// (beginCreateOrUpdateAndWait, beginWhatIfAndWait, beginValidateAndWait, deploymentOperations.list), each with the
// ARM JSON templates of test/templates/ (what `bicep build` emits for typical Foundry files). The Python SDK's side
// is test/python/test_deployments.py (run by test/python-clients.test.ts). What each step expects is ARM's contract.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  armClient,
  armFetch,
  credential,
  describeResponse,
  freshDataDir,
  pollUntil,
  startTestServer,
  type RunningServer,
} from './support/harness.js';
import { startStrict } from './support/strict-tokens.js';
import { azSkip, cleanEnv, connectAz, run } from './support/az.js';
import { uniqueString } from '../src/templates/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const SUB = '00000000-0000-0000-0000-000000000001';
const ML = 'Microsoft.MachineLearningServices/workspaces';
const EP_VERSION = '2024-10-01';
/** Waiting for a held deployment to show Running: generous, not a timing assertion. */
const HOLD_WAIT_MS = 120_000;

const templateFile = (name: string) => join(ROOT, 'test', 'templates', name);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
/** A template and its parameters file's `parameters`, as an SDK sends them. */
const templateOf = (name: string) => readJson(templateFile(`${name}.json`));
const parametersOf = (name: string) => readJson(templateFile(`${name}.parameters.json`)).parameters;
const rgId = (rg: string) => `/subscriptions/${SUB}/resourceGroups/${rg}`;

/** Every error code inside an ARM error, its details included, at any depth. */
function errorCodes(error: any): string[] {
  if (!error || typeof error !== 'object') return [];
  return [error.code, ...(error.details ?? []).flatMap(errorCodes)].filter(Boolean);
}

const sameIds = (a: string[], b: string[]) =>
  assert.deepEqual(a.map((x) => x.toLowerCase()).sort(), b.map((x) => x.toLowerCase()).sort());

/** The resources hub.json creates with hub.parameters.json (the conditional endpoint is off). */
function hubResourceIds(rg: string): string[] {
  const g = rgId(rg);
  // hub.json's variables: the suffix is uniqueString(resourceGroup().id, baseName), Azure's hash.
  const suffix = uniqueString([g, 'foundry']);
  return [
    `${g}/providers/Microsoft.Storage/storageAccounts/st${suffix}`,
    `${g}/providers/Microsoft.KeyVault/vaults/kv-${suffix}`,
    `${g}/providers/Microsoft.CognitiveServices/accounts/ais-${suffix}`,
    `${g}/providers/${ML}/hub-foundry`,
    `${g}/providers/${ML}/hub-foundry/connections/aiservices`,
    `${g}/providers/${ML}/proj-foundry`,
    `${g}/providers/${ML}/proj-foundry/marketplaceSubscriptions/llama-chat`,
    `${g}/providers/${ML}/proj-foundry/marketplaceSubscriptions/phi-mini`,
    `${g}/providers/${ML}/proj-foundry/serverlessEndpoints/llama-chat`,
    `${g}/providers/${ML}/proj-foundry/serverlessEndpoints/phi-mini`,
  ];
}

// ---- the Azure CLI --------------------------------------------------------------------------------------------

describe('az deployment, set up by `amlite connect az`', { skip: azSkip }, () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;

  /** `az …` in the recipe's environment, from the repository root. */
  const azRun = (...args: string[]) => run('az', [...args, '--only-show-errors'], env, ROOT);
  /** `az …` that must succeed: its JSON output parsed when there is one. */
  async function az(...args: string[]): Promise<any> {
    const r = await azRun(...args);
    assert.equal(r.code, 0, `az ${args.join(' ')}\n${r.out}\n${r.err}`);
    return r.out.trim() ? JSON.parse(r.out) : undefined;
  }
  /** `az …` with pretty (text) output that must succeed. */
  async function azText(...args: string[]): Promise<string> {
    const r = await azRun(...args);
    assert.equal(r.code, 0, `az ${args.join(' ')}\n${r.out}\n${r.err}`);
    return r.out;
  }
  const hubArgs = [
    '--template-file',
    templateFile('hub.json'),
    '--parameters',
    `@${templateFile('hub.parameters.json')}`,
  ];

  before(async () => {
    server = await startStrict(freshDataDir('amlite-azdeploy-'), { inMemory: true });
    env = cleanEnv(mkdtempSync(join(freshDataDir('amlite-azdeploycfg-'), 'az-')));
    await connectAz(server, env);
    await az('group', 'create', '-n', 'rg-tpl', '-l', 'eastus');
  });
  after(() => server?.close());

  test('validate: the template and its parameters file validate, listing the resources it would deploy', async () => {
    const v = await az('deployment', 'group', 'validate', '-g', 'rg-tpl', '-n', 'hub', ...hubArgs);
    assert.equal(v.properties.provisioningState, 'Succeeded', JSON.stringify(v));
    assert.equal(v.error ?? null, null);
    const validated = (v.properties.validatedResources ?? []).map((r: { id: string }) => r.id.toLowerCase());
    for (const name of ['llama-chat', 'phi-mini'])
      assert.ok(
        validated.some((id: string) => id.endsWith(`/serverlessendpoints/${name}`)),
        `${name} in ${validated}`,
      );
    assert.ok(!validated.some((id: string) => id.endsWith('/serverlessendpoints/optional')), 'condition false');
  });

  test('what-if before the first deployment: every resource is a Create', async () => {
    const text = await azText('deployment', 'group', 'what-if', '-g', 'rg-tpl', '-n', 'hub', ...hubArgs);
    assert.match(text, /Resource changes: 10 to create\./, text);
    assert.match(
      text,
      /^\s*\+ Microsoft\.MachineLearningServices\/workspaces\/proj-foundry\/serverlessEndpoints\/llama-chat/m,
    );
    assert.match(text, /^\s*\+ Microsoft\.Storage\/storageAccounts\/st\w+/m);
    assert.doesNotMatch(text, /serverlessEndpoints\/optional/);
  });

  test('create: hub.json deploys, with reference() and listKeys() outputs that match the resources', async () => {
    const d = await az('deployment', 'group', 'create', '-g', 'rg-tpl', '-n', 'hub', ...hubArgs);
    assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
    sameIds(
      d.properties.outputResources.map((r: { id: string }) => r.id),
      hubResourceIds('rg-tpl'),
    );
    const endpoints = d.properties.outputs.endpoints.value;
    assert.deepEqual(
      endpoints.map((e: { name: string }) => e.name),
      ['llama-chat', 'phi-mini'],
    );
    for (const e of endpoints) {
      const id = `${rgId('rg-tpl')}/providers/${ML}/proj-foundry/serverlessEndpoints/${e.name}`;
      const shown = await az('resource', 'show', '--ids', id, '--api-version', EP_VERSION);
      assert.equal(e.uri, shown.properties.inferenceEndpoint.uri);
      assert.equal(shown.properties.provisioningState, 'Succeeded');
    }
    const llama = `${rgId('rg-tpl')}/providers/${ML}/proj-foundry/serverlessEndpoints/llama-chat`;
    const keys = await az(
      'resource',
      'invoke-action',
      '--ids',
      llama,
      '--api-version',
      EP_VERSION,
      '--action',
      'listKeys',
    );
    assert.equal(d.properties.outputs.primaryKey.value, keys.primaryKey);
    // The placeholders: listed with the group's resources; the connection got the AI services account's endpoint.
    const listed = (await az('resource', 'list', '-g', 'rg-tpl')).map((r: { type: string }) => r.type.toLowerCase());
    for (const type of [
      'microsoft.storage/storageaccounts',
      'microsoft.keyvault/vaults',
      'microsoft.cognitiveservices/accounts',
    ])
      assert.ok(listed.includes(type), `${type} in ${listed}`);
    const conn = await az(
      'rest',
      '--method',
      'get',
      '--url',
      `${rgId('rg-tpl')}/providers/${ML}/hub-foundry/connections/aiservices?api-version=2024-10-01`,
    );
    assert.equal(conn.properties.target, d.properties.outputs.aiServicesEndpoint.value);
    assert.match(conn.properties.target, /^https:\/\//);
    const optional = await azRun(
      'resource',
      'show',
      '--ids',
      `${rgId('rg-tpl')}/providers/${ML}/proj-foundry/serverlessEndpoints/optional`,
      '--api-version',
      EP_VERSION,
    );
    assert.notEqual(optional.code, 0, 'the conditional endpoint (condition false) is not deployed');
  });

  test('show, list and operation list: the deployment as ARM keeps it', async () => {
    const d = await az('deployment', 'group', 'show', '-g', 'rg-tpl', '-n', 'hub');
    assert.equal(d.name, 'hub');
    assert.equal(d.id, `${rgId('rg-tpl')}/providers/Microsoft.Resources/deployments/hub`);
    assert.equal(d.properties.provisioningState, 'Succeeded');
    assert.equal(d.properties.mode, 'Incremental');
    assert.ok(!Number.isNaN(Date.parse(d.properties.timestamp)), d.properties.timestamp);
    assert.match(d.properties.duration, /^PT[\d.]+S$|^PT(\d+M)?[\d.]+S$/);
    assert.deepEqual(d.properties.parameters.environment, { type: 'String', value: 'dev' });
    assert.ok(Array.isArray(d.properties.dependencies) && d.properties.dependencies.length > 0);
    const list = await az('deployment', 'group', 'list', '-g', 'rg-tpl');
    assert.ok(
      list.some((x: { name: string }) => x.name === 'hub'),
      JSON.stringify(list.map((x: any) => x.name)),
    );
    const ops = await az('deployment', 'operation', 'group', 'list', '-g', 'rg-tpl', '-n', 'hub');
    const targets = ops
      .filter((o: any) => o.properties.targetResource)
      .map((o: any) => o.properties.targetResource.id as string);
    sameIds(targets, hubResourceIds('rg-tpl'));
    for (const o of ops) {
      assert.equal(o.properties.provisioningState, 'Succeeded', JSON.stringify(o));
      assert.ok(o.operationId, JSON.stringify(o));
    }
  });

  test('what-if after the deployment: changed tags are Modify, untouched resources NoChange', async () => {
    const args = ['deployment', 'group', 'what-if', '-g', 'rg-tpl', '-n', 'hub', ...hubArgs, 'environment=prod'];
    const text = await azText(...args);
    assert.match(text, /^\s*~ Microsoft\.MachineLearningServices\/workspaces\/hub-foundry/m, text);
    assert.match(text, /tags\.environment:\s+"dev" => "prod"/, text);
    assert.match(
      text,
      /^\s*= Microsoft\.MachineLearningServices\/workspaces\/proj-foundry\/marketplaceSubscriptions\/llama-chat/m,
    );
    assert.match(text, /Resource changes: \d+ to modify, \d+ no change\./, text);
    const json = await az(...args, '--no-pretty-print');
    const byType = (t: string) => json.changes.filter((c: any) => c.resourceId.toLowerCase().includes(t));
    for (const c of byType('/serverlessendpoints/')) assert.equal(c.changeType, 'Modify', JSON.stringify(c));
    for (const c of byType('/marketplacesubscriptions/')) assert.equal(c.changeType, 'NoChange', JSON.stringify(c));
  });

  test('a nested inline deployment (languageVersion 2.0, inner scope) creates its endpoint', async () => {
    const d = await az(
      'deployment',
      'group',
      'create',
      '-g',
      'rg-tpl',
      '-n',
      'nested',
      '--template-file',
      templateFile('nested.json'),
      '--parameters',
      `@${templateFile('nested.parameters.json')}`,
    );
    assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
    const id = `${rgId('rg-tpl')}/providers/${ML}/ws-nested/serverlessEndpoints/ep-nested`;
    assert.equal(d.properties.outputs.endpointId.value.toLowerCase(), id.toLowerCase());
    const shown = await az('resource', 'show', '--ids', id, '--api-version', EP_VERSION);
    assert.equal(d.properties.outputs.uri.value, shown.properties.inferenceEndpoint.uri);
    const inner = await az('deployment', 'group', 'show', '-g', 'rg-tpl', '-n', 'endpoint-module');
    assert.equal(inner.properties.provisioningState, 'Succeeded');
  });

  test('a failing resource fails the deployment with DeploymentFailed carrying its own error', async () => {
    const r = await azRun(
      'deployment',
      'group',
      'create',
      '-g',
      'rg-tpl',
      '-n',
      'failing',
      '--template-file',
      templateFile('failing.json'),
      '--parameters',
      `@${templateFile('failing.parameters.json')}`,
    );
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.err, /DeploymentFailed/, r.err);
    assert.match(r.err, /InvalidRequestContent/, r.err);
    assert.match(r.err, /authMode/, r.err);
    assert.doesNotMatch(r.err, /Traceback/);
    const d = await az('deployment', 'group', 'show', '-g', 'rg-tpl', '-n', 'failing');
    assert.equal(d.properties.provisioningState, 'Failed');
    assert.equal(d.properties.error.code, 'DeploymentFailed');
    assert.ok(errorCodes(d.properties.error).includes('InvalidRequestContent'), JSON.stringify(d.properties.error));
    const ops = await az('deployment', 'operation', 'group', 'list', '-g', 'rg-tpl', '-n', 'failing');
    const bad = ops.find((o: any) => o.properties.targetResource?.resourceName?.endsWith('ep-bad'));
    assert.ok(bad, JSON.stringify(ops));
    assert.equal(bad.properties.provisioningState, 'Failed');
    assert.equal(bad.properties.statusCode, 'BadRequest');
  });

  test('delete removes the deployment from the history, not its resources', async () => {
    await az('deployment', 'group', 'delete', '-g', 'rg-tpl', '-n', 'hub');
    const list = await az('deployment', 'group', 'list', '-g', 'rg-tpl');
    assert.ok(!list.some((x: { name: string }) => x.name === 'hub'));
    const gone = await azRun('deployment', 'group', 'show', '-g', 'rg-tpl', '-n', 'hub');
    assert.notEqual(gone.code, 0);
    assert.match(gone.err, /DeploymentNotFound/, gone.err);
    const ep = `${rgId('rg-tpl')}/providers/${ML}/proj-foundry/serverlessEndpoints/llama-chat`;
    await az('resource', 'show', '--ids', ep, '--api-version', EP_VERSION);
  });

  test('Complete mode: what-if shows the Delete; the redeploy deletes what the template no longer names', async () => {
    await az('group', 'create', '-n', 'rg-complete', '-l', 'eastus');
    const files = ['--template-file', templateFile('complete.json')];
    const first = await az(
      'deployment',
      'group',
      'create',
      '-g',
      'rg-complete',
      '-n',
      'complete',
      ...files,
      '--parameters',
      `@${templateFile('complete-before.parameters.json')}`,
    );
    assert.equal(first.properties.provisioningState, 'Succeeded', JSON.stringify(first.properties.error));
    const completeArgs = [
      ...files,
      '--parameters',
      `@${templateFile('complete.parameters.json')}`,
      '--mode',
      'Complete',
    ];
    const text = await azText('deployment', 'group', 'what-if', '-g', 'rg-complete', '-n', 'complete', ...completeArgs);
    assert.match(
      text,
      /^\s*- Microsoft\.MachineLearningServices\/workspaces\/ws-complete\/serverlessEndpoints\/ep-drop/m,
      text,
    );
    assert.match(text, /1 to delete/, text);
    const second = await az('deployment', 'group', 'create', '-g', 'rg-complete', '-n', 'complete', ...completeArgs);
    assert.equal(second.properties.provisioningState, 'Succeeded', JSON.stringify(second.properties.error));
    assert.equal(second.properties.mode, 'Complete');
    const ws = `${rgId('rg-complete')}/providers/${ML}/ws-complete`;
    await az('resource', 'show', '--ids', `${ws}/serverlessEndpoints/ep-keep`, '--api-version', EP_VERSION);
    const dropped = await azRun(
      'resource',
      'show',
      '--ids',
      `${ws}/serverlessEndpoints/ep-drop`,
      '--api-version',
      EP_VERSION,
    );
    assert.notEqual(dropped.code, 0, 'ep-drop is deleted by the Complete-mode deployment');
  });

  test('cancel: a deployment held on its endpoint (test-control delay rule) ends Canceled', async () => {
    await az('group', 'create', '-n', 'rg-cancel', '-l', 'eastus');
    const rule = {
      kind: 'delay',
      match: { resourceType: 'serverlessEndpoints', method: 'PUT', name: 'ep-held', subscription: SUB },
    };
    await az('rest', '--method', 'post', '--url', '/_amlite/rules', '--body', JSON.stringify(rule));
    try {
      await az(
        'deployment',
        'group',
        'create',
        '-g',
        'rg-cancel',
        '-n',
        'held',
        '--no-wait',
        '--template-file',
        templateFile('complete.json'),
        '--parameters',
        'endpointNames=["ep-held"]',
      );
      await pollUntil(
        'the held deployment to be Running',
        async () => {
          const d = await az('deployment', 'group', 'show', '-g', 'rg-cancel', '-n', 'held');
          return d.properties.provisioningState === 'Running' ? d : undefined;
        },
        HOLD_WAIT_MS,
        500,
      );
      await az('deployment', 'group', 'cancel', '-g', 'rg-cancel', '-n', 'held');
      const d = await az('deployment', 'group', 'show', '-g', 'rg-cancel', '-n', 'held');
      assert.equal(d.properties.provisioningState, 'Canceled');
    } finally {
      await az('rest', '--method', 'post', '--url', '/_amlite/reset');
    }
  });

  test('az deployment sub create: a subscription-scope file creates a resource group, deploys into it', async () => {
    const d = await az(
      'deployment',
      'sub',
      'create',
      '--location',
      'eastus',
      '-n',
      'foundry-sub',
      '--template-file',
      templateFile('sub.json'),
      '--parameters',
      `@${templateFile('sub.parameters.json')}`,
    );
    assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
    assert.equal(d.id, `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/foundry-sub`);
    assert.equal(d.location, 'eastus');
    // subscriptionResourceId() spells a resource group's id with the providers segment, as ARM's function does.
    assert.equal(
      d.properties.outputs.resourceGroupId.value,
      `/subscriptions/${SUB}/providers/Microsoft.Resources/resourceGroups/rg-foundry-sub`,
    );
    const rg = await az('group', 'show', '-n', 'rg-foundry-sub');
    assert.equal(rg.tags.createdBy, 'sub.json');
    const ep = `${rgId('rg-foundry-sub')}/providers/${ML}/ws-sub/serverlessEndpoints/ep-sub`;
    const shown = await az('resource', 'show', '--ids', ep, '--api-version', EP_VERSION);
    assert.equal(d.properties.outputs.uri.value, shown.properties.inferenceEndpoint.uri);
    const inner = await az('deployment', 'group', 'show', '-g', 'rg-foundry-sub', '-n', 'foundry-rg');
    assert.equal(inner.properties.provisioningState, 'Succeeded');
    const subs = await az('deployment', 'sub', 'list');
    assert.ok(subs.some((x: { name: string }) => x.name === 'foundry-sub'));
  });

  test("the README's example: examples/foundry.json deploys as the README shows", async () => {
    await az('group', 'create', '-n', 'my-foundry-rg', '-l', 'eastus');
    const d = await az(
      'deployment',
      'group',
      'create',
      '-g',
      'my-foundry-rg',
      '--template-file',
      join(ROOT, 'examples', 'foundry.json'),
      '--parameters',
      'baseName=demo',
    );
    assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
    assert.equal(d.name, 'foundry', 'az names the deployment after the template file');
    assert.match(d.properties.outputs.endpointUri.value, /^https:\/\//);
    assert.ok(d.properties.outputs.endpointKey.value);
  });
});

// ---- the JavaScript SDK -----------------------------------------------------------------------------------------

/**
 * @azure/arm-resources 8 no longer has deployments: they moved to @azure/arm-resourcesdeployments (DeploymentsClient).
 * Imported by name so that this file typechecks and skips without it.
 */
const DEPLOYMENTS_PACKAGE = '@azure/arm-resourcesdeployments';
const deploymentsSdk: any = await import(DEPLOYMENTS_PACKAGE).catch(() => undefined);
const jsSkip = deploymentsSdk
  ? false
  : `${DEPLOYMENTS_PACKAGE} is not in test/node_modules (@azure/arm-resources 8 has no deployments): add it to ` +
    'test/package.json and run npm run setup:test';

describe('the JavaScript deployments SDK', { skip: jsSkip }, () => {
  let server: RunningServer;
  let client: any;
  const RG = 'rg-js';
  const hub = () => ({
    properties: { mode: 'Incremental', template: templateOf('hub'), parameters: parametersOf('hub') },
  });

  before(async () => {
    server = await startTestServer();
    await armClient(server, SUB).resourceGroups.createOrUpdate(RG, { location: 'eastus' });
    client = new deploymentsSdk.DeploymentsClient(credential(), SUB, { endpoint: server.url });
  });
  after(() => server?.close());

  test('beginValidateAndWait lists the resources the template would deploy', async () => {
    const v = await client.deployments.beginValidateAndWait(RG, 'hub', hub());
    assert.equal(v.error ?? undefined, undefined, JSON.stringify(v.error));
    assert.equal(v.properties.provisioningState, 'Succeeded');
    const ids = v.properties.validatedResources.map((r: { id: string }) => r.id.toLowerCase());
    assert.ok(
      ids.some((id: string) => id.endsWith('/serverlessendpoints/phi-mini')),
      JSON.stringify(ids),
    );
  });

  test('beginValidateAndWait rejects a template error; the 400 names the unknown function', async () => {
    const template = templateOf('complete');
    template.resources[0].name = "[notAFunction(parameters('workspaceName'))]";
    const body = { properties: { mode: 'Incremental', template, parameters: parametersOf('complete') } };
    // The SDK's poller ends "failed" on validate's 400 (the swagger's DeploymentValidateResult) without its error.
    await assert.rejects(client.deployments.beginValidateAndWait(RG, 'bad-template', body));
    const url = `${rgId(RG)}/providers/Microsoft.Resources/deployments/bad-template/validate?api-version=2025-04-01`;
    const raw = await armFetch(server, 'POST', url, { body });
    assert.equal(raw.status, 400, describeResponse(raw));
    assert.equal(raw.body.error.code, 'InvalidTemplate');
    assert.match(raw.body.error.message, /notAFunction/);
  });

  test('beginWhatIfAndWait: every resource a Create before the deployment', async () => {
    const w = await client.deployments.beginWhatIfAndWait(RG, 'hub', hub());
    assert.equal(w.status, 'Succeeded');
    assert.equal(w.changes.length, 10, JSON.stringify(w.changes.map((c: any) => c.resourceId)));
    for (const c of w.changes) assert.equal(c.changeType, 'Create', c.resourceId);
  });

  test('beginCreateOrUpdateAndWait deploys hub.json; deploymentOperations.list: one per resource', async () => {
    const d = await client.deployments.beginCreateOrUpdateAndWait(RG, 'hub', hub());
    assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
    const uris = d.properties.outputs.endpoints.value.map((e: { uri: string }) => e.uri);
    const llama = `${rgId(RG)}/providers/${ML}/proj-foundry/serverlessEndpoints/llama-chat`;
    const shown = await armFetch(server, 'GET', `${llama}?api-version=${EP_VERSION}`);
    assert.equal(shown.status, 200, describeResponse(shown));
    assert.equal(uris[0], shown.body.properties.inferenceEndpoint.uri);
    const keys = await armFetch(server, 'POST', `${llama}/listKeys?api-version=${EP_VERSION}`);
    assert.equal(d.properties.outputs.primaryKey.value, keys.body.primaryKey);
    const ops = [];
    for await (const op of client.deploymentOperations.list(RG, 'hub')) ops.push(op);
    const targets = ops.filter((o) => o.properties.targetResource).map((o) => o.properties.targetResource.id);
    sameIds(targets, hubResourceIds(RG));
    for (const o of ops) assert.equal(o.properties.provisioningState, 'Succeeded');
  });

  test('beginWhatIfAndWait after the deployment: Modify with the property delta, NoChange', async () => {
    const body = hub();
    body.properties.parameters = { ...body.properties.parameters, environment: { value: 'prod' } };
    const w = await client.deployments.beginWhatIfAndWait(RG, 'hub', body);
    const find = (suffix: string) => w.changes.find((c: any) => c.resourceId.toLowerCase().endsWith(suffix));
    const hubChange = find('/workspaces/hub-foundry');
    assert.equal(hubChange?.changeType, 'Modify', JSON.stringify(hubChange));
    const tagDelta = JSON.stringify(hubChange.delta);
    assert.match(tagDelta, /environment/, tagDelta);
    assert.match(tagDelta, /"before":"dev"/, tagDelta);
    assert.match(tagDelta, /"after":"prod"/, tagDelta);
    assert.equal(find('/marketplacesubscriptions/llama-chat')?.changeType, 'NoChange');
  });

  test("a failing resource: the poller rejects, GET shows DeploymentFailed with the endpoint's error", async () => {
    const body = { properties: { mode: 'Incremental', template: templateOf('failing'), parameters: {} } };
    await assert.rejects(client.deployments.beginCreateOrUpdateAndWait(RG, 'failing', body));
    const d = await client.deployments.get(RG, 'failing');
    assert.equal(d.properties.provisioningState, 'Failed');
    assert.equal(d.properties.error.code, 'DeploymentFailed');
    assert.ok(errorCodes(d.properties.error).includes('InvalidRequestContent'), JSON.stringify(d.properties.error));
  });

  test('exportTemplate returns the template deployed; listByResourceGroup lists the deployments', async () => {
    const exported = await client.deployments.exportTemplate(RG, 'hub');
    assert.deepEqual(exported.template.outputs, templateOf('hub').outputs);
    const names = [];
    for await (const d of client.deployments.listByResourceGroup(RG)) names.push(d.name);
    assert.ok(names.includes('hub') && names.includes('failing'), JSON.stringify(names));
  });
});
