// The README's fenced code blocks and the HTML comment marking each (see test/readme-snippets.test.ts):
//   <!-- not-run: reason -->                 an output sample, a diagram, or a block needing what a test cannot have
//   <!-- snippet: name=N after=M auth=A -->  a runnable block: its name, the block it continues, the server's auth
// The comment is the last non-blank line before the fence.

export interface Snippet {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  notRun?: string;
  name?: string;
  after?: string;
  auth?: string;
}

const FENCE = /^```(\S*)\s*$/;
const NOT_RUN = /^<!--\s*not-run:\s*(.+?)\s*-->$/;
const SNIPPET = /^<!--\s*snippet:\s*(.*?)\s*-->$/;

function markerOf(lines: string[], fenceIndex: number): Partial<Snippet> {
  let i = fenceIndex - 1;
  while (i >= 0 && lines[i].trim() === '') i--;
  const text = i >= 0 ? lines[i].trim() : '';
  const notRun = NOT_RUN.exec(text);
  if (notRun) return { notRun: notRun[1] };
  const snippet = SNIPPET.exec(text);
  if (!snippet) return {};
  const attrs: Record<string, string> = {};
  for (const pair of snippet[1].split(/\s+/).filter(Boolean)) {
    const [key, value] = pair.split('=', 2);
    const known = ['name', 'after', 'auth'].includes(key) && !!value;
    if (!known) throw new Error(`line ${i + 1}: unknown snippet attribute '${pair}'`);
    attrs[key] = value;
  }
  return attrs;
}

/** Every fenced block of a Markdown text, in order, with its marker. */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.trimEnd() === '```');
    if (end < 0) throw new Error(`line ${i + 1}: unclosed code fence`);
    out.push({ line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join('\n'), ...markerOf(lines, i) });
    i = end;
  }
  return out;
}

/** The modules a Python block imports at its top level (`import a, b`, `from a.b import c`). */
export function pythonImports(code: string): string[] {
  const modules = new Set<string>();
  for (const m of code.matchAll(/^(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))/gm)) {
    for (const name of (m[1] ?? m[2]).split(',')) if (name.trim()) modules.add(name.trim().split(/\s+as\s+/)[0]);
  }
  return [...modules];
}

/** GitHub's anchor of a heading. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
