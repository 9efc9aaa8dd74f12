// Issue 15 loose end: an S1 (2023-08-01-preview) serverless endpoint has no modelSettings, only the `offer` it was
// created from. Its data plane serves the catalog model the offer names
// (`azureml://registries/azureml-<publisher>/models/<offerName>`), not the endpoint's name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  describeResponse,
  endpointPath,
  putAndWait,
  startWithWorkspace,
  withApiVersion,
  type RunningServer,
} from './support/harness.js';
import { servedModelId } from '../src/providers/machine-learning/data-plane.js';

const SUB = '15a1b2c3-0000-4000-8000-000000000051';
const RG = 'rg-s1-model';
const WS = 'ws-s1-model';
const S1 = '2023-08-01-preview';

describe('the model an S1 serverless endpoint serves', () => {
  test('servedModelId: modelSettings first, then the offer, then the name', () => {
    const meta = { offer: { publisher: 'Meta', offerName: 'Llama-2-7b-chat' } };
    assert.equal(servedModelId(meta, 'ep'), 'azureml://registries/azureml-meta/models/Llama-2-7b-chat');
    const ms = { offer: { publisher: 'Microsoft', offerName: 'Phi-3-mini-4k-instruct' } };
    assert.equal(servedModelId(ms, 'ep'), 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct');
    const both = { ...meta, modelSettings: { modelId: 'azureml://registries/azureml-cohere/models/Cohere-command-r' } };
    assert.equal(servedModelId(both, 'ep'), 'azureml://registries/azureml-cohere/models/Cohere-command-r');
    assert.equal(servedModelId({}, 'ep'), 'ep');
    assert.equal(servedModelId({ offer: { publisher: 'Meta' } }, 'ep'), 'ep');
  });

  describe('through the data plane', () => {
    let server: RunningServer;
    before(async () => {
      server = await startWithWorkspace(SUB, RG, WS);
    });
    after(() => server.close());

    test("an endpoint created at S1 from an offer serves the offer's model", async () => {
      const path = endpointPath(SUB, RG, WS, 'llama-s1');
      const { final } = await putAndWait(server, path, S1, {
        location: 'eastus',
        sku: { name: 'Consumption' },
        properties: { offer: { publisher: 'Meta', offerName: 'Llama-2-7b-chat' } },
      });
      assert.equal(final.properties.provisioningState, 'Succeeded', JSON.stringify(final));
      const keys = await armFetch(server, 'POST', withApiVersion(`${path}/listKeys`, S1));
      assert.equal(keys.status, 200, describeResponse(keys));
      const uri = final.properties.inferenceEndpoint.uri as string;
      const headers = { 'api-key': keys.body.primaryKey as string, 'content-type': 'application/json' };
      const info = await fetch(`${uri}/info`, { headers });
      assert.equal(info.status, 200);
      const body = (await info.json()) as { model_name: string; model_provider_name: string };
      assert.equal(body.model_name, 'Llama-2-7b-chat', 'the offer names the model, not the endpoint');
      assert.equal(body.model_provider_name, 'Meta');
      const chat = await fetch(`${uri}/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
      });
      assert.equal(chat.status, 200);
      assert.equal(((await chat.json()) as { model: string }).model, 'Llama-2-7b-chat');
    });
  });
});
