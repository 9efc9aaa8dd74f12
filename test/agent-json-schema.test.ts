import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { generateFromSchema, MAX_GENERATED_VALUES } from '../src/inference/json-schema-generate.js';
import { checkSchema } from '../src/inference/json-schema-strict.js';
import { ArmError } from '../src/arm/errors.js';

const ajv = new Ajv({ strict: false, allErrors: true });
ajvFormats.default(ajv);

/** mulberry32, as the simulated backend seeds its answers. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const WORDS = ['alpha', 'beta', 'gamma', 'delta'];

const schemas: Record<string, object> = {
  formats: {
    type: 'object',
    properties: Object.fromEntries(
      ['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'uri'].map((f) => [
        f,
        { type: 'string', format: f },
      ]),
    ),
    required: ['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'uri'],
  },
  numbers: {
    type: 'object',
    required: ['a', 'b', 'c', 'd', 'e'],
    properties: {
      a: { type: 'integer', minimum: -5, maximum: 5 },
      b: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      c: { type: 'integer', multipleOf: 5, minimum: 12, maximum: 40 },
      d: { type: 'number', minimum: 1e6 },
      e: { type: 'integer', exclusiveMaximum: -10 },
    },
  },
  composed: {
    type: 'object',
    required: ['choice', 'all', 'tuple', 'konst', 'nullable', 'pattern', 'sized', 'set'],
    properties: {
      choice: {
        anyOf: [
          { type: 'string', enum: ['x', 'y'] },
          { type: 'integer', minimum: 100 },
        ],
      },
      all: {
        allOf: [
          { type: 'object', properties: { p: { type: 'string' } }, required: ['p'] },
          { properties: { q: { type: 'boolean' } }, required: ['q'] },
        ],
      },
      tuple: { type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false },
      konst: { const: { fixed: [1, 2] } },
      nullable: { type: ['integer', 'null'] },
      pattern: { type: 'string', pattern: '^[A-Z]+$' },
      sized: { type: 'string', minLength: 30, maxLength: 40 },
      set: { type: 'array', items: { type: 'boolean' }, uniqueItems: true, minItems: 2, maxItems: 2 },
    },
  },
  recursive: {
    type: 'object',
    required: ['root'],
    additionalProperties: false,
    properties: { root: { $ref: '#/$defs/node' } },
    $defs: {
      node: {
        type: 'object',
        additionalProperties: false,
        required: ['value', 'next'],
        properties: { value: { type: 'string' }, next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } },
      },
    },
  },
};

test('generated values are valid against their schema, for many seeds, and the same seed gives the same value', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    const check = ajv.compile(schema);
    for (let seed = 0; seed < 200; seed++) {
      const v = generateFromSchema(schema as Record<string, unknown>, seeded(seed), WORDS, name);
      assert.ok(check(v), `${name} seed ${seed}: ${JSON.stringify(v)} ${ajv.errorsText(check.errors)}`);
      assert.deepEqual(generateFromSchema(schema as Record<string, unknown>, seeded(seed), WORDS, name), v);
    }
  }
});

test('a strict schema that keeps the rules is accepted (recursive $defs, anyOf, nullable types, formats)', () => {
  assert.doesNotThrow(() => checkSchema(schemas.recursive, "response_format 'r'", true));
});

test('a schema that needs more values than the limit answers 400 instead of working without end', () => {
  const huge = {
    type: 'object',
    required: ['a'],
    properties: { a: { type: 'array', minItems: MAX_GENERATED_VALUES + 1, items: { type: 'string' } } },
  };
  assert.throws(
    () => generateFromSchema(huge, seeded(1), WORDS, 'x'),
    (e) => e instanceof ArmError && e.status === 400,
  );
  const wide = { type: 'array', minItems: 200, items: { type: 'array', minItems: 200, items: { type: 'integer' } } };
  assert.throws(() => generateFromSchema(wide, seeded(1), WORDS, 'x'), /more than 10000 values/);
  const endless = { type: 'object', required: ['n'], properties: { n: { $ref: '#' } } };
  assert.throws(() => generateFromSchema(endless, seeded(1), WORDS, 'x'), /no instance of finite depth|more than/);
});
