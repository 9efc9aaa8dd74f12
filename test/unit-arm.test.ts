import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { checkName, descendantRange, keyOf, nameRule, normalizeLocation, parentKeyOf } from '../src/arm/ids.js';
import { mergePatch } from '../src/arm/merge-patch.js';
import { checkPreconditions, newEtag } from '../src/arm/etag.js';
import { resolveIdentity } from '../src/arm/identity.js';
import { validate, ReadOnly } from '../src/arm/schema.js';
import { ArmError } from '../src/arm/errors.js';
import { loadConfig, ConfigError } from '../src/config.js';
import { authenticate, devToken } from '../src/auth/bearer.js';
import type { RequestContext } from '../src/arm/context.js';
import type { StoredResource } from '../src/store/types.js';

const armError = (code: string, status?: number) => (e: unknown) =>
  e instanceof ArmError && e.code === code && (status === undefined || e.status === status);

describe('ids', () => {
  const ws = '/subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/WS';
  test('keys ignore case; parents climb one level, skipping providers/{ns}', () => {
    assert.equal(keyOf(ws), ws.toLowerCase());
    assert.equal(parentKeyOf(keyOf(`${ws}/serverlessEndpoints/E`)), keyOf(ws));
    assert.equal(parentKeyOf(keyOf(ws)), '/subscriptions/s/resourcegroups/rg');
    assert.equal(parentKeyOf('/subscriptions/s/resourcegroups/rg'), '/subscriptions/s');
  });
  test('descendant range holds children and nothing that merely shares a prefix', () => {
    const [from, to] = descendantRange('/a/b');
    const inside = (k: string) => k >= from && k < to;
    assert.ok(inside('/a/b/c'));
    assert.ok(inside('/a/b/c/d'));
    assert.ok(!inside('/a/b'));
    assert.ok(!inside('/a/bc'));
    assert.ok(!inside('/a/b_c'));
    assert.ok(!inside('/a/b-c'));
  });
  test('names: ARM limits everywhere, the type pattern where given', () => {
    assert.equal(checkName('ok-name'), undefined);
    assert.match(checkName('a/b')!, /not contain/);
    assert.match(checkName('x'.repeat(261))!, /260/);
    assert.match(checkName('1abc', nameRule('^[a-zA-Z][a-zA-Z0-9-]{0,51}$'))!, /\^\[a-zA-Z\]/);
  });
  test('locations compare without case and spaces', () => assert.equal(normalizeLocation('East US 2'), 'eastus2'));
});

