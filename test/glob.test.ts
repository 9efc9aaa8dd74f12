// Globs (catalog entries, test-control rule names): their semantics, and bounded work on hostile input. A regular
// expression used to backtrack: `*a*a*…*b` against a 32-character name took ~9 s, `*embed*` against a 160 KB model id
// seconds. Now a two-pointer matcher; model ids over 1 KB are refused by the data plane, rule globs over 256 chars.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch } from '../src/glob.js';
import { Catalog, MAX_MODEL_ID_CHARS } from '../src/inference/catalog.js';
import { MAX_RULE_GLOB_CHARS, RuleInput, matches, normalizeRule, type Subject } from '../src/control/rules.js';
import { validate } from '../src/arm/schema.js';
import { ArmError } from '../src/arm/errors.js';

/** Runs `fn` and says how long it took; the bounds below are generous (a regex took seconds to minutes). */
function timed<T>(fn: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
}

test('glob semantics: * any run (also empty), ? one character, the rest literal, case-insensitive', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything at all', true],
    ['', '', true],
    ['', 'a', false],
    ['abc', 'abc', true],
    ['abc', 'ABC', true],
    ['ABC', 'abc', true],
    ['abc', 'abcd', false],
    ['abcd', 'abc', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['???', 'abc', true],
    ['???', 'ab', false],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ba', false],
    ['*a', 'ba', true],
    ['*a', 'ab', false],
    ['*embed*', 'text-embedding-3', true],
    ['*EMBED*', 'Text-Embedding-3', true],
    ['*embed*', 'embe', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'aXbYcZ', false],
    ['*a*a*b', 'aaab', true],
    ['*a*a*b', 'aaba', false],
    ['**', 'x', true],
    ['*?*', '', false],
    ['*?*', 'x', true],
    ['doomed-*', 'doomed-1', true],
    ['doomed-*', 'Doomed-', true],
    ['doomed-*', 'not-doomed-1', false],
    // Characters a regular expression would read as syntax are literal.
    ['a.c', 'abc', false],
    ['a.c', 'a.c', true],
    ['(x)+', '(x)+', true],
    ['(x)+', 'xx', false],
    ['[ab]', 'a', false],
    ['^$|\\', '^$|\\', true],
    ['azureml://registries/*/models/*', 'azureml://registries/r/models/m', true],
    ['line*end', 'line\nbreak\nend', true],
  ];
  for (const [pattern, text, expected] of cases) {
    assert.equal(globMatch(pattern, text), expected, `'${pattern}' vs '${text}'`);
  }
});

test('a pathological rule glob against a 32-character name answers at once', () => {
  const pattern = `${'*a'.repeat(12)}*b`;
  const { value, ms } = timed(() => globMatch(pattern, 'a'.repeat(32)));
  assert.equal(value, false);
  assert.ok(ms < 1000, `took ${ms} ms`);
  // Through a rule, as every management request matches it.
  const input = validate<RuleInput>(RuleInput, { kind: 'fail', match: { name: pattern }, error: { code: 'X' } }, true);
  const rule = normalizeRule(input, new Date());
  const subject: Subject = { plane: 'management', type: 'x/y', name: 'a'.repeat(32), method: 'GET', subscription: 's' };
  const viaRule = timed(() => matches(rule, subject));
  assert.equal(viaRule.value, false);
  assert.ok(viaRule.ms < 1000, `took ${viaRule.ms} ms`);
  // The longest glob a rule may hold against a long name: bounded too.
  const longest = timed(() => globMatch(`${'*a'.repeat(MAX_RULE_GLOB_CHARS / 2 - 1)}*b`, 'a'.repeat(4096)));
  assert.equal(longest.value, false);
  assert.ok(longest.ms < 5000, `took ${longest.ms} ms`);
});

test('rule globs longer than the limit are refused (400), at the limit accepted', () => {
  const rule = (name: string) => ({ kind: 'fail', match: { name }, error: { code: 'X' } });
  assert.doesNotThrow(() => validate(RuleInput, rule('*'.repeat(MAX_RULE_GLOB_CHARS)), true));
  assert.throws(
    () => validate(RuleInput, rule('*'.repeat(MAX_RULE_GLOB_CHARS + 1)), true),
    (e) => {
      assert.ok(e instanceof ArmError);
      assert.equal(e.status, 400);
      return true;
    },
  );
});

test("the catalog's `*embed*` against a long model id: bounded, and over 1 KB refused with 400", async () => {
  const catalog = new Catalog({
    models: [
      { match: '*embed*', backend: 'simulated', dimensions: 8 },
      { match: '*', backend: 'simulated' },
    ],
  });
  try {
    const atLimit = `${'x'.repeat(MAX_MODEL_ID_CHARS - 5)}embed`;
    const { value, ms } = timed(() => catalog.backendFor(atLimit));
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.equal(await value, await catalog.backendFor('text-embed'), 'the *embed* entry serves it');
    const huge = 'e'.repeat(160 * 1024);
    const refused = timed(() =>
      catalog.backendFor(huge).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.ok(refused.ms < 1000, `took ${refused.ms} ms`);
    const error = await refused.value;
    assert.ok(error instanceof ArmError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'InvalidModelId');
    assert.equal(error.headers['x-ms-error-code'], 'InvalidModelId', 'the data plane (Azure.Core) error header');
  } finally {
    await catalog.close();
  }
});
