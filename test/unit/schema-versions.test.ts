// src/arm/schema.ts: "field is required" messages (issue 15 §1), open enums, a version's view of a stored document and
// the merge that keeps what a version does not know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ArmError } from '../../src/arm/errors.js';
import { Enum, Nullable, OpenEnum, ReadOnly, keepUnknown, project, shapes, validate } from '../../src/arm/schema.js';

const { obj } = shapes(true);
const schema = obj({
  location: Type.String({ minLength: 1 }),
  properties: obj({
    authMode: Enum(['Key', 'AAD']),
    mode: OpenEnum(['A', 'B']),
    offer: obj({ publisher: Type.String() }),
    name: Type.String(),
    safety: Nullable(obj({ status: Enum(['On', 'Off']) })),
    extra: Type.Optional(Nullable(obj({ level: Type.String() }))),
    state: ReadOnly(),
  }),
});

function problems(body: unknown): {
  message: string;
  target?: string;
  details?: { message: string; target: string }[];
} {
  try {
    validate(schema, body, true);
  } catch (e) {
    assert.ok(e instanceof ArmError);
    return e.toBody().error as never;
  }
  assert.fail('accepted');
}

test('every kind of missing required field says it is required, with its path as target', () => {
  const error = problems({ location: 'x', properties: { extra: {} } });
  const byTarget = Object.fromEntries((error.details ?? []).map((d) => [d.target, d.message]));
  for (const path of [
    'properties.authMode', // closed enum
    'properties.mode', // open enum
    'properties.offer', // object
    'properties.name', // string
    'properties.safety', // nullable object
    'properties.extra.level', // inside an optional nullable object
  ])
    assert.equal(byTarget[path], `The '${path}' field is required. Path '${path}'.`, JSON.stringify(error));
  assert.ok(!JSON.stringify(error).includes('undefined'), JSON.stringify(error));
  const top = problems({ properties: {} });
  assert.equal(top.target, 'location');
  assert.match(top.message, /The 'location' field is required\./);
});

test('a present value outside a closed enum is still named as such; an open enum takes any string only', () => {
  const body = (p: Record<string, unknown>) => ({
    location: 'x',
    properties: { authMode: 'Key', mode: 'A', offer: { publisher: 'p' }, name: 'n', safety: null, ...p },
  });
  assert.doesNotThrow(() => validate(schema, body({ mode: 'Anything' }), true));
  assert.match(
    problems(body({ authMode: 'Other' })).message,
    /Value 'Other' is not one of the allowed values 'Key', 'AAD'/,
  );
  assert.equal(problems(body({ mode: 3 })).target, 'properties.mode');
});

test('project shows only what the schema declares (read-only and nullable members included), at any depth', () => {
  const stored = {
    location: 'x',
    hidden: 1,
    properties: { authMode: 'Key', state: { deep: true }, safety: { status: 'On', level: 'L' }, offer: null, gone: 2 },
  };
  assert.deepEqual(project(schema, stored), {
    location: 'x',
    properties: { authMode: 'Key', state: { deep: true }, safety: { status: 'On' }, offer: null },
  });
  assert.equal(stored.properties.safety.level, 'L', 'the stored document is not changed');
});

test('keepUnknown puts back the undeclared members inside objects both documents have', () => {
  const stored = { location: 'x', other: { a: 1 }, properties: { safety: { status: 'On', level: 'L' }, gone: 2 } };
  const next: Record<string, any> = { location: 'y', properties: { safety: { status: 'Off' } } };
  keepUnknown(schema, stored, next);
  assert.deepEqual(next, {
    location: 'y',
    other: { a: 1 },
    properties: { safety: { status: 'Off', level: 'L' }, gone: 2 },
  });
  // A declared object the request leaves out (or nulls) takes its undeclared members with it.
  const removed: Record<string, any> = { location: 'y', properties: { safety: null } };
  keepUnknown(schema, stored, removed);
  assert.equal(removed.properties.safety, null);
  stored.other.a = 5;
  assert.equal(next.other.a, 1, 'a copy, not the stored object');
});
