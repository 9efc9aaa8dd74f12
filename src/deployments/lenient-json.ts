/**
 * The JSON Azure's deployments endpoints take: Newtonsoft's reader accepts unquoted property names, single-quoted
 * strings, comments and trailing commas, and azure-cli 2.45 relies on it (it splices the template file's raw text
 * into the body as `…, template:{…}}}`). Used on the deployments' PUT, validate and whatIf only; every other route
 * keeps strict JSON. Bounded: the text by DEPLOYMENT_LENIENT_JSON_MAX_CHARS, nesting by MAX_JSON_DEPTH.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../arm/errors.js';
import { BODY_LIMIT, MAX_JSON_DEPTH } from '../pipeline.js';
import type { Json, JsonObject } from '../templates/index.js';

/** The longest text the lenient parser reads (the management plane's request body limit). */
export const DEPLOYMENT_LENIENT_JSON_MAX_CHARS = BODY_LIMIT;

class LenientJsonError extends Error {}

/** Parses `text` as Newtonsoft does (JSON plus unquoted names, single quotes, comments, trailing commas). */
export function parseLenientJson(text: string): Json {
  if (text.length > DEPLOYMENT_LENIENT_JSON_MAX_CHARS)
    throw new LenientJsonError(`The JSON text is longer than ${DEPLOYMENT_LENIENT_JSON_MAX_CHARS} characters.`);
  const p = new Reader(text);
  const value = p.value(0);
  p.skipBlank();
  if (p.pos < text.length) p.fail('Additional text after the JSON value');
  return value;
}

const IDENTIFIER = /[A-Za-z0-9_$]/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new LenientJsonError(`${what} at position ${this.pos}.`);
  }

  skipBlank(): void {
    const t = this.text;
    for (;;) {
      while (this.pos < t.length && /\s/.test(t[this.pos]!)) this.pos++;
      if (t.startsWith('//', this.pos)) {
        const end = t.indexOf('\n', this.pos);
        this.pos = end < 0 ? t.length : end + 1;
      } else if (t.startsWith('/*', this.pos)) {
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('Unterminated comment');
        this.pos = end + 2;
      } else return;
    }
  }

  value(depth: number): Json {
    this.skipBlank();
    const c = this.text[this.pos];
    if ((c === '{' || c === '[') && depth + 1 > MAX_JSON_DEPTH)
      throw new LenientJsonError(
        `The JSON nests more than ${MAX_JSON_DEPTH} levels deep: at most ${MAX_JSON_DEPTH} are allowed.`,
      );
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"' || c === "'") return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    const word = this.word();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return this.fail(word ? 'Unexpected word' : 'Unexpected end or character');
  }

  private object(depth: number): JsonObject {
    this.pos++;
    const out: JsonObject = {};
    for (;;) {
      this.skipBlank();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const c = this.text[this.pos];
      const name = c === '"' || c === "'" ? this.string() : this.word();
      if (!name) this.fail('Expected a property name');
      if (name === '__proto__') this.fail("A '__proto__' member is not allowed");
      this.skipBlank();
      if (this.text[this.pos] !== ':') this.fail("Expected ':' after a property name");
      this.pos++;
      out[name] = this.value(depth);
      this.skipBlank();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("Expected ',' or '}'");
    }
  }

  private array(depth: number): Json[] {
    this.pos++;
    const out: Json[] = [];
    for (;;) {
      this.skipBlank();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return out;
      }
      out.push(this.value(depth));
      this.skipBlank();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== ']') this.fail("Expected ',' or ']'");
    }
  }

  private string(): string {
    const t = this.text;
    const quote = t[this.pos++];
    let out = '';
    for (;;) {
      if (this.pos >= t.length) this.fail('Unterminated string');
      const c = t[this.pos++]!;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = t[this.pos++];
      if (e === 'u') {
        const hex = t.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Bad unicode escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else if (e !== undefined && ESCAPES[e] !== undefined) out += ESCAPES[e];
      else this.fail('Bad escape');
    }
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail('Bad number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private word(): string {
    const start = this.pos;
    while (this.pos < this.text.length && IDENTIFIER.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

/** How deep strict JSON text nests (brackets outside strings). */
function strictDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') max = Math.max(max, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return max;
}

/**
 * Gives `app` (an encapsulated plugin holding only the deployments' PUT, validate and whatIf) the lenient parser:
 * strict JSON.parse first, the lenient reader when that fails.
 */
export function useLenientJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    let strict: unknown;
    try {
      if (!/__proto__|\\u/.test(text) && strictDepth(text) <= MAX_JSON_DEPTH) strict = JSON.parse(text);
    } catch {
      // Not strict JSON: Newtonsoft's dialect below.
    }
    if (strict !== undefined) return done(null, strict);
    try {
      done(null, parseLenientJson(text));
    } catch (e) {
      done(errors.invalidJson((e as Error).message), undefined);
    }
  };
  app.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, parse);
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'string' }, parse);
}
