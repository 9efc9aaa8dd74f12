// Issue 15 §1, serverless endpoints: S1 (2023-08-01-preview), the early previews' getStatus and DELETE 200, one stored
// resource shown per api-version (fields another version set are kept), open enums, "field is required" messages.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  armFetch,
  describeResponse,
  endpointBody,
  endpointPath,
  followLocation,
  putAndWait,
  startWithWorkspace,
  withApiVersion,
  workspacePath,
  type RunningServer,
} from './support/harness.js';

const SUB = '15a1b2c3-0000-4000-8000-0000000015f1';
const RG = 'rg-views';
const WS = 'ws-views';

const S1 = '2023-08-01-preview';
const S2 = ['2024-01-01-preview', '2024-04-01-preview'];
const OFFER = { publisher: 'Meta', offerName: 'Llama-2-7b-chat' };
/** An S1 body: `offer` required, no modelSettings, authMode left out (Azure applies Key). */
const s1Body = (properties: Record<string, unknown> = {}) => ({
  location: 'eastus',
  sku: { name: 'Consumption' },
  properties: { offer: OFFER, ...properties },
});

describe('serverless endpoints across api-versions (issue 15 §1)', () => {
  let server: RunningServer;
  const path = (name: string) => endpointPath(SUB, RG, WS, name);
  before(async () => {
    server = await startWithWorkspace(SUB, RG, WS);
  });
  after(() => server.close());

  const get = (p: string, v: string) => armFetch(server, 'GET', withApiVersion(p, v));
  const put = (p: string, v: string, body: unknown) => armFetch(server, 'PUT', withApiVersion(p, v), { body });

  describe('S1, 2023-08-01-preview', () => {
    test('creates with a required offer; shows no modelSettings, endpointState or marketplaceSubscriptionId', async () => {
      const { final } = await putAndWait(server, path('s1-endpoint'), S1, s1Body());
      assert.equal(final.properties.provisioningState, 'Succeeded');
      assert.equal(final.properties.authMode, 'Key', 'Azure applies Key');
      assert.deepEqual(final.properties.offer, OFFER);
      assert.equal(typeof final.properties.inferenceEndpoint.uri, 'string');
      for (const field of ['modelSettings', 'endpointState', 'marketplaceSubscriptionId'])
        assert.ok(!(field in final.properties), `${field} is not in S1: ${JSON.stringify(final.properties)}`);
      const list = await get(`${workspacePath(SUB, RG, WS)}/serverlessEndpoints`, S1);
      const listed = list.body.value.find((r: { name: string }) => r.name === 's1-endpoint');
      assert.ok(listed && !('endpointState' in listed.properties), 'LIST shows the S1 view too');
    });

    test('an endpoint created at a later version shows at S1 the offer of its model', async () => {
      await putAndWait(server, path('s1-later'), '2025-09-01', endpointBody());
      const res = await get(path('s1-later'), S1);
      assert.equal(res.status, 200, describeResponse(res));
      assert.deepEqual(res.body.properties.offer, OFFER, 'azureml-meta/Llama-2-7b-chat → Meta, Llama-2-7b-chat');
      assert.ok(!('modelSettings' in res.body.properties));
      const later = await get(path('s1-later'), '2025-09-01');
      assert.ok(!('offer' in later.body.properties), 'derived for S1 only, not stored');
    });

    test('an S1 PUT without offer is 400 saying the field is required', async () => {
      const res = await put(path('s1-no-offer'), S1, { location: 'eastus', properties: {} });
      assert.equal(res.status, 400, describeResponse(res));
      assert.equal(res.body.error.code, 'InvalidRequestContent');
      assert.equal(res.body.error.target, 'properties.offer');
      assert.match(res.body.error.message, /The 'properties\.offer' field is required\./);
    });

    test('S1 is closed and has no modelSettings; its PUT takes the long name rule', async () => {
      const res = await put(path('s1-model'), S1, s1Body({ modelSettings: { modelId: 'x' } }));
      assert.equal(res.status, 400, describeResponse(res));
      assert.equal(res.body.error.target, 'properties.modelSettings');
      // `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`: a leading digit and an underscore pass at S1, not at S2.
      const name = '9_s1-name';
      const ok = await put(path(name), S1, s1Body());
      assert.equal(ok.status, 201, describeResponse(ok));
      const s2 = await put(path('9_s2-name'), S2[0], s1Body());
      assert.equal(s2.status, 400, describeResponse(s2));
      assert.equal(s2.body.error.code, 'InvalidResourceName');
    });
  });

  describe('getStatus: only in 2023-08-01-preview, 2024-01-01-preview and 2024-04-01-preview', () => {
    test('answers 200 with metrics at S1 and S2', async () => {
      await putAndWait(server, path('status-ep'), S2[1], s1Body());
      for (const v of [S1, ...S2]) {
        const res = await armFetch(server, 'POST', withApiVersion(`${path('status-ep')}/getStatus`, v));
        assert.equal(res.status, 200, `${v}: ${describeResponse(res)}`);
        assert.deepEqual(res.body, { metrics: {} });
      }
    });

    // ARM forwards an action on a registered type and version to the provider, whose routes for that version have
    // no such path: its 404.
    test('at a version without it, the provider answers 404 as for a path it does not serve', async () => {
      for (const v of ['2024-04-01', '2025-01-01-preview', '2026-03-15-preview', '2026-05-01']) {
        const res = await armFetch(server, 'POST', withApiVersion(`${path('status-ep')}/getStatus`, v));
        assert.equal(res.status, 404, `${v}: ${describeResponse(res)}`);
        assert.equal(res.body.error.code, 'NotFound');
        assert.match(res.body.error.message, /getStatus/);
      }
    });

    test('a name that breaks the non-PUT rule is refused, as for the other actions', async () => {
      const res = await armFetch(server, 'POST', withApiVersion(`${path('-bad')}/getStatus`, S1));
      assert.equal(res.status, 400, describeResponse(res));
      assert.equal(res.body.error.code, 'InvalidResourceName');
    });
  });

  describe('DELETE: the early previews declare 200, the later versions 202/204 only', () => {
    const cases: [string, number][] = [
      [S1, 200],
      [S2[0], 200],
      [S2[1], 200],
      ['2024-04-01', 204],
      ['2025-07-01-preview', 204],
      ['2026-03-15-preview', 204],
    ];
    for (const [v, done] of cases) {
      test(`at ${v} the finished delete answers ${done}`, async () => {
        const p = path(`del-${v.replace(/-/g, '')}`);
        const body = v === S1 ? s1Body() : endpointBody();
        await putAndWait(server, p, v, body);
        const del = await armFetch(server, 'DELETE', withApiVersion(p, v));
        assert.equal(del.status, 202, describeResponse(del));
        const final = await followLocation(server, del);
        assert.equal(final.status, done, describeResponse(final));
        const again = await armFetch(server, 'DELETE', withApiVersion(p, v));
        assert.equal(again.status, 204, `an absent endpoint: ${describeResponse(again)}`);
      });
    }
  });

  describe('one stored resource, each version its own view', () => {
    test('a version hides what it does not know and keeps it through its own PUT', async () => {
      const p = path('view-safety');
      const level = { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Blocking' } };
      await putAndWait(server, p, '2025-07-01-preview', endpointBody(level));

      const s3 = await get(p, '2024-04-01');
      assert.deepEqual(s3.body.properties.contentSafety, { contentSafetyStatus: 'Enabled' }, 'S3 has no level');
      const s2 = await get(p, S2[0]);
      assert.ok(!('contentSafety' in s2.body.properties), 'S2 has no contentSafety');

      // A PUT at S3 changes what S3 knows; the level it does not know stays.
      const disabled = { contentSafety: { contentSafetyStatus: 'Disabled' } };
      const { final } = await putAndWait(server, p, '2024-04-01', endpointBody(disabled));
      assert.deepEqual(final.properties.contentSafety, { contentSafetyStatus: 'Disabled' });
      const back = await get(p, '2025-07-01-preview');
      assert.deepEqual(back.body.properties.contentSafety, {
        contentSafetyStatus: 'Disabled',
        contentSafetyLevel: 'Blocking',
      });

      // A PUT at S2 (which knows no contentSafety at all) keeps it whole.
      await putAndWait(server, p, S2[1], endpointBody());
      const after = await get(p, '2026-03-15-preview');
      assert.deepEqual(after.body.properties.contentSafety, back.body.properties.contentSafety);
    });

    test('an offer set at S2 is hidden at S3 and S6, kept by their PUTs, shown again at S2', async () => {
      const p = path('view-offer');
      await putAndWait(server, p, S2[0], endpointBody({ offer: OFFER }));
      for (const v of ['2024-04-01', '2025-12-01']) {
        const res = await get(p, v);
        assert.ok(!('offer' in res.body.properties), `${v} has no offer: ${describeResponse(res)}`);
        const { final } = await putAndWait(server, p, v, endpointBody());
        assert.ok(!('offer' in final.properties), `${v}'s PUT answer shows its own view`);
      }
      const s2 = await get(p, S2[1]);
      assert.deepEqual(s2.body.properties.offer, OFFER);
    });

    test('a field the version knows and the PUT leaves out is removed', async () => {
      const p = path('view-removed');
      const level = { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Deferred' } };
      await putAndWait(server, p, '2025-07-01-preview', endpointBody(level));
      await putAndWait(server, p, '2024-04-01', endpointBody());
      const res = await get(p, '2025-07-01-preview');
      assert.equal(res.body.properties.contentSafety, undefined, describeResponse(res));
    });
  });

  describe('open enums (modelAsString) take any string; closed ones keep their values', () => {
    test('authMode, contentSafetyStatus and contentSafetyLevel are open at every version', async () => {
      const cases: [string, Record<string, unknown>][] = [
        [S1, { authMode: 'KeyAndAAD' }],
        [S2[0], { authMode: 'KeyAndAAD' }],
        ['2024-04-01', { authMode: 'AAD', contentSafety: { contentSafetyStatus: 'Audit' } }],
        ['2025-01-01-preview', { contentSafety: { contentSafetyStatus: 'Enabled', contentSafetyLevel: 'Lenient' } }],
        ['2026-03-15-preview', { authMode: 'Certificate' }],
      ];
      for (const [v, props] of cases) {
        const p = path(`open-${v.replace(/-/g, '')}`);
        const body = v === S1 ? s1Body(props) : endpointBody(props);
        const { final } = await putAndWait(server, p, v, body);
        for (const [k, val] of Object.entries(props)) assert.deepEqual(final.properties[k], val, `${k} at ${v}`);
      }
    });

    test('an open enum still takes strings only; sku.tier (closed) keeps its values', async () => {
      const number = await put(path('open-number'), '2024-04-01', endpointBody({ authMode: 7 as never }));
      assert.equal(number.status, 400, describeResponse(number));
      assert.equal(number.body.error.target, 'properties.authMode');
      const tier = await put(path('closed-tier'), '2024-04-01', {
        ...endpointBody(),
        sku: { name: 'C', tier: 'Gold' },
      });
      assert.equal(tier.status, 400, describeResponse(tier));
      assert.equal(tier.body.error.target, 'sku.tier');
    });
  });

  test('a missing required field is reported as required, with its path as target', async () => {
    const { authMode: _omitted, ...noAuth } = endpointBody().properties;
    const res = await put(path('no-auth'), '2024-04-01', { ...endpointBody(), properties: noAuth });
    assert.equal(res.status, 400, describeResponse(res));
    assert.equal(res.body.error.target, 'properties.authMode');
    assert.match(res.body.error.message, /The 'properties\.authMode' field is required\./);
    assert.doesNotMatch(res.body.error.message, /undefined/);
    const noStatus = endpointBody({ contentSafety: {} });
    const nested = await put(path('no-status'), '2024-04-01', noStatus);
    assert.equal(nested.body.error.target, 'properties.contentSafety.contentSafetyStatus');
    assert.match(nested.body.error.message, /field is required/);
  });
});