describe('merge patch (RFC 7396)', () => {
  test('objects merge, null removes, arrays and scalars replace', () => {
    const target = { a: 1, b: { c: 2, d: 3 }, e: [1, 2] };
    assert.deepEqual(mergePatch(target, { a: null, b: { c: 9 }, e: [3], f: 'x' }), {
      b: { c: 9, d: 3 },
      e: [3],
      f: 'x',
    });
    assert.deepEqual(target, { a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, 'the target is not changed');
  });
  test('the RFC examples', () => {
    assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(mergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
    assert.deepEqual(mergePatch({ a: 'foo' }, 'bar'), 'bar');
    assert.deepEqual(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
    assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });
});

describe('ETag preconditions', () => {
  const etag = newEtag();
  const existing = { etag } as StoredResource;
  const ctx = (headers: Record<string, string>) => ({ header: (n: string) => headers[n] }) as RequestContext;
  test('If-Match', () => {
    assert.doesNotThrow(() => checkPreconditions(ctx({ 'if-match': etag }), existing, 'id', true));
    assert.doesNotThrow(() => checkPreconditions(ctx({ 'if-match': '*' }), existing, 'id', true));
    assert.doesNotThrow(() => checkPreconditions(ctx({ 'if-match': `W/${etag}` }), existing, 'id', false));
    assert.throws(
      () => checkPreconditions(ctx({ 'if-match': '"other"' }), existing, 'id', false),
      armError('PreconditionFailed', 412),
    );
    assert.throws(
      () => checkPreconditions(ctx({ 'if-match': '*' }), undefined, 'id', true),
      armError('PreconditionFailed', 412),
    );
    assert.doesNotThrow(
      () => checkPreconditions(ctx({ 'if-match': '*' }), undefined, 'id', false),
      'PATCH/DELETE answer 404/204 instead',
    );
  });
  test('If-None-Match', () => {
    assert.throws(
      () => checkPreconditions(ctx({ 'if-none-match': '*' }), existing, 'id', true),
      armError('PreconditionFailed'),
    );
    assert.doesNotThrow(() => checkPreconditions(ctx({ 'if-none-match': '*' }), undefined, 'id', true));
    assert.doesNotThrow(() => checkPreconditions(ctx({ 'if-none-match': '"other"' }), existing, 'id', true));
  });
});

describe('managed identities', () => {
  const caller = { name: 'u', type: 'User' as const, objectId: 'o', tenantId: 'tenant-1' };
  const uai = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1';
  test('system-assigned gets a principal in the caller tenant, kept across updates', () => {
    const first = resolveIdentity({ type: 'SystemAssigned' }, undefined, caller, false)!;
    assert.equal(first.tenantId, 'tenant-1');
    assert.match(first.principalId!, /^[0-9a-f-]{36}$/);
    const again = resolveIdentity(
      { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uai]: {} } },
      first,
      caller,
      true,
    )!;
    assert.equal(again.principalId, first.principalId);
    assert.ok(again.userAssignedIdentities![uai]);
  });
  test('user-assigned ids are matched without case; null removes one; None clears all', () => {
    const one = resolveIdentity(
      { type: 'UserAssigned', userAssignedIdentities: { [uai]: {} } },
      undefined,
      caller,
      false,
    )!;
    const same = resolveIdentity({ userAssignedIdentities: { [uai.toUpperCase()]: {} } }, one, caller, true)!;
    assert.deepEqual(Object.values(same.userAssignedIdentities!), Object.values(one.userAssignedIdentities!));
    assert.throws(
      () => resolveIdentity({ userAssignedIdentities: { [uai]: null } }, one, caller, true),
      armError('BadRequest', 400),
    );
    assert.deepEqual(resolveIdentity({ type: 'None' }, one, caller, true), { type: 'None' });
  });
  test('a user-assigned key that is not an identity id is LinkedInvalidPropertyId', () => {
    assert.throws(
      () => resolveIdentity({ type: 'UserAssigned', userAssignedIdentities: { nope: {} } }, undefined, caller, false),
      armError('LinkedInvalidPropertyId', 400),
    );
  });
});

describe('request validation', () => {
  const schema = Type.Object(
    {
      properties: Type.Object(
        { authMode: Type.Union([Type.Literal('Key')]), state: ReadOnly() },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  );
  test('read-only fields are dropped, not rejected', () => {
    assert.deepEqual(validate(schema, { properties: { authMode: 'Key', state: 'x' } }, true), {
      properties: { authMode: 'Key' },
    });
  });
  test('errors carry the JSON path as target', () => {
    assert.throws(
      () => validate(schema, { properties: {} }, true),
      (e) => e instanceof ArmError && e.code === 'InvalidRequestContent' && e.target === 'properties.authMode',
    );
    assert.throws(
      () => validate(schema, { properties: { authMode: 'Key', extra: 1 } }, true),
      (e) => e instanceof ArmError && e.target === 'properties.extra',
    );
  });
  test('open schemas drop unknown fields', () => {
    const open = Type.Object({ a: Type.String() });
    assert.deepEqual(validate(open, { a: 'x', b: 1 }, false), { a: 'x' });
  });
});

describe('configuration', () => {
  test('flags beat environment beats defaults', () => {
    const c = loadConfig(['--port', '9000', '--profile=realistic', '--in-memory'], {
      AMLITE_PORT: '7000',
      AMLITE_HOST: '0.0.0.0',
    });
    assert.equal(c.port, 9000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.profile, 'realistic');
    assert.equal(c.inMemory, true);
  });
  test('bad flags and values say what is wrong', () => {
    assert.throws(
      () => loadConfig(['--nope'], {}),
      (e) => e instanceof ConfigError && /unknown option '--nope'/.test(e.message),
    );
    assert.throws(() => loadConfig(['--port', 'x'], {}), /port number/);
    assert.throws(() => loadConfig(['--profile', 'slow'], {}), /fast, realistic/);
    assert.throws(() => loadConfig(['--cert', 'a.pem'], {}), /--cert and --key go together/);
  });
});

describe('bearer tokens (loose mode)', () => {
  const now = new Date();
  test('users and applications are told apart for systemData', () => {
    assert.deepEqual(authenticate(`Bearer ${devToken({ upn: 'a@b.c' })}`, 'loose', now).type, 'User');
    const app = authenticate(`Bearer ${devToken({ upn: undefined, appid: 'app-1', idtyp: 'app' })}`, 'loose', now);
    assert.equal(app.type, 'Application');
    assert.equal(app.name, 'app-1');
  });
  test('missing, malformed and expired tokens', () => {
    assert.throws(() => authenticate(undefined, 'loose', now), armError('AuthenticationFailed', 401));
    assert.throws(() => authenticate('Bearer abc', 'loose', now), armError('InvalidAuthenticationToken', 401));
    assert.throws(
      () => authenticate(`Bearer ${devToken({ exp: 1 })}`, 'loose', now),
      armError('ExpiredAuthenticationToken', 401),
    );
    assert.equal(authenticate(undefined, 'none', now).name, 'anonymous');
  });
});

describe('ISO 8601 durations', async () => {
  const { parseDuration } = await import('../src/arm/duration.js');
  test('parses what the swagger calls a duration', () => {
    assert.equal(parseDuration('PT5S'), 5000);
    assert.equal(parseDuration('PT1M30S'), 90_000);
    assert.equal(parseDuration('P1DT2H'), 26 * 3_600_000);
    assert.equal(parseDuration('PT0.5S'), 500);
    assert.equal(parseDuration('P1W'), 7 * 86_400_000);
  });
  test('rejects what is not one', () => {
    for (const bad of ['P', 'PT', '5S', 'PT5', 'P1DT', 'xPT5S', '']) assert.ok(Number.isNaN(parseDuration(bad)), bad);
  });
});
