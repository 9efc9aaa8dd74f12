// The generic resource lists' $filter parser (src/arm/filter.ts): ARM's documented terms, case-insensitive, and a
// 400 InvalidFilterInQueryString naming anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILTER_MAX_CHARS, parseResourceFilter } from '../src/arm/filter.js';
import { ArmError } from '../src/arm/errors.js';
import type { StoredResource } from '../src/store/types.js';

const TYPE = 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints';
const ID = `/subscriptions/s/resourceGroups/My-RG/providers/${TYPE.split('/')[0]}/workspaces/ws/serverlessEndpoints/ep-1`;

function row(body: Record<string, unknown>): StoredResource {
  return { key: ID.toLowerCase(), id: ID, name: 'ep-1', body } as unknown as StoredResource;
}
const r = row({
  location: 'westeurope',
  tags: { Team: 'NLP', env: 'dev' },
  identity: { type: 'SystemAssigned', principalId: 'p-1' },
  plan: { name: 'basic', publisher: 'contoso', promotionCode: 'X1' },
});
const matches = (filter: string, res = r) => parseResourceFilter(filter).test(res, TYPE);

test('every documented term, in any case', () => {
  for (const f of [
    "resourceGroup eq 'my-rg'",
    "RESOURCEGROUP EQ 'MY-RG'",
    `resourceType eq '${TYPE.toLowerCase()}'`,
    "name eq 'ws/ep-1'",
    "name eq 'EP-1'",
    "location eq 'West Europe'",
    "tagName eq 'team'",
    "tagName eq 'team' and tagValue eq 'nlp'",
    "startswith(tagName, 'te')",
    "substringof('EP-', name)",
    "substringof('my', resourceGroup)",
    "identity eq 'SystemAssigned'",
    "identity/principalId eq 'p-1'",
    "plan eq 'basic'",
    "plan/publisher eq 'contoso'",
    "plan/promotionCode eq 'x1'",
    "resourceGroup ne 'other'",
    "(substringof('zz', name) or substringof('ep', name)) and location eq 'westeurope'",
  ])
    assert.ok(matches(f), f);
  for (const f of [
    "resourceGroup eq 'other'",
    "tagName eq 'team' and tagValue eq 'cv'",
    "tagName ne 'team'",
    "name eq 'ep'",
    "resourceGroup eq 'my-rg' and location eq 'eastus'",
    "plan/product eq 'x'",
  ])
    assert.ok(!matches(f), f);
});

test("resourceGroup eq in the top-level 'and' narrows the list to that group; under 'or' it does not", () => {
  assert.equal(parseResourceFilter("resourceGroup eq 'rg1' and name eq 'x'").resourceGroup, 'rg1');
  assert.equal(parseResourceFilter("resourceGroup eq 'rg1' or name eq 'x'").resourceGroup, undefined);
  assert.equal(parseResourceFilter("resourceGroup ne 'rg1'").resourceGroup, undefined);
  assert.equal(parseResourceFilter("name eq 'it''s'").test(row({}), TYPE), false, "'' is a quote");
});

test('anything else is 400 InvalidFilterInQueryString naming the term', () => {
  for (const [f, named] of [
    ["kind eq 'x'", "'kind'"],
    ["name gt 'x'", "'gt'"],
    ['plan eq 1', 'quoted value'],
    ["tagValue eq 'x'", 'tagName'],
    ["contains(name, 'x')", "'contains'"],
    ["substringof('x', location)", "'location'"],
    ["name eq 'x' and", 'ends too early'],
    ["name eq 'x", 'not closed'],
    ["name eq 'x' name", "'name'"],
    ['x'.repeat(FILTER_MAX_CHARS + 1), String(FILTER_MAX_CHARS)],
  ]) {
    assert.throws(
      () => parseResourceFilter(f),
      (e: unknown) =>
        e instanceof ArmError &&
        e.status === 400 &&
        e.code === 'InvalidFilterInQueryString' &&
        e.target === '$filter' &&
        e.message.includes(named),
      f.slice(0, 60),
    );
  }
});
