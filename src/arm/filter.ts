import type { StoredResource } from '../store/types.js';
import { ArmError } from './errors.js';

/**
 * The `$filter` of ARM's generic resource lists (`/resources` at subscription and resource-group scope), as ARM
 * documents it: `eq` / `ne` on resourceGroup, resourceType, name, location, identity, identity/principalId, plan and
 * plan/{publisher,product,name,version,promotionCode}; `tagName eq 'k' [and tagValue eq 'v']`;
 * `substringof('x', name|resourceGroup)`; `startswith(tagName, 'x')`; joined with `and` (binding tighter) and `or`,
 * parentheses allowed. Names and values compare ignoring case. Anything else is 400 InvalidFilterInQueryString naming
 * the term.
 */

/** A resource as the filter sees it: the stored row and its type's name. */
export type FilterTest = (r: StoredResource, type: string) => boolean;

export interface ResourceFilter {
  test: FilterTest;
  /** A `resourceGroup eq '…'` every match must satisfy: the list may read that group only. */
  resourceGroup?: string;
}

/** The longest `$filter` read; a longer one is refused rather than parsed. */
export const FILTER_MAX_CHARS = 4096;

const EQ_PROPERTIES = [
  'resourcegroup',
  'resourcetype',
  'name',
  'location',
  'identity',
  'identity/principalid',
  'plan',
  'plan/publisher',
  'plan/product',
  'plan/name',
  'plan/version',
  'plan/promotioncode',
];
const SUBSTRING_PROPERTIES = ['name', 'resourcegroup'];

type Token = { kind: 'word' | 'string' | '(' | ')' | ','; text: string };

/** A term of the filter: its test, or a tag half that pairs with its sibling in an `and`. */
type Term =
  | { kind: 'test'; test: FilterTest; group?: string }
  | { kind: 'tagName'; name: string; op: 'eq' | 'ne' }
  | { kind: 'tagValue'; value: string; op: 'eq' | 'ne' };

export function parseResourceFilter(raw: string | null | undefined): ResourceFilter {
  if (!raw?.trim()) return { test: () => true };
  if (raw.length > FILTER_MAX_CHARS) throw invalid(raw, `it is longer than ${FILTER_MAX_CHARS} characters`);
  const parser = new Parser(raw, tokenize(raw));
  const root = parser.or();
  if (!parser.done()) throw invalid(raw, `'${parser.peekText()}' was not expected there`);
  const term = finish(raw, root);
  return { test: term.test, resourceGroup: term.group };
}

