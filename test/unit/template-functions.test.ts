import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  armGuid,
  evaluateString,
  prepareTemplate,
  Scope,
  TEMPLATE_FUNCTIONS,
  uniqueString,
} from '../../src/templates/index.js';
import { fakeContext, RG, SUB } from './template-fixtures.js';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const template = prepareTemplate(
  {
    $schema: SCHEMA,
    contentVersion: '1.0.0.0',
    resources: [],
    parameters: { o: { type: 'object', defaultValue: { b: 2, a: 1 } }, xs: { type: 'array', defaultValue: [3, 1, 2] } },
  },
  fakeContext(),
);
const scope = new Scope((template as unknown as { env: Scope['env'] }).env, 'resource');
const ev = (s: string, sc = scope) => evaluateString(`[${s}]`, sc);

// Published values. uniqueString: uniquestring.sh's self-test ("verified against Bicep uniqueString() output") and
// Azure/terraform-provider-azapi's unique_string_function_test.go (Microsoft's port of ARM's function).
const UNIQUE_STRING_VECTORS: [string[], string][] = [
  [['test'], 'rbgf3xv4ufgzg'],
  [['hello', 'world'], 'a7wkljktk6wne'],
  [['abc'], 'cgtzqvhu4i23s'],
  [['/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg'], 'bmg7c6xu4tw46'],
  [['foo', 'bar', 'baz'], 'xzi4ioaxtmth4'],
  [['/subscriptions/00000000-0000-0000-0000-000000000000', 'resource-id'], 'cwvxuqg24sifi'],
];
// guid: RFC 4122 v5 in namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830 of the '-'-joined arguments (Microsoft Docs'
// guid remark, Bicep's getRoleAssignmentName PR #20293, AVM's Terraform role assignments use uuidv5 with the same
// namespace). Values computed with Python's uuid.uuid5, an independent implementation.
const GUID_VECTORS: [string[], string][] = [[['a', 'b', 'c'], 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8']];

test("uniqueString and guid give Azure's values", () => {
  for (const [args, want] of UNIQUE_STRING_VECTORS) assert.equal(uniqueString(args), want, args.join(','));
  for (const [args, want] of GUID_VECTORS) assert.equal(armGuid(args), want);
  assert.equal(ev("uniqueString('hello', 'world')"), 'a7wkljktk6wne');
  assert.equal(ev("guid('a', 'b', 'c')"), 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8');
  assert.throws(() => ev('uniqueString(1)'), /expects its parameter\(s\) to be of type 'String'/);
});

const CASES: [string, unknown][] = [
  ["parameters('o').a", 1],
  ["concat('a', 'b', 1)", 'ab1'],
  ['concat(createArray(1), createArray(2, 3))', [1, 2, 3]],
  ["format('{0}-{1:D3}-{2}-{{x}}-{3,4}|{4:X}', 'a', 7, true(), 'r', 255)", 'a-007-True-{x}-   r|FF'],
  ['string(true())', 'True'],
  ["string(createObject('a', 1))", '{"a":1}'],
  ['string(5)', '5'],
  ["int('42')", 42],
  ["bool('TRUE')", true],
  ['bool(0)', false],
  ['json(\'{"a":[1]}\').a[0]', 1],
  ["json('null')", null],
  ["base64('hi')", 'aGk='],
  ["base64ToString('aGk=')", 'hi'],
  ["base64ToJson('eyJhIjoxfQ==').a", 1],
  ["toLower('AbC')", 'abc'],
  ["toUpper('AbC')", 'ABC'],
  ["substring('hello', 1, 3)", 'ell'],
  ["substring('hello', 2)", 'llo'],
  ["replace('a-b-c', '-', '')", 'abc'],
  ["split('a,b;c', createArray(',', ';'))", ['a', 'b', 'c']],
  ["join(createArray('a', 'b'), '-')", 'a-b'],
  ["trim('  x ')", 'x'],
  ["startsWith('Hello', 'he')", true],
  ["endsWith('Hello', 'LO')", true],
  ["indexOf('Hello', 'L')", 2],
  ["lastIndexOf('Hello', 'l')", 3],
  ['indexOf(createArray(1, 2), 2)', 1],
  ["padLeft('7', 3, '0')", '007'],
  ["length('abc')", 3],
  ['length(createArray(1, 2))', 2],
  ["length(parameters('o'))", 2],
  ['empty(createArray())', true],
  ["empty('')", true],
  ['empty(null())', true],
  ["contains('Hello', 'ell')", true],
  ["contains(parameters('o'), 'A')", true],
  ['contains(createArray(1, 2), 3)', false],
  ["union(createObject('a', createObject('x', 1)), createObject('a', createObject('y', 2)))", { a: { x: 1, y: 2 } }],
  ['union(createArray(1, 2), createArray(2, 3))', [1, 2, 3]],
  ["intersection(createObject('a', 1, 'b', 2), createObject('a', 1, 'b', 3))", { a: 1 }],
  ['intersection(createArray(1, 2, 3), createArray(3, 2))', [2, 3]],
  ["createObject('k', 'v')", { k: 'v' }],
  ['createArray(1, 2)', [1, 2]],
  ['first(createArray(1, 2))', 1],
  ["first('ab')", 'a'],
  ['last(createArray(1, 2))', 2],
  ['take(createArray(1, 2, 3), 2)', [1, 2]],
  ["skip('abc', 1)", 'bc'],
  ['range(5, 3)', [5, 6, 7]],
  [
    "items(parameters('o'))",
    [
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ],
  ],
  ["if(equals(1, 1), 'yes', fail('never evaluated'))", 'yes'],
  ["equals(createObject('a', createArray(1)), createObject('a', createArray(1)))", true],
  ['not(false())', true],
  ['and(true(), false())', false],
  ['or(false(), true())', true],
  ['coalesce(null(), null(), 3)', 3],
  ['greater(2, 1)', true],
  ["greaterOrEquals('b', 'b')", true],
  ['less(1, 2)', true],
  ['lessOrEquals(3, 2)', false],
  ['add(1, 2)', 3],
  ['sub(1, 2)', -1],
  ['mul(3, 4)', 12],
  ['div(7, 2)', 3],
  ['div(-7, 2)', -3],
  ['mod(7, 3)', 1],
  ['min(3, 1, 2)', 1],
  ["max(parameters('xs'))", 3],
  ["filter(parameters('xs'), lambda('x', greater(lambdaVariables('x'), 1)))", [3, 2]],
  ["map(parameters('xs'), lambda('x', 'i', add(lambdaVariables('x'), lambdaVariables('i'))))", [3, 2, 4]],
  ["reduce(parameters('xs'), 10, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))", 16],
  ["sort(parameters('xs'), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))", [1, 2, 3]],
  [
    "toObject(createArray('a', 'b'), lambda('k', lambdaVariables('k')), lambda('k', toUpper(lambdaVariables('k'))))",
    { a: 'A', b: 'B' },
  ],
  ["groupBy(createArray('ab', 'ac', 'b'), lambda('s', first(lambdaVariables('s'))))", { a: ['ab', 'ac'], b: ['b'] }],
  ["mapValues(parameters('o'), lambda('v', mul(lambdaVariables('v'), 10)))", { b: 20, a: 10 }],
  ["tryGet(parameters('o'), 'zz')", null],
  ["objectKeys(parameters('o'))", ['b', 'a']],
  ["shallowMerge(createArray(createObject('a', 1), createObject('b', 2)))", { a: 1, b: 2 }],
  ['indexFromEnd(createArray(1, 2, 3), 1)', 3],
  ['flatten(createArray(createArray(1), createArray(2)))', [1, 2]],
  ["uriComponent('a b')", 'a%20b'],
  ["uri('https://x.test/a/', 'b')", 'https://x.test/a/b'],
  [
    "resourceId('Microsoft.Storage/storageAccounts', 'st1')",
    `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/st1`,
  ],
  [
    "resourceId('otherRg', 'Microsoft.Network/virtualNetworks/subnets', 'vnet', 'sn')",
    `/subscriptions/${SUB}/resourceGroups/otherRg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/sn`,
  ],
  ["resourceId('s2', 'rg2', 'A.B/c', 'n')", '/subscriptions/s2/resourceGroups/rg2/providers/A.B/c/n'],
  [
    "subscriptionResourceId('Microsoft.Resources/resourceGroups', 'g')",
    `/subscriptions/${SUB}/providers/Microsoft.Resources/resourceGroups/g`,
  ],
  [
    "tenantResourceId('Microsoft.Management/managementGroups', 'mg')",
    '/providers/Microsoft.Management/managementGroups/mg',
  ],
  [
    "extensionResourceId('/subscriptions/s/resourceGroups/g/providers/A.B/c/n', 'Microsoft.Authorization/locks', 'l')",
    '/subscriptions/s/resourceGroups/g/providers/A.B/c/n/providers/Microsoft.Authorization/locks/l',
  ],
  ['resourceGroup().location', 'eastus'],
  ['subscription().subscriptionId', SUB],
  ['tenant().countryCode', 'US'],
  ['deployment().name', 'dep1'],
  ['environment().suffixes.storage', 'core.windows.net'],
  ['true()', true],
];

test('every function of the library', () => {
  for (const [expr, want] of CASES) assert.deepEqual(ev(expr), want, expr);
  const covered = new Set(CASES.flatMap(([e]) => [...e.matchAll(/([A-Za-z0-9]+)\(/g)].map((m) => m[1]!.toLowerCase())));
  for (const name of [
    'copyindex',
    'reference',
    'list*',
    'newguid',
    'utcnow',
    'lambda',
    'lambdavariables',
    'parameters',
    'variables',
    'uniquestring',
    'guid',
    'false',
    'null',
    'array',
    'trydexfromend',
    'tryindexfromend',
    'datauri',
    'uricomponenttostring',
    'managementgroupresourceid',
  ])
    covered.add(name);
  const missing = TEMPLATE_FUNCTIONS.filter((f) => !covered.has(f));
  assert.deepEqual(missing, [], 'functions without a case');
});

test('copyIndex, newGuid/utcNow placement, reference and list* defer until the context answers', () => {
  assert.equal(ev('copyIndex(1)', scope.withCopy('loop', 2, true)), 3);
  assert.equal(ev("copyIndex('loop', 1)", scope.withCopy('loop', 2, true)), 3);
  assert.throws(() => ev('copyIndex()'), /The template function 'copyIndex' is not expected at this location/);
  assert.throws(
    () => ev('newGuid()'),
    /The template function 'newGuid' is not expected at this location\. The function can only be used with parameter default values/,
  );
  assert.equal(ev("utcNow('yyyyMMddTHHmmssZ')", scope.at('parameterDefault')), '20250102T030405Z');
  assert.equal(ev("utcNow('u')", scope.at('parameterDefault')), '2025-01-02 03:04:05Z');
  assert.equal(ev('newGuid()', scope.at('parameterDefault')), '11111111-2222-3333-4444-555555555555');
  const deferred = ev("concat(reference('/subscriptions/x/providers/A.B/c/n').endpoint, '/v1')");
  assert.equal(deferred?.constructor.name, 'Deferred');
  assert.equal(
    ev("listKeys('/subscriptions/x/providers/A.B/c/n', '2024-01-01').primaryKey")?.constructor.name,
    'Deferred',
  );
});

test('bounds: range, copy count and evaluation budget', () => {
  assert.throws(() => ev('range(0, 10001)'), /no greater than '10000'/);
  assert.throws(() => ev('div(1, 0)'), /divisor cannot be zero/);
  assert.throws(
    () => ev("bool('maybe')"),
    /The template language function 'bool' was invoked with a parameter that is not valid/,
  );
  assert.throws(
    () => ev("map(range(0, 2), lambda('x', createArray(lambda('y', 1))))"),
    /cannot use a lambda function here/,
  );
});
