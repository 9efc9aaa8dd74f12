import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareNested, prepareTemplate, TemplateError, type Json } from '../../src/templates/index.js';
import { fakeContext, RG, SUB } from './template-fixtures.js';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const ML = 'Microsoft.MachineLearningServices/workspaces';
const rgId = `/subscriptions/${SUB}/resourceGroups/${RG}`;

/** What Bicep compiles for a hub, serverless endpoints in a loop, a conditional resource and a nested module. */
const foundry = {
  $schema: SCHEMA,
  contentVersion: '1.0.0.0',
  parameters: {
    hubName: { type: 'string', defaultValue: "[format('hub-{0}', uniqueString(resourceGroup().id))]", maxLength: 32 },
    models: { type: 'array', defaultValue: ['phi-4', 'llama'] },
    withStorage: { type: 'bool', defaultValue: false },
    adminKey: { type: 'securestring' },
    sku: { type: 'string', defaultValue: 'Basic', allowedValues: ['Basic', 'Standard'] },
  },
  variables: {
    location: '[resourceGroup().location]',
    copy: [
      {
        name: 'endpointNames',
        count: "[length(parameters('models'))]",
        input: "[format('ep-{0}', copyIndex('endpointNames'))]",
      },
    ],
  },
  resources: [
    {
      type: 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints',
      apiVersion: '2024-04-01',
      name: "[format('{0}/{1}', parameters('hubName'), variables('endpointNames')[copyIndex()])]",
      location: "[variables('location')]",
      copy: { name: 'endpoints', count: "[length(parameters('models'))]", mode: 'serial', batchSize: 1 },
      properties: {
        modelSettings: {
          modelId: "[format('azureml://registries/azureml/models/{0}', parameters('models')[copyIndex()])]",
        },
        copy: [{ name: 'tags', count: 2, input: "[concat('t', string(copyIndex('tags')))]" }],
      },
      dependsOn: ["[resourceId('Microsoft.MachineLearningServices/workspaces', parameters('hubName'))]"],
    },
    {
      type: 'Microsoft.Storage/storageAccounts',
      apiVersion: '2023-01-01',
      name: "[format('st{0}', uniqueString(resourceGroup().id))]",
      condition: "[parameters('withStorage')]",
      location: "[variables('location')]",
    },
    {
      type: ML,
      apiVersion: '2024-04-01',
      name: "[parameters('hubName')]",
      location: "[variables('location')]",
      kind: 'Hub',
      properties: { friendlyName: "[toUpper(parameters('hubName'))]" },
    },
    {
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2025-04-01',
      name: 'project-module',
      properties: {
        mode: 'Incremental',
        expressionEvaluationOptions: { scope: 'inner' },
        parameters: {
          hubId: { value: "[resourceId('Microsoft.MachineLearningServices/workspaces', parameters('hubName'))]" },
        },
        template: {
          $schema: SCHEMA,
          contentVersion: '1.0.0.0',
          parameters: { hubId: { type: 'string' } },
          resources: [
            {
              type: ML,
              apiVersion: '2024-04-01',
              name: 'proj',
              kind: 'Project',
              properties: { hubResourceId: "[parameters('hubId')]" },
            },
          ],
          outputs: { hub: { type: 'string', value: "[parameters('hubId')]" } },
        },
      },
      dependsOn: ['endpoints'],
    },
  ],
  outputs: {
    uris: {
      type: 'array',
      copy: {
        count: "[length(parameters('models'))]",
        input:
          "[reference(resourceId('Microsoft.MachineLearningServices/workspaces/serverlessEndpoints', parameters('hubName'), variables('endpointNames')[copyIndex()]), '2024-04-01').inferenceEndpoint.uri]",
      },
    },
    key: { type: 'securestring', value: "[parameters('adminKey')]" },
    hubName: { type: 'string', value: "[parameters('hubName')]" },
  },
};

