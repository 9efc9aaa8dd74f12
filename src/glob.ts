/**
 * Globs as catalog entries and test-control rules write them: `*` any run (also empty), `?` one character,
 * everything else literal, case-insensitive.
 *
 * Matched with two pointers instead of a regular expression: a regex engine backtracks, so `*a*a*a…b` against a
 * short name, or `*embed*` against a long one, took seconds. Here a mismatch only moves the last `*` on by one
 * character: time is bounded by pattern length × text length, with no recursion and no allocation beyond the
 * lower-cased copies.
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1; // the pattern index just after the last `*` seen
  let resume = 0; // where in the text that `*` currently stops swallowing
  while (ti < t.length) {
    if (pi < p.length && p[pi] === '*') {
      star = ++pi;
      resume = ti;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (star >= 0) {
      pi = star;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
