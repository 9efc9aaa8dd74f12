/** .NET composite formatting as ARM's format() does it: {index[,alignment][:formatString]}, "{{" and "}}". */
import type { Json } from './context.js';
import { templateErrors } from './errors.js';

/** How .NET's ToString writes a JSON value (booleans are "True"/"False"; objects and arrays compact JSON). */
export function dotnetString(v: Json): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

function formatNumber(n: number, spec: string): string {
  const m = /^([A-Za-z])(\d{0,2})$/.exec(spec);
  if (!m) return String(n);
  const letter = m[1]!;
  const digits = m[2] ? Number(m[2]) : undefined;
  switch (letter.toUpperCase()) {
    case 'D': {
      const s = Math.abs(Math.trunc(n))
        .toString()
        .padStart(digits ?? 0, '0');
      return n < 0 ? `-${s}` : s;
    }
    case 'X': {
      const s = (n < 0 ? n >>> 0 : n).toString(16).padStart(digits ?? 0, '0');
      return letter === 'X' ? s.toUpperCase() : s;
    }
    case 'N':
      return n.toLocaleString('en-US', { minimumFractionDigits: digits ?? 2, maximumFractionDigits: digits ?? 2 });
    case 'F':
      return n.toFixed(digits ?? 2);
    case 'G':
      return String(n);
    default:
      return String(n);
  }
}

export function dotnetFormat(fmt: string, args: Json[]): string {
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if ((c === '{' || c === '}') && fmt[i + 1] === c) {
      out += c;
      i += 2;
    } else if (c === '}') throw templateErrors.invalidArg('format', 'the format string is not valid.');
    else if (c === '{') {
      const end = fmt.indexOf('}', i);
      const m = end < 0 ? null : /^(\d+)\s*(?:,\s*(-?\d+))?\s*(?::(.*))?$/.exec(fmt.slice(i + 1, end));
      if (!m) throw templateErrors.invalidArg('format', 'the format string is not valid.');
      const index = Number(m[1]);
      if (index >= args.length) {
        throw templateErrors.invalidArg('format', 'the index must be less than the number of arguments.');
      }
      const v = args[index]!;
      let s = typeof v === 'number' && m[3] ? formatNumber(v, m[3]) : dotnetString(v);
      const width = m[2] ? Number(m[2]) : 0;
      s = width < 0 ? s.padEnd(-width) : s.padStart(width);
      out += s;
      i = end + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A subset of .NET date formats for utcNow(format): standard 'u', 's', 'o', 'd', 'D'... and custom patterns. */
export function dotnetDate(d: Date, fmt: string): string {
  const standard: Record<string, string> = {
    u: "yyyy-MM-dd HH:mm:ss'Z'",
    s: 'yyyy-MM-ddTHH:mm:ss',
    o: "yyyy-MM-ddTHH:mm:ss.fffffff'Z'",
    O: "yyyy-MM-ddTHH:mm:ss.fffffff'Z'",
    d: 'M/d/yyyy',
    t: 'h:mm tt',
  };
  const pattern = standard[fmt] ?? fmt;
  const p2 = (n: number, w = 2) => String(n).padStart(w, '0');
  const tokens: Record<string, () => string> = {
    yyyy: () => String(d.getUTCFullYear()),
    yy: () => p2(d.getUTCFullYear() % 100),
    MM: () => p2(d.getUTCMonth() + 1),
    M: () => String(d.getUTCMonth() + 1),
    dd: () => p2(d.getUTCDate()),
    d: () => String(d.getUTCDate()),
    HH: () => p2(d.getUTCHours()),
    H: () => String(d.getUTCHours()),
    hh: () => p2(d.getUTCHours() % 12 || 12),
    h: () => String(d.getUTCHours() % 12 || 12),
    mm: () => p2(d.getUTCMinutes()),
    m: () => String(d.getUTCMinutes()),
    ss: () => p2(d.getUTCSeconds()),
    s: () => String(d.getUTCSeconds()),
    fffffff: () => p2(d.getUTCMilliseconds(), 3) + '0000',
    fff: () => p2(d.getUTCMilliseconds(), 3),
    tt: () => (d.getUTCHours() < 12 ? 'AM' : 'PM'),
  };
  const re = /'[^']*'|yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|fffffff|fff|tt|./g;
  return pattern.replace(re, (t) => (t.startsWith("'") ? t.slice(1, -1) : (tokens[t]?.() ?? t)));
}