test('a Bicep-shaped template: parameters, variable copy, serial resource copy, property copy, condition, order', () => {
  const plan = prepareTemplate(foundry as unknown as Json, fakeContext(), {
    parameters: { adminKey: { value: 's3cret' } },
  });
  const keys = plan.resources.map((r) => `${r.type.split('/').pop()}:${r.name}`);
  const hubName = plan.parameter('hubName') as string;
  assert.match(hubName, /^hub-[a-z2-7]{13}$/);
  // Dependencies first, template order otherwise.
  assert.deepEqual(keys, [
    `workspaces:${hubName}`,
    `serverlessEndpoints:${hubName}/ep-0`,
    `serverlessEndpoints:${hubName}/ep-1`,
    'storageAccounts:' + plan.resources[3]!.name,
    'deployments:project-module',
  ]);
  const [ws, ep0, ep1, storage, mod] = plan.resources;
  assert.equal(storage!.condition, false);
  assert.equal(ws!.id, `${rgId}/providers/${ML}/${hubName}`);
  assert.deepEqual(ws!.body.properties, { friendlyName: hubName.toUpperCase() });
  assert.deepEqual(ep0!.body.properties, {
    modelSettings: { modelId: 'azureml://registries/azureml/models/phi-4' },
    tags: ['t0', 't1'],
  });
  assert.deepEqual(ep0!.dependsOn, [ws!.key]);
  assert.deepEqual(
    ep1!.dependsOn.sort(),
    [ws!.key, ep0!.key].sort(),
    'serial batchSize 1: each waits for the one before',
  );
  assert.deepEqual(
    mod!.dependsOn.sort(),
    [ep0!.key, ep1!.key].sort(),
    'dependsOn a copy name waits for every instance',
  );
  assert.equal(mod!.nested?.scope, 'inner');
  assert.deepEqual(plan.reportedParameters().adminKey, { type: 'securestring' }, 'secure values are never echoed');

  const nested = prepareNested(plan, mod!, fakeContext());
  assert.deepEqual(nested.resources[0]!.body.properties, { hubResourceId: ws!.id });

  // Outputs wait on reference() of the endpoints: evaluated once the engine has them.
  const refs = Object.fromEntries(
    [ep0!, ep1!].map((e, i) => [e.id, { properties: { inferenceEndpoint: { uri: `https://ep${i}` } } }]),
  );
  const outputs = plan.outputs(fakeContext(refs));
  assert.deepEqual(outputs.uris, { type: 'array', value: ['https://ep0', 'https://ep1'] });
  assert.deepEqual(outputs.key, { type: 'securestring' });
  assert.deepEqual(outputs.hubName, { type: 'string', value: hubName });
});

test('reference() in properties defers that member; resolve() evaluates it later with the same scope', () => {
  const t = {
    $schema: SCHEMA,
    contentVersion: '1.0.0.0',
    resources: [
      { type: 'Microsoft.CognitiveServices/accounts', apiVersion: '2024-10-01', name: 'ai', properties: {} },
      {
        type: 'A.B/c',
        apiVersion: '1',
        name: "[concat('n', string(copyIndex()))]",
        copy: { name: 'cs', count: 2 },
        properties: {
          endpoint:
            "[concat(reference(resourceId('Microsoft.CognitiveServices/accounts', 'ai')).endpoint, copyIndex())]",
        },
      },
    ],
  };
  const plan = prepareTemplate(t as unknown as Json, fakeContext());
  const [ai, c0, c1] = plan.resources;
  assert.deepEqual(c1!.deferred, ['properties']);
  assert.deepEqual(c1!.dependsOn, [ai!.key], 'reference() of a template resource is an implicit dependency');
  const ctx = fakeContext({ [ai!.id]: { properties: { endpoint: 'https://ai/' } } });
  assert.deepEqual(plan.resolve(c1!.key, ctx).body.properties, { endpoint: 'https://ai/1' });
  assert.deepEqual(plan.resolve(c0!.key, ctx).body.properties, { endpoint: 'https://ai/0' });
  assert.throws(
    () => plan.resolve(c0!.key, fakeContext()),
    (e: TemplateError) =>
      e.code === 'InvalidTemplate' && /Unable to process template language expressions for resource/.test(e.message),
  );
});

test('languageVersion 2.0: symbolic names, existing resources, symbolic dependsOn, outer-scope nested deployment', () => {
  const t = {
    $schema: SCHEMA,
    contentVersion: '1.0.0.0',
    languageVersion: '2.0',
    parameters: { n: { type: 'int', defaultValue: 2, minValue: 1, maxValue: 5 } },
    functions: [
      {
        namespace: 'amlite',
        members: {
          ep: {
            parameters: [{ name: 'i', type: 'int' }],
            output: { type: 'string', value: "[format('ep{0}', parameters('i'))]" },
          },
        },
      },
    ],
    resources: {
      hub: { type: ML, apiVersion: '2024-04-01', name: 'hub', existing: true },
      eps: {
        type: `${ML}/serverlessEndpoints`,
        apiVersion: '2024-04-01',
        name: "[format('hub/{0}', amlite.ep(copyIndex()))]",
        copy: { name: 'eps', count: "[parameters('n')]" },
        dependsOn: ['hub'],
      },
      mod: {
        type: 'Microsoft.Resources/deployments',
        apiVersion: '2025-04-01',
        name: 'm',
        dependsOn: ['eps'],
        properties: {
          mode: 'Incremental',
          template: {
            $schema: SCHEMA,
            contentVersion: '1.0.0.0',
            resources: [{ type: 'A.B/c', apiVersion: '1', name: "[format('x{0}', parameters('n'))]" }],
          },
        },
      },
    },
  };
  const plan = prepareTemplate(t as unknown as Json, fakeContext());
  assert.deepEqual(
    plan.resources.map((r) => r.key),
    ['hub', 'eps[0]', 'eps[1]', 'mod'],
  );
  assert.equal(plan.resources[0]!.existing, true);
  assert.equal(plan.resources[2]!.name, 'hub/ep1');
  const nested = prepareNested(plan, plan.resources[3]!, fakeContext());
  assert.equal(nested.resources[0]!.name, 'x2', "outer scope: the parent's parameters");
});

