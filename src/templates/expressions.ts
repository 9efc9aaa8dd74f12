/**
 * ARM template expressions: a JSON string "[...]" holds one expression (a "[[" prefix escapes a literal "[").
 * Grammar: expr := primary ( '.' ident | '[' expr ']' )* ; primary := 'string' | integer | name '(' args ')' ;
 * name := ident ( '.' ident )? (a user function's namespace).
 */
import { templateErrors } from './errors.js';
import { TEMPLATE_EXPRESSION_MAX_DEPTH, TEMPLATE_EXPRESSION_MAX_LENGTH } from './limits.js';

export type Node =
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'call'; name: string; args: Node[]; pos: number }
  | { k: 'prop'; target: Node; name: string }
  | { k: 'index'; target: Node; index: Node };

/** The expression inside a template string, or null when the string is a literal (after unescaping "[["). */
export function expressionText(s: string): string | null {
  if (s.length < 2 || s[0] !== '[' || s[s.length - 1] !== ']') return null;
  if (s[1] === '[') return null;
  return s.slice(1, -1);
}

/** The literal value of a string that is not an expression ("[[x]" is the literal "[x]"). */
export function literalOf(s: string): string {
  return s.startsWith('[[') ? s.slice(1) : s;
}

const cache = new Map<string, Node>();
const CACHE_MAX = 5000;

export function parseExpression(text: string): Node {
  const hit = cache.get(text);
  if (hit) return hit;
  if (text.length > TEMPLATE_EXPRESSION_MAX_LENGTH)
    throw templateErrors.limit('expression length', TEMPLATE_EXPRESSION_MAX_LENGTH);
  const node = new Parser(text).parseAll();
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, node);
  return node;
}

type TokKind =
  | 'LeftParenthesis'
  | 'RightParenthesis'
  | 'LeftSquareBracket'
  | 'RightSquareBracket'
  | 'Comma'
  | 'Dot'
  | 'Identifier'
  | 'Literal'
  | 'Integer'
  | 'EndOfData';
interface Tok {
  kind: TokKind;
  text: string;
  pos: number;
}

const PUNCT: Record<string, TokKind> = {
  '(': 'LeftParenthesis',
  ')': 'RightParenthesis',
  '[': 'LeftSquareBracket',
  ']': 'RightSquareBracket',
  ',': 'Comma',
  '.': 'Dot',
};

class Parser {
  private i = 0;
  private tok: Tok;
  private depth = 0;

  constructor(private readonly src: string) {
    this.tok = this.lex();
  }

  parseAll(): Node {
    if (this.tok.kind === 'EndOfData') throw templateErrors.parse(this.src, 'the expression is empty');
    const node = this.expr();
    this.expect('EndOfData');
    return node;
  }

  private expr(): Node {
    if (++this.depth > TEMPLATE_EXPRESSION_MAX_DEPTH)
      throw templateErrors.limit('expression nesting', TEMPLATE_EXPRESSION_MAX_DEPTH);
    let node = this.primary();
    for (;;) {
      if (this.tok.kind === 'Dot') {
        this.next();
        const name = this.expect('Identifier').text;
        node = { k: 'prop', target: node, name };
      } else if (this.tok.kind === 'LeftSquareBracket') {
        this.next();
        const index = this.expr();
        this.expect('RightSquareBracket');
        node = { k: 'index', target: node, index };
      } else break;
    }
    this.depth--;
    return node;
  }

  private primary(): Node {
    const t = this.tok;
    if (t.kind === 'Literal') return (this.next(), { k: 'str', v: t.text });
    if (t.kind === 'Integer') return (this.next(), { k: 'num', v: Number(t.text) });
    if (t.kind !== 'Identifier') throw this.unexpected('Identifier');
    this.next();
    let name = t.text;
    if (this.tok.kind === 'Dot') {
      this.next();
      name += '.' + this.expect('Identifier').text;
    }
    this.expect('LeftParenthesis');
    const args: Node[] = [];
    if (this.tok.kind !== 'RightParenthesis') {
      args.push(this.expr());
      while (this.tok.kind === 'Comma') {
        this.next();
        args.push(this.expr());
      }
    }
    this.expect('RightParenthesis');
    return { k: 'call', name, args, pos: t.pos };
  }

  private expect(kind: TokKind): Tok {
    if (this.tok.kind !== kind) throw this.unexpected(kind);
    const t = this.tok;
    this.next();
    return t;
  }

  private unexpected(kind: TokKind): Error {
    return templateErrors.parse(
      this.src,
      `expected token '${kind}' and actual '${this.tok.kind}' at position '${this.tok.pos}'`,
    );
  }

  private next(): void {
    this.tok = this.lex();
  }

  private lex(): Tok {
    const s = this.src;
    while (this.i < s.length && /\s/.test(s[this.i]!)) this.i++;
    const pos = this.i;
    if (pos >= s.length) return { kind: 'EndOfData', text: '', pos };
    const c = s[pos]!;
    const punct = PUNCT[c];
    if (punct) return (this.i++, { kind: punct, text: c, pos });
    if (c === "'") return this.lexString(pos);
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(s[pos + 1] ?? ''))) {
      this.i++;
      while (this.i < s.length && /[0-9]/.test(s[this.i]!)) this.i++;
      return { kind: 'Integer', text: s.slice(pos, this.i), pos };
    }
    if (/[A-Za-z_$]/.test(c)) {
      while (this.i < s.length && /[A-Za-z0-9_$]/.test(s[this.i]!)) this.i++;
      return { kind: 'Identifier', text: s.slice(pos, this.i), pos };
    }
    throw templateErrors.unexpectedChar(s, c, pos);
  }

  private lexString(pos: number): Tok {
    const s = this.src;
    let out = '';
    this.i = pos + 1;
    for (;;) {
      if (this.i >= s.length)
        throw templateErrors.parse(s, `the string literal at position '${pos}' is not terminated`);
      const c = s[this.i++]!;
      if (c !== "'") out += c;
      else if (s[this.i] === "'") {
        out += "'";
        this.i++;
      } else return { kind: 'Literal', text: out, pos };
    }
  }
}