function invalid(raw: string, why: string): ArmError {
  return new ArmError(
    400,
    'InvalidFilterInQueryString',
    `Invalid $filter '${raw.slice(0, 300)}' specified in the query string: ${why}. ` +
      'amlite supports eq/ne on resourceGroup, resourceType, name, location, identity, identity/principalId, plan, ' +
      "plan/{publisher,product,name,version,promotionCode}; tagName eq '…' [and tagValue eq '…']; " +
      "substringof('…', name|resourceGroup); startswith(tagName, '…'); joined with 'and' / 'or'.",
    '$filter',
  );
}

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c });
      i++;
    } else if (c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= raw.length) throw invalid(raw, 'a quoted value is not closed');
        if (raw[i] === "'" && raw[i + 1] === "'") {
          text += "'";
          i += 2;
        } else if (raw[i] === "'") {
          i++;
          break;
        } else text += raw[i++];
      }
      tokens.push({ kind: 'string', text });
    } else {
      const m = /^[^\s(),']+/.exec(raw.slice(i))!;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** An `or` of `and`s of terms, each `and` resolved into one test (tag halves paired) when it is finished. */
type Node = { or: Node[] } | { and: Node[] } | Term;

class Parser {
  private at = 0;

  constructor(
    private readonly raw: string,
    private readonly tokens: Token[],
  ) {}

  done = () => this.at >= this.tokens.length;
  peekText = () => this.tokens[this.at]?.text ?? '';

  private next(): Token {
    const t = this.tokens[this.at++];
    if (!t) throw invalid(this.raw, 'it ends too early');
    return t;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw invalid(this.raw, `expected ${what}, found '${t.text}'`);
    return t;
  }

  private isWord(word: string): boolean {
    const t = this.tokens[this.at];
    return t?.kind === 'word' && t.text.toLowerCase() === word;
  }

  or(): Node {
    const parts = [this.and()];
    while (this.isWord('or')) {
      this.at++;
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0] : { or: parts };
  }

  private and(): Node {
    const parts = [this.term()];
    while (this.isWord('and')) {
      this.at++;
      parts.push(this.term());
    }
    return { and: parts };
  }

  private term(): Node {
    const first = this.next();
    if (first.kind === '(') {
      const inner = this.or();
      this.expect(')', "')'");
      return inner;
    }
    if (first.kind !== 'word') throw invalid(this.raw, `'${first.text}' is not a property or function`);
    const name = first.text.toLowerCase();
    if (this.tokens[this.at]?.kind === '(') return this.call(first.text, name);
    const op = this.next().text.toLowerCase();
    if (op !== 'eq' && op !== 'ne') throw invalid(this.raw, `the operator '${op}' is not supported (eq, ne)`);
    const value = this.expect('string', 'a quoted value').text;
    if (name === 'tagname') return { kind: 'tagName', name: value, op };
    if (name === 'tagvalue') return { kind: 'tagValue', value, op };
    if (!EQ_PROPERTIES.includes(name)) throw invalid(this.raw, `the property '${first.text}' cannot be filtered on`);
    const eq = (actual: string | undefined) => equal(name, actual, value);
    const test: FilterTest =
      op === 'eq' ? (r, type) => eq(propertyOf(name, r, type)) : (r, type) => !eq(propertyOf(name, r, type));
    return { kind: 'test', test, group: name === 'resourcegroup' && op === 'eq' ? value : undefined };
  }

  private call(text: string, fn: string): Term {
    this.expect('(', "'('");
    if (fn === 'substringof') {
      const needle = this.expect('string', 'a quoted value').text.toLowerCase();
      this.expect(',', "','");
      const prop = this.expect('word', 'a property').text;
      this.expect(')', "')'");
      if (!SUBSTRING_PROPERTIES.includes(prop.toLowerCase()))
        throw invalid(this.raw, `substringof does not apply to '${prop}' (name, resourceGroup)`);
      const p = prop.toLowerCase();
      return { kind: 'test', test: (r, t) => (propertyOf(p, r, t) ?? '').toLowerCase().includes(needle) };
    }
    if (fn === 'startswith') {
      const prop = this.expect('word', 'a property').text;
      this.expect(',', "','");
      const prefix = this.expect('string', 'a quoted value').text.toLowerCase();
      this.expect(')', "')'");
      if (prop.toLowerCase() !== 'tagname') throw invalid(this.raw, `startswith does not apply to '${prop}' (tagName)`);
      return { kind: 'test', test: (r) => Object.keys(tagsOf(r)).some((k) => k.toLowerCase().startsWith(prefix)) };
    }
    throw invalid(this.raw, `the function '${text}' is not supported (substringof, startswith)`);
  }
}

/** One test for a node: an `and`'s tagName and tagValue read as one tag condition. */
function finish(raw: string, node: Node): { test: FilterTest; group?: string } {
  if ('or' in node) {
    const tests = node.or.map((n) => finish(raw, n).test);
    return { test: (r, t) => tests.some((f) => f(r, t)) };
  }
  const terms = 'and' in node ? node.and : [node];
  const tests: FilterTest[] = [];
  let group: string | undefined;
  let tagName: Extract<Term, { kind: 'tagName' }> | undefined;
  let tagValue: Extract<Term, { kind: 'tagValue' }> | undefined;
  for (const term of terms) {
    if ('or' in term || 'and' in term) {
      tests.push(finish(raw, term).test);
    } else if (term.kind === 'tagName') {
      if (tagName) throw invalid(raw, 'only one tagName may be given per and');
      tagName = term;
    } else if (term.kind === 'tagValue') {
      if (tagValue) throw invalid(raw, 'only one tagValue may be given per and');
      tagValue = term;
    } else {
      tests.push(term.test);
      group ??= term.group;
    }
  }
  if (tagValue && !tagName) throw invalid(raw, "a tagValue term needs a tagName eq '…' term beside it");
  if (tagName) tests.push(tagTest(tagName, tagValue));
  return { test: (r, t) => tests.every((f) => f(r, t)), group };
}

function tagTest(
  name: Extract<Term, { kind: 'tagName' }>,
  value: Extract<Term, { kind: 'tagValue' }> | undefined,
): FilterTest {
  const key = name.name.toLowerCase();
  const want = value?.value.toLowerCase();
  const has = (r: StoredResource) =>
    Object.entries(tagsOf(r)).some(
      ([k, v]) =>
        k.toLowerCase() === key && (want === undefined || (String(v).toLowerCase() === want) === (value!.op === 'eq')),
    );
  return name.op === 'eq' ? has : (r) => !has(r);
}

const tagsOf = (r: StoredResource) => (r.body.tags ?? {}) as Record<string, unknown>;

/** The resource's nested name as the generic lists show it: parent/child. */
export function genericName(id: string): string {
  return id
    .split('/')
    .slice(7)
    .filter((_, i) => i % 2 === 1)
    .join('/');
}

function propertyOf(name: string, r: StoredResource, type: string): string | undefined {
  const body = r.body as {
    location?: string;
    identity?: { type?: string; principalId?: string };
    plan?: Record<string, string | undefined>;
  };
  switch (name) {
    case 'resourcegroup':
      return r.id.split('/')[4];
    case 'resourcetype':
      return type;
    case 'name':
      return genericName(r.id) || r.name;
    case 'location':
      return body.location;
    case 'identity':
      return body.identity?.type;
    case 'identity/principalid':
      return body.identity?.principalId;
    case 'plan':
      return body.plan?.name;
    default:
      return body.plan?.[name.slice('plan/'.length).replace('promotioncode', 'promotionCode')];
  }
}

/** Values compare ignoring case; locations ignoring spaces too; a leaf name matches as well as parent/child. */
function equal(name: string, actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return false;
  const norm = (s: string) => (name === 'location' || name === 'identity' ? s.replace(/\s+/g, '') : s).toLowerCase();
  if (norm(actual) === norm(wanted)) return true;
  return name === 'name' && norm(actual.split('/').at(-1)!) === norm(wanted);
}
