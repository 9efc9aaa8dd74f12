// Template deployments (issue 17): Microsoft.Resources/deployments over raw HTTP, as az deployment and the SDKs
// send them: create at both scopes, the runner through the engine, validate, what-if, cancel, operations, restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  MODEL_ID,
  armFetch,
  createResourceGroup,
  describeResponse,
  followLocation,
  freshDataDir,
  pollUntil,
  startTestServer,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';

const V = '2025-04-01';
const ML = '2025-09-01';
const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const SUB_SCHEMA = 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#';

const deploymentPath = (sub: string, rg: string | undefined, name: string) =>
  rg
    ? `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Resources/deployments/${name}`
    : `/subscriptions/${sub}/providers/Microsoft.Resources/deployments/${name}`;

/** What Bicep compiles for a workspace with serverless endpoints in a loop, their URIs and keys as outputs. */
function foundryTemplate(opts: { endpoints?: string[]; extra?: Record<string, unknown>[] } = {}) {
  return {
    $schema: SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: {
      workspaceName: { type: 'string' },
      endpointNames: { type: 'array', defaultValue: opts.endpoints ?? ['llama-a', 'llama-b'] },
      location: { type: 'string', defaultValue: '[resourceGroup().location]' },
      adminKey: { type: 'securestring', defaultValue: 'not-echoed' },
    },
    variables: { modelId: MODEL_ID },
    resources: [
      {
        type: 'Microsoft.MachineLearningServices/workspaces',
        apiVersion: ML,
        name: "[parameters('workspaceName')]",
        location: "[parameters('location')]",
        properties: { friendlyName: "[format('{0} workspace', parameters('workspaceName'))]" },
      },
      {
        type: 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints',
        apiVersion: ML,
        name: "[format('{0}/{1}', parameters('workspaceName'), parameters('endpointNames')[copyIndex()])]",
        location: "[parameters('location')]",
        sku: { name: 'Consumption' },
        properties: { authMode: 'Key', modelSettings: { modelId: "[variables('modelId')]" } },
        copy: { name: 'endpoints', count: "[length(parameters('endpointNames'))]", mode: 'serial', batchSize: 1 },
        dependsOn: ["[resourceId('Microsoft.MachineLearningServices/workspaces', parameters('workspaceName'))]"],
      },
      ...(opts.extra ?? []),
    ],
    outputs: {
      uris: {
        type: 'array',
        copy: {
          count: "[length(parameters('endpointNames'))]",
          input:
            "[reference(resourceId('Microsoft.MachineLearningServices/workspaces/serverlessEndpoints', " +
            "parameters('workspaceName'), parameters('endpointNames')[copyIndex()]), '2025-09-01').inferenceEndpoint.uri]",
        },
      },
      firstKey: {
        type: 'string',
        value:
          "[listKeys(resourceId('Microsoft.MachineLearningServices/workspaces/serverlessEndpoints', " +
          "parameters('workspaceName'), parameters('endpointNames')[0]), '2025-09-01').primaryKey]",
      },
      workspaceId: {
        type: 'string',
        value: "[resourceId('Microsoft.MachineLearningServices/workspaces', parameters('workspaceName'))]",
      },
    },
  };
}

async function deploy(
  server: { url: string },
  path: string,
  body: Record<string, unknown>,
): Promise<{ initial: Awaited<ReturnType<typeof armFetch>>; final: any }> {
  const initial = await armFetch(server, 'PUT', withApiVersion(path, V), { body });
  assert.ok([200, 201].includes(initial.status), describeResponse(initial));
  const final = await waitDeployment(server, initial.headers.get('azure-asyncoperation')!, path);
  return { initial, final };
}

async function waitDeployment(server: { url: string }, statusUrl: string, path: string, timeoutMs = 15_000) {
  await pollUntil(
    `${path} to end`,
    async () => {
      const s = await armFetch(server, 'GET', statusUrl);
      assert.equal(s.status, 200, describeResponse(s));
      return ['Succeeded', 'Failed', 'Canceled'].includes(s.body.status) ? s.body : undefined;
    },
    timeoutMs,
  );
  const got = await armFetch(server, 'GET', withApiVersion(path, V));
  assert.equal(got.status, 200, describeResponse(got));
  return got.body;
}