test("every error kind is InvalidTemplate in ARM's words", () => {
  const base = { $schema: SCHEMA, contentVersion: '1.0.0.0' };
  const fails = (t: object, re: RegExp, params?: Record<string, { value: Json }>) =>
    assert.throws(
      () => prepareTemplate(t as Json, fakeContext(), { parameters: params }),
      (e: TemplateError) => {
        assert.equal(e.code, 'InvalidTemplate');
        assert.equal(e.status, 400);
        assert.match(e.message, re);
        return true;
      },
    );
  fails({ contentVersion: '1.0.0.0' }, /\$schema/);
  fails({ $schema: SCHEMA }, /contentVersion/);
  fails({ ...base, languageVersion: '9.9' }, /languageVersion '9.9' is not supported/);
  fails({ ...base, parameters: { p: { type: 'string' } } }, /The value for the template parameter 'p' is not provided/);
  fails(
    { ...base, parameters: { p: { type: 'int' } } },
    /Template parameter JToken type is not valid. Expected 'Integer'. Actual 'String'/,
    { p: { value: '5' } },
  );
  fails({ ...base }, /The template parameters 'x' in the parameters file are not valid/, { x: { value: 1 } });
  fails(
    { ...base, parameters: { p: { type: 'string', allowedValues: ['a'] } } },
    /The value 'b' is not part of the allowed value\(s\): 'a'/,
    { p: { value: 'b' } },
  );
  fails(
    { ...base, parameters: { p: { type: 'securestring', allowedValues: ['a'] } } },
    /^(?!.*hunter2).*not part of the allowed value/s,
    { p: { value: 'hunter2' } },
  );
  fails(
    { ...base, parameters: { p: { type: 'securestring', minLength: 12 } } },
    /^(?!.*hunter2).*greater than or equal to '12'/s,
    { p: { value: 'hunter2' } },
  );
  fails({ ...base, parameters: { p: { type: 'int', maxValue: 3 } } }, /less than or equal to '3'/, { p: { value: 4 } });
  fails(
    { ...base, variables: { a: "[variables('b')]", b: "[variables('a')]" } },
    /The template variable 'a' is not valid: .*circular/,
  );
  fails(
    { ...base, resources: [{ type: 'A.B/c', apiVersion: '1', name: '[nope()]' }] },
    /The template resource '\[nope\(\)\]' is not valid: The template function 'nope' is not valid/,
  );
  fails(
    { ...base, resources: [{ type: 'A.B/c', apiVersion: '1', name: 'x', dependsOn: ['missing'] }] },
    /The resource 'missing' is not defined in the template/,
  );
  fails(
    {
      ...base,
      resources: [
        { type: 'A.B/c', apiVersion: '1', name: 'x', dependsOn: ['y'] },
        { type: 'A.B/c', apiVersion: '1', name: 'y', dependsOn: ['x'] },
      ],
    },
    /Circular dependency detected on resource: '\/subscriptions\/.*\/providers\/A.B\/c\/[xy]'/,
  );
  fails(
    { ...base, resources: [{ type: 'A.B/c', apiVersion: '1', name: 'x', copy: { name: 'l', count: 801 } }] },
    /cannot exceed '800'/,
  );
  fails({ ...base, resources: [{ type: 'A.B/c/d', apiVersion: '1', name: 'x' }] }, /incorrect segment lengths/);
  fails(
    { ...base, resources: [{ type: 'A.B/c', apiVersion: '1', name: "[reference('x').name]" }] },
    /'reference' is not expected at this location/,
  );
  fails(
    { ...base, parameters: { p: { type: 'string', defaultValue: "[variables('v')]" } }, variables: { v: 'x' } },
    /The template function 'variables' is not expected at this location/,
  );
});
