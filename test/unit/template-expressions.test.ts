import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateString,
  parseExpression,
  prepareTemplate,
  Scope,
  TEMPLATE_EXPRESSION_MAX_LENGTH,
  TEMPLATE_EXPRESSION_MAX_DEPTH,
} from '../../src/templates/index.js';
import { fakeContext } from './template-fixtures.js';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
function scopeWith(parameters: Record<string, unknown> = {}, variables: Record<string, unknown> = {}): Scope {
  const defs = Object.fromEntries(
    Object.entries(parameters).map(([k, v]) => [
      k,
      {
        type:
          typeof v === 'number'
            ? 'int'
            : Array.isArray(v)
              ? 'array'
              : typeof v === 'object'
                ? 'object'
                : typeof v === 'boolean'
                  ? 'bool'
                  : 'string',
        defaultValue: v,
      },
    ]),
  );
  const t = prepareTemplate(
    { $schema: SCHEMA, contentVersion: '1.0.0.0', parameters: defs, variables, resources: [] } as never,
    fakeContext(),
  );
  return new Scope((t as unknown as { env: Scope['env'] }).env, 'resource');
}
const ev = (s: string, scope = scopeWith()) => evaluateString(s, scope);

test('literals, escapes and the [[ prefix', () => {
  assert.equal(ev('plain'), 'plain');
  assert.equal(ev('[[notAnExpression]'), '[notAnExpression]');
  assert.equal(ev("['it''s']"), "it's");
  assert.equal(ev('[42]'), 42);
  assert.equal(ev('[-7]'), -7);
  assert.equal(ev("[ concat( 'a' , 'b' ) ]"), 'ab');
});

test('property access, indexing and nested calls', () => {
  const s = scopeWith({ o: { a: { b: [10, 20, { c: 'deep' }] } } });
  assert.equal(ev("[parameters('o').a.b[1]]", s), 20);
  assert.equal(ev("[parameters('o')['a'].b[2].c]", s), 'deep');
  assert.equal(ev("[parameters('O').A.B[2].C]", s), 'deep', 'names and properties are case-insensitive');
  assert.equal(ev("[toUpper(concat(parameters('o').a.b[2].c, string(add(1, 2))))]", s), 'DEEP3');
  assert.equal(ev("[createObject('k', createArray(1, 2)).k[1]]", s), 2);
});

test('syntax errors name the expression and the position', () => {
  assert.throws(
    () => parseExpression("concat('a'"),
    /Unable to parse language expression 'concat\('a'': expected token 'RightParenthesis' and actual 'EndOfData' at position '10'/,
  );
  assert.throws(
    () => parseExpression("concat('a',,)"),
    /expected token 'Identifier' and actual 'Comma' at position '11'/,
  );
  assert.throws(
    () => parseExpression("concat('a') 'b'"),
    /expected token 'EndOfData' and actual 'Literal' at position '12'/,
  );
  assert.throws(
    () => parseExpression("concat('a' # 'b')"),
    /The language expression 'concat\('a' # 'b'\)' is not valid: the string character '#' at position '11' is not expected/,
  );
  assert.throws(() => parseExpression("'unterminated"), /the string literal at position '0' is not terminated/);
});

test('unknown functions and type errors are ARM messages', () => {
  assert.throws(
    () => ev("[foo('x')]"),
    /The template function 'foo' is not valid\. Please see https:\/\/aka\.ms\/arm-template-expressions/,
  );
  assert.throws(
    () => ev('[length(1)]'),
    /The template language function 'length' expects its parameter to be an array, an object, or a string\. The provided value is of type 'Integer'\./,
  );
  assert.throws(
    () => ev("[add('a', 1)]"),
    /The template language function 'add' expects its parameter\(s\) to be of type 'Integer'. The provided value is of type 'String'/,
  );
  assert.equal(ev('[concat()]x'), '[concat()]x', 'not closed by ]: a literal');
  assert.throws(() => ev("[substring('abc', 1, 5)]"), /Unable to evaluate template language function 'substring'/);
  assert.throws(
    () => ev("[createObject('a', 1).b]"),
    /The language expression property 'b' doesn't exist, available properties are 'a'/,
  );
  assert.throws(() => ev('[createArray(1)[3]]'), /array index '3' is out of bounds/);
  assert.throws(() => ev('[toLower()]'), /must have at least '1' parameter/);
});

test('bounds: expression length and nesting', () => {
  assert.throws(
    () => parseExpression(`'${'a'.repeat(TEMPLATE_EXPRESSION_MAX_LENGTH)}'`),
    /expression length exceeds the limit of '24576'/,
  );
  const deep =
    'not('.repeat(TEMPLATE_EXPRESSION_MAX_DEPTH + 1) + 'true()' + ')'.repeat(TEMPLATE_EXPRESSION_MAX_DEPTH + 1);
  assert.throws(() => parseExpression(deep), /expression nesting exceeds the limit of '64'/);
});