describe('template deployments', () => {
  let server: RunningServer;
  const sub = randomUUID();
  const rg = 'rg-deploy';
  const ws = 'ws-deploy';
  const wsPath = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`;

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, sub, rg);
  });
  after(() => server?.close());

  test('a resource-group deployment creates the workspace and its endpoints, with outputs', async () => {
    const path = deploymentPath(sub, rg, 'foundry');
    const { initial, final } = await deploy(server, path, {
      properties: { mode: 'Incremental', template: foundryTemplate(), parameters: { workspaceName: { value: ws } } },
    });
    assert.equal(initial.status, 201);
    assert.match(initial.headers.get('azure-asyncoperation')!, /\/deployments\/foundry\/operationStatuses\//);
    assert.ok(['Accepted', 'Running'].includes(initial.body.properties.provisioningState));
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final));
    assert.equal(final.type, 'Microsoft.Resources/deployments');
    assert.match(final.properties.duration, /^PT/);
    assert.ok(final.properties.correlationId);
    const uris = final.properties.outputs.uris.value;
    assert.equal(uris.length, 2);
    assert.match(uris[0], /^https:\/\//);
    const ep = await armFetch(server, 'GET', withApiVersion(`${wsPath}/serverlessEndpoints/llama-a`, ML));
    assert.equal(ep.status, 200, describeResponse(ep));
    assert.equal(ep.body.properties.provisioningState, 'Succeeded');
    assert.equal(uris[0], ep.body.properties.inferenceEndpoint.uri);
    const keys = await armFetch(server, 'POST', withApiVersion(`${wsPath}/serverlessEndpoints/llama-a/listKeys`, ML));
    assert.equal(final.properties.outputs.firstKey.value, keys.body.primaryKey);
    assert.equal(final.properties.parameters.adminKey.value, undefined, 'secure parameters are not echoed');
    assert.equal(final.properties.parameters.workspaceName.value, ws);
    const ids = final.properties.outputResources.map((r: { id: string }) => r.id.toLowerCase());
    assert.ok(ids.includes(`${wsPath}/serverlessEndpoints/llama-b`.toLowerCase()), JSON.stringify(ids));
    const dep = final.properties.dependencies.find((d: any) => d.resourceName === `${ws}/llama-a`);
    assert.ok(dep, JSON.stringify(final.properties.dependencies));
    assert.equal(dep.dependsOn[0].resourceType, 'Microsoft.MachineLearningServices/workspaces');

    // One operation per resource, the workspace first (dependsOn), each Succeeded.
    const ops = await armFetch(server, 'GET', withApiVersion(`${path}/operations`, V));
    assert.equal(ops.status, 200, describeResponse(ops));
    assert.equal(ops.body.value.length, 3);
    const byStart = [...ops.body.value].sort((a, b) => (a.properties.timestamp < b.properties.timestamp ? -1 : 1));
    for (const op of ops.body.value) {
      assert.equal(op.properties.provisioningState, 'Succeeded');
      assert.equal(op.properties.provisioningOperation, 'Create');
      assert.ok(op.properties.targetResource.id);
    }
    const wsOp = ops.body.value.find((o: any) => o.properties.targetResource.resourceType.endsWith('/workspaces'));
    const epOps = ops.body.value.filter((o: any) => o.properties.targetResource.resourceType.endsWith('Endpoints'));
    for (const e of epOps) assert.ok(e.properties.timestamp >= wsOp.properties.timestamp, JSON.stringify(byStart));
    const one = await armFetch(server, 'GET', withApiVersion(`${path}/operations/${wsOp.operationId}`, V));
    assert.equal(one.status, 200, describeResponse(one));
    assert.equal(one.body.operationId, wsOp.operationId);

    const list = await armFetch(
      server,
      'GET',
      withApiVersion(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Resources/deployments`, V),
    );
    assert.equal(list.status, 200);
    assert.ok(list.body.value.some((d: any) => d.name === 'foundry'));
    const filtered = await armFetch(
      server,
      'GET',
      `${withApiVersion(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Resources/deployments`, V)}` +
        `&$filter=${encodeURIComponent("provisioningState eq 'Failed'")}`,
    );
    assert.ok(!filtered.body.value.some((d: any) => d.name === 'foundry'));

    const exported = await armFetch(server, 'POST', withApiVersion(`${path}/exportTemplate`, V));
    assert.equal(exported.status, 200);
    assert.deepEqual(exported.body.template, foundryTemplate());
  });

  test('a failing resource fails the deployment with DeploymentFailed carrying its own error', async () => {
    await armFetch(server, 'POST', '/_amlite/rules', {
      body: {
        kind: 'fail',
        mode: 'async',
        count: 1,
        match: { resourceType: 'serverlessEndpoints', name: 'doomed', method: 'PUT' },
        error: { code: 'QuotaExceeded', message: 'Not enough quota in eastus.' },
      },
    });
    const path = deploymentPath(sub, rg, 'failing');
    const { final } = await deploy(server, path, {
      properties: {
        mode: 'Incremental',
        template: foundryTemplate({ endpoints: ['doomed'] }),
        parameters: { workspaceName: { value: ws } },
      },
    });
    assert.equal(final.properties.provisioningState, 'Failed');
    assert.equal(final.properties.error.code, 'DeploymentFailed');
    const codes = final.properties.error.details.map((d: any) => d.code);
    assert.deepEqual(codes, ['QuotaExceeded']);
    const ops = await armFetch(server, 'GET', withApiVersion(`${path}/operations`, V));
    const failed = ops.body.value.find((o: any) => o.properties.provisioningState === 'Failed');
    assert.equal(failed.properties.statusMessage.error.code, 'QuotaExceeded');

    // An error the resource's own PUT answers synchronously (its name rule) lands there too.
    const bad = await deploy(server, deploymentPath(sub, rg, 'bad-name'), {
      properties: {
        mode: 'Incremental',
        template: foundryTemplate({ endpoints: ['bad name!'] }),
        parameters: { workspaceName: { value: ws } },
      },
    });
    assert.equal(bad.final.properties.provisioningState, 'Failed');
    assert.equal(bad.final.properties.error.details[0].code, 'InvalidResourceName');
  });

  test('validate answers 200 with the validated resources, or 400 with the template error', async () => {
    const path = deploymentPath(sub, rg, 'check');
    const ok = await armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), {
      body: {
        properties: { mode: 'Incremental', template: foundryTemplate(), parameters: { workspaceName: { value: ws } } },
      },
    });
    assert.equal(ok.status, 200, describeResponse(ok));
    assert.equal(ok.body.properties.validatedResources.length, 3);
    assert.equal(ok.body.properties.provisioningState, 'Succeeded');
    const missing = await armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), {
      body: { properties: { mode: 'Incremental', template: foundryTemplate(), parameters: {} } },
    });
    assert.equal(missing.status, 400, describeResponse(missing));
    assert.equal(missing.body.error.code, 'InvalidTemplate');
    assert.match(missing.body.error.message, /workspaceName/);
    const badVersion = foundryTemplate();
    (badVersion.resources[0] as any).apiVersion = '1999-01-01';
    const preflight = await armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), {
      body: { properties: { mode: 'Incremental', template: badVersion, parameters: { workspaceName: { value: ws } } } },
    });
    assert.equal(preflight.status, 400, describeResponse(preflight));
    assert.equal(preflight.body.error.code, 'InvalidTemplateDeployment');
    assert.equal(preflight.body.error.details[0].code, 'NoRegisteredProviderFound');
    const linked = await armFetch(server, 'PUT', withApiVersion(path, V), {
      body: { properties: { mode: 'Incremental', templateLink: { uri: 'https://example.com/t.json' } } },
    });
    assert.equal(linked.status, 400, describeResponse(linked));
    assert.match(linked.body.error.message, /offline/);
  });

  test('what-if lists Create, NoChange, Modify and, in Complete mode, Delete', async () => {
    const path = deploymentPath(sub, rg, 'foundry');
    const ask = async (template: unknown, mode = 'Incremental') => {
      const res = await armFetch(server, 'POST', withApiVersion(`${path}/whatIf`, V), {
        body: { properties: { mode, template, parameters: { workspaceName: { value: ws } } } },
      });
      assert.equal(res.status, 202, describeResponse(res));
      const done = await followLocation(server, res);
      assert.equal(done.status, 200, describeResponse(done));
      assert.equal(done.body.status, 'Succeeded');
      return new Map<string, any>(
        done.body.properties.changes.map((c: any) => [c.resourceId.split('/').at(-1)!.toLowerCase(), c]),
      );
    };
    const same = await ask(foundryTemplate());
    assert.equal(same.get(ws)?.changeType, 'NoChange', JSON.stringify([...same.values()]));
    assert.equal(same.get('llama-a')?.changeType, 'NoChange');
    const changed = foundryTemplate({ endpoints: ['llama-a', 'llama-c'] });
    (changed.resources[0] as any).properties.friendlyName = 'renamed';
    const next = await ask(changed, 'Complete');
    const wsChange = next.get(ws);
    assert.equal(wsChange.changeType, 'Modify');
    assert.deepEqual(
      wsChange.delta.map((d: any) => [d.path, d.propertyChangeType, d.after]),
      [['properties.friendlyName', 'Modify', 'renamed']],
    );
    assert.equal(next.get('llama-c')?.changeType, 'Create');
    assert.equal(next.get('llama-b')?.changeType, 'Delete');
    const incremental = await ask(foundryTemplate({ endpoints: ['llama-a'] }));
    assert.equal(incremental.get('llama-b')?.changeType, 'Ignore');
  });

  test('a Complete-mode redeploy deletes the endpoint the template no longer names', async () => {
    await armFetch(server, 'POST', '/_amlite/reset');
    const path = deploymentPath(sub, rg, 'complete');
    const { final } = await deploy(server, path, {
      properties: {
        mode: 'Complete',
        template: foundryTemplate({ endpoints: ['llama-a'] }),
        parameters: { workspaceName: { value: ws } },
      },
    });
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
    const gone = await armFetch(server, 'GET', withApiVersion(`${wsPath}/serverlessEndpoints/llama-b`, ML));
    assert.equal(gone.status, 404, describeResponse(gone));
    const kept = await armFetch(server, 'GET', withApiVersion(`${wsPath}/serverlessEndpoints/llama-a`, ML));
    assert.equal(kept.status, 200);
    const ops = await armFetch(server, 'GET', withApiVersion(`${path}/operations`, V));
    assert.ok(ops.body.value.some((o: any) => o.properties.provisioningOperation === 'Delete'));
  });

  test('a nested inline deployment runs as a child deployment with its outputs', async () => {
    const template = {
      $schema: SCHEMA,
      contentVersion: '1.0.0.0',
      parameters: { name: { type: 'string' } },
      resources: [
        {
          type: 'Microsoft.Resources/deployments',
          apiVersion: '2025-04-01',
          name: 'inner',
          properties: {
            mode: 'Incremental',
            expressionEvaluationOptions: { scope: 'inner' },
            parameters: { wsName: { value: "[parameters('name')]" } },
            template: {
              $schema: SCHEMA,
              contentVersion: '1.0.0.0',
              parameters: { wsName: { type: 'string' } },
              resources: [
                {
                  type: 'Microsoft.MachineLearningServices/workspaces',
                  apiVersion: ML,
                  name: "[parameters('wsName')]",
                  location: '[resourceGroup().location]',
                  properties: {},
                },
              ],
              outputs: {
                id: {
                  type: 'string',
                  value: "[resourceId('Microsoft.MachineLearningServices/workspaces', parameters('wsName'))]",
                },
              },
            },
          },
        },
      ],
      outputs: {
        innerId: {
          type: 'string',
          value: "[reference(resourceId('Microsoft.Resources/deployments', 'inner'), '2025-04-01').outputs.id.value]",
        },
      },
    };
    const path = deploymentPath(sub, rg, 'outer');
    const { final } = await deploy(server, path, {
      properties: { mode: 'Incremental', template, parameters: { name: { value: 'ws-nested' } } },
    });
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
    assert.match(final.properties.outputs.innerId.value, /workspaces\/ws-nested$/);
    const inner = await armFetch(server, 'GET', withApiVersion(deploymentPath(sub, rg, 'inner'), V));
    assert.equal(inner.status, 200, describeResponse(inner));
    assert.equal(inner.body.properties.provisioningState, 'Succeeded');
  });

  test('a subscription deployment creates a resource group', async () => {
    const path = deploymentPath(sub, undefined, 'sub-level');
    const template = {
      $schema: SUB_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        { type: 'Microsoft.Resources/resourceGroups', apiVersion: V, name: 'rg-from-sub', location: 'westus' },
      ],
      outputs: {
        rgId: {
          type: 'string',
          value: "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg-from-sub')]",
        },
      },
    };
    const noLocation = await armFetch(server, 'PUT', withApiVersion(path, V), {
      body: { properties: { mode: 'Incremental', template } },
    });
    assert.equal(noLocation.status, 400, describeResponse(noLocation));
    const { final } = await deploy(server, path, { location: 'westus', properties: { mode: 'Incremental', template } });
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
    assert.equal(final.location, 'westus');
    const group = await armFetch(server, 'GET', withApiVersion(`/subscriptions/${sub}/resourceGroups/rg-from-sub`, V));
    assert.equal(group.status, 200);
    assert.equal(group.body.location, 'westus');
  });

  test('cancel stops a running deployment (204), 409 once it ended; delete removes the history entry', async () => {
    const hold = await armFetch(server, 'POST', '/_amlite/rules', {
      body: { kind: 'delay', match: { resourceType: 'serverlessEndpoints', name: 'held-*', method: 'PUT' } },
    });
    assert.ok([200, 201].includes(hold.status), describeResponse(hold));
    const path = deploymentPath(sub, rg, 'to-cancel');
    const started = await armFetch(server, 'PUT', withApiVersion(path, V), {
      body: {
        properties: {
          mode: 'Incremental',
          template: foundryTemplate({ endpoints: ['held-1'] }),
          parameters: { workspaceName: { value: ws } },
        },
      },
    });
    assert.equal(started.status, 201, describeResponse(started));
    await pollUntil('the endpoint to be held', async () => {
      const ops = await armFetch(server, 'GET', withApiVersion(`${path}/operations`, V));
      return ops.body.value.some((o: any) => o.properties.targetResource.resourceName.endsWith('held-1'))
        ? true
        : undefined;
    });
    const busy = await armFetch(server, 'DELETE', withApiVersion(path, V));
    assert.equal(busy.status, 409, describeResponse(busy));
    const cancel = await armFetch(server, 'POST', withApiVersion(`${path}/cancel`, V));
    assert.equal(cancel.status, 204, describeResponse(cancel));
    const final = await waitDeployment(server, started.headers.get('azure-asyncoperation')!, path);
    assert.equal(final.properties.provisioningState, 'Canceled');
    const again = await armFetch(server, 'POST', withApiVersion(`${path}/cancel`, V));
    assert.equal(again.status, 409, describeResponse(again));
    await armFetch(server, 'POST', '/_amlite/reset');

    const del = await armFetch(server, 'DELETE', withApiVersion(path, V));
    assert.equal(del.status, 202, describeResponse(del));
    const done = await followLocation(server, del);
    assert.ok([200, 204].includes(done.status), describeResponse(done));
    const gone = await armFetch(server, 'GET', withApiVersion(path, V));
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'DeploymentNotFound');
  });
});

describe('template deployments across a restart', () => {
  test('a deployment waiting on a held operation resumes after a restart and succeeds once released', async () => {
    const dataDir = freshDataDir('amlite-deploy-restart-');
    const sub = randomUUID();
    const rg = 'rg-restart';
    let server = await startTestServer({ inMemory: false, dataDir });
    try {
      await createResourceGroup(server, sub, rg);
      await armFetch(server, 'POST', '/_amlite/rules', {
        body: { kind: 'delay', match: { resourceType: 'serverlessEndpoints', method: 'PUT' } },
      });
      const path = deploymentPath(sub, rg, 'survives');
      const started = await armFetch(server, 'PUT', withApiVersion(path, V), {
        body: {
          properties: {
            mode: 'Incremental',
            template: foundryTemplate({ endpoints: ['ep-1'] }),
            parameters: { workspaceName: { value: 'ws-r' } },
          },
        },
      });
      assert.equal(started.status, 201, describeResponse(started));
      await pollUntil('the endpoint create to be held', async () => {
        const ops = await armFetch(server, 'GET', withApiVersion(`${path}/operations`, V));
        return ops.body.value.some((o: any) => o.properties.targetResource.resourceName.endsWith('ep-1'))
          ? true
          : undefined;
      });
      await server.close();
      server = await startTestServer({ inMemory: false, dataDir });
      const running = await armFetch(server, 'GET', withApiVersion(path, V));
      assert.equal(running.status, 200);
      assert.equal(running.body.properties.provisioningState, 'Running');
      const reset = await armFetch(server, 'POST', '/_amlite/reset');
      assert.equal(reset.status, 200, describeResponse(reset));
      const statusUrl = new URL(started.headers.get('azure-asyncoperation')!);
      const final = await waitDeployment(server, `${server.url}${statusUrl.pathname}${statusUrl.search}`, path);
      assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
      assert.match(final.properties.outputs.uris.value[0], /^https:\/\//);
    } finally {
      await server.close();
    }
  });
});

// What the real clients send (test/deployments-clients.test.ts runs the clients themselves): azure-cli's spliced
// template text, the new SDKs' api-version, ARM's legacy operations path, and the shapes ARM answers with.
describe('template deployments as the clients send them', () => {
  let server: RunningServer;
  const sub = randomUUID();
  const rg = 'rg-clients';
  const json = { 'content-type': 'application/json' };

  before(async () => {
    server = await startTestServer();
    await createResourceGroup(server, sub, rg);
  });
  after(() => server?.close());

  test("PUT, validate, whatIf take Newtonsoft's JSON (unquoted names, comments); other routes do not", async () => {
    const path = deploymentPath(sub, rg, 'spliced');
    // What azure-cli 2.45 sends: the body without the template, then `template:` and the file's text pasted in.
    const templateText = `{
      // a JSONC template file
      "$schema": "${SCHEMA}", contentVersion: '1.0.0.0',
      "parameters": { "wsName": { "type": "string", /* inline */ "defaultValue": 'ws-spliced' }, },
      "resources": [ { "type": "Microsoft.MachineLearningServices/workspaces", "apiVersion": "${ML}",
        "name": "[parameters('wsName')]", "location": "[resourceGroup().location]", "properties": {} } ],
      "outputs": { "name": { "type": "string", "value": "[parameters('wsName')]" } }
    }`;
    const body = `{"properties": {"mode": "Incremental", "parameters": {}, template:${templateText}}}`;
    const validate = await armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), { body, headers: json });
    assert.equal(validate.status, 200, describeResponse(validate));
    const whatIf = await armFetch(server, 'POST', withApiVersion(`${path}/whatIf`, V), { body, headers: json });
    assert.equal(whatIf.status, 202, describeResponse(whatIf));
    const put = await armFetch(server, 'PUT', withApiVersion(path, V), { body, headers: json });
    assert.equal(put.status, 201, describeResponse(put));
    const final = await waitDeployment(server, put.headers.get('azure-asyncoperation')!, path);
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
    assert.deepEqual(final.properties.outputs.name, { type: 'String', value: 'ws-spliced' });

    const broken = await armFetch(server, 'PUT', withApiVersion(path, V), { body: '{properties: {', headers: json });
    assert.equal(broken.status, 400, describeResponse(broken));
    assert.equal(broken.body.error.code, 'InvalidRequestFormat');
    const deep = `${'['.repeat(70)}${']'.repeat(70)}`;
    const tooDeep = await armFetch(server, 'PUT', withApiVersion(path, V), {
      body: `{properties: {template: ${deep}}}`,
      headers: json,
    });
    assert.equal(tooDeep.status, 400, describeResponse(tooDeep));
    assert.equal(tooDeep.body.error.code, 'InvalidRequestFormat');
    const proto = await armFetch(server, 'PUT', withApiVersion(path, V), {
      body: `{properties: {mode: 'Incremental', template: {__proto__: {}}}}`,
      headers: json,
    });
    assert.equal(proto.status, 400, describeResponse(proto));
    // Every other route keeps strict JSON.
    const rgPath = `/subscriptions/${sub}/resourceGroups/rg-strict`;
    const strict = await armFetch(server, 'PUT', withApiVersion(rgPath, V), {
      body: "{location: 'eastus'}",
      headers: json,
    });
    assert.equal(strict.status, 400, describeResponse(strict));
    assert.equal(strict.body.error.code, 'InvalidRequestFormat');
  });

  test('the 2026-06-01 api-version of the new SDKs, and the operations at the path without providers', async () => {
    const path = deploymentPath(sub, rg, 'new-sdk');
    const template = {
      $schema: SCHEMA,
      contentVersion: '1.0.0.0',
      parameters: {
        wsName: { type: 'string' },
        sparkVersion: { type: 'string', defaultValue: '' },
        count: { type: 'int', defaultValue: 1 },
        flag: { type: 'bool', defaultValue: true },
        tagsIn: { type: 'object', defaultValue: {} },
        list: { type: 'array', defaultValue: [] },
        secret: { type: 'securestring', defaultValue: 'hidden' },
        secretObject: { type: 'secureObject', defaultValue: {} },
      },
      resources: [
        {
          type: 'Microsoft.MachineLearningServices/workspaces',
          apiVersion: ML,
          name: "[parameters('wsName')]",
          location: '[resourceGroup().location]',
          properties: {},
        },
      ],
    };
    const body = {
      properties: {
        mode: 'Incremental',
        template,
        // azure-ai-ml's workspace template sends null for an optional string: its default applies.
        parameters: { wsName: { value: 'ws-new-sdk' }, sparkVersion: { value: null } },
      },
    };
    const put = await armFetch(server, 'PUT', withApiVersion(path, '2026-06-01'), { body });
    assert.equal(put.status, 201, describeResponse(put));
    const final = await waitDeployment(server, put.headers.get('azure-asyncoperation')!, path);
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
    const types = Object.fromEntries(
      Object.entries(final.properties.parameters).map(([k, v]: [string, any]) => [k, v.type]),
    );
    assert.deepEqual(types, {
      wsName: 'String',
      sparkVersion: 'String',
      count: 'Int',
      flag: 'Bool',
      tagsIn: 'Object',
      list: 'Array',
      secret: 'SecureString',
      secretObject: 'SecureObject',
    });
    assert.equal(final.properties.parameters.sparkVersion.value, '');
    assert.equal(final.properties.parameters.secret.value, undefined);

    const legacy = `/subscriptions/${sub}/resourcegroups/${rg}/deployments/new-sdk/operations`;
    const ops = await armFetch(server, 'GET', withApiVersion(legacy, '2026-06-01'));
    assert.equal(ops.status, 200, describeResponse(ops));
    assert.equal(ops.body.value.length, 1);
    const op = ops.body.value[0];
    assert.match(op.properties.targetResource.id, /workspaces\/ws-new-sdk$/);
    const one = await armFetch(server, 'GET', withApiVersion(`${legacy}/${op.operationId}`, '2021-04-01'));
    assert.equal(one.status, 200, describeResponse(one));
    assert.equal(one.body.operationId, op.operationId);
    const missing = await armFetch(server, 'GET', withApiVersion(`${legacy}/0000000000000000`, V));
    assert.equal(missing.status, 404, describeResponse(missing));
    const unknown = await armFetch(server, 'GET', withApiVersion(path, '2099-01-01'));
    assert.equal(unknown.status, 400, describeResponse(unknown));

    // A null for a parameter with neither default nor nullable is still a type error.
    const required = await armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), {
      body: { properties: { mode: 'Incremental', template, parameters: { wsName: { value: null } } } },
    });
    assert.equal(required.status, 400, describeResponse(required));
    assert.equal(required.body.error.code, 'InvalidTemplate');
  });

  test('one resource defined twice: allowed when all but one definition have a false condition', async () => {
    const path = deploymentPath(sub, rg, 'twins');
    const ws = (condition: boolean | string, friendlyName: string) => ({
      type: 'Microsoft.MachineLearningServices/workspaces',
      apiVersion: ML,
      name: 'ws-twin',
      condition,
      location: '[resourceGroup().location]',
      properties: { friendlyName },
    });
    const validate = (resources: unknown[]) =>
      armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), {
        body: {
          properties: { mode: 'Incremental', template: { $schema: SCHEMA, contentVersion: '1.0.0.0', resources } },
        },
      });
    // azure-ai-ml's workspace template: two connections named 'empty', both conditional.
    const ok = await validate([ws('[equals(1, 2)]', 'a'), ws(true, 'b'), ws(false, 'c')]);
    assert.equal(ok.status, 200, describeResponse(ok));
    assert.equal(ok.body.properties.validatedResources.length, 1);
    const none = await validate([ws(false, 'a'), ws(false, 'b')]);
    assert.equal(none.status, 200, describeResponse(none));
    assert.equal(none.body.properties.validatedResources.length, 0);
    const both = await validate([ws(true, 'a'), ws('[equals(1, 1)]', 'b')]);
    assert.equal(both.status, 400, describeResponse(both));
    assert.match(both.body.error.message, /defined multiple times/);
  });

  test('a resource its provider refuses: validate and PUT accept it, the run fails with DeploymentFailed', async () => {
    const path = deploymentPath(sub, rg, 'refused');
    const template = {
      $schema: SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.MachineLearningServices/workspaces',
          apiVersion: ML,
          name: 'ws-refused',
          location: '[resourceGroup().location]',
          properties: {},
        },
        {
          type: 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints',
          apiVersion: ML,
          name: 'ws-refused/ep-bad',
          location: '[resourceGroup().location]',
          sku: { name: 'Consumption' },
          properties: { authMode: 42, modelSettings: { modelId: MODEL_ID } },
          dependsOn: ["[resourceId('Microsoft.MachineLearningServices/workspaces', 'ws-refused')]"],
        },
      ],
    };
    const body = { properties: { mode: 'Incremental', template } };
    // Azure ML has no preflight validation: ARM's validate passes (az deployment group create validates first).
    const validate = await armFetch(server, 'POST', withApiVersion(`${path}/validate`, V), { body });
    assert.equal(validate.status, 200, describeResponse(validate));
    const { initial, final } = await deploy(server, path, body);
    assert.equal(initial.status, 201);
    assert.equal(final.properties.provisioningState, 'Failed');
    assert.equal(final.properties.error.code, 'DeploymentFailed');
    assert.deepEqual(
      final.properties.error.details.map((d: any) => d.code),
      ['InvalidRequestContent'],
    );
    assert.match(JSON.stringify(final.properties.error.details), /authMode/);
    const ops = await armFetch(server, 'GET', withApiVersion(`${path}/operations`, V));
    const bad = ops.body.value.find((o: any) => o.properties.targetResource.resourceName.endsWith('ep-bad'));
    assert.equal(bad.properties.provisioningState, 'Failed');
    assert.equal(bad.properties.statusCode, 'BadRequest');
    assert.equal(bad.properties.statusMessage.error.code, 'InvalidRequestContent');
  });

  test("what-if neither shows nor counts write-only members: a connection's credentials, secure values", async () => {
    const path = deploymentPath(sub, rg, 'with-connection');
    const template = {
      $schema: SCHEMA,
      contentVersion: '1.0.0.0',
      parameters: { apiKey: { type: 'securestring' } },
      resources: [
        {
          type: 'Microsoft.MachineLearningServices/workspaces',
          apiVersion: '2024-10-01',
          name: 'ws-conn',
          location: '[resourceGroup().location]',
          kind: 'Hub',
          properties: {},
        },
        {
          type: 'Microsoft.MachineLearningServices/workspaces/connections',
          apiVersion: '2024-10-01',
          name: 'ws-conn/openai',
          properties: {
            category: 'AzureOpenAI',
            target: 'https://example.openai.azure.com/',
            authType: 'ApiKey',
            credentials: { key: "[parameters('apiKey')]" },
            metadata: { ApiType: 'Azure', note: "[parameters('apiKey')]" },
          },
          dependsOn: ["[resourceId('Microsoft.MachineLearningServices/workspaces', 'ws-conn')]"],
        },
      ],
    };
    const secret = `sk-${randomUUID()}`;
    const body = { properties: { mode: 'Incremental', template, parameters: { apiKey: { value: secret } } } };
    const ask = async () => {
      const res = await armFetch(server, 'POST', withApiVersion(`${path}/whatIf`, V), { body });
      assert.equal(res.status, 202, describeResponse(res));
      const done = await followLocation(server, res);
      assert.equal(done.status, 200, describeResponse(done));
      const change = done.body.properties.changes.find((c: any) => c.resourceId.endsWith('/connections/openai'));
      // `before` is the resource as its GET shows it; what the template would send is never shown.
      const predicted = JSON.stringify([change.after, change.delta]);
      assert.doesNotMatch(predicted, new RegExp(secret), 'a secure value is never shown');
      assert.doesNotMatch(JSON.stringify(done.body), /"credentials"/, 'write-only members are never shown');
      return change;
    };
    assert.equal((await ask()).changeType, 'Create');
    const { final } = await deploy(server, path, body);
    assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final.properties.error));
    const again = await ask();
    assert.equal(again.changeType, 'NoChange', JSON.stringify(again.delta));
  });
});
