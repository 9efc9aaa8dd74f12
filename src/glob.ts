/** Globs as catalog entries and test-control rules write them: `*` any run, `?` one character, case-insensitive. */
const compiled = new Map<string, RegExp>();

export function globRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    // Rules are matched on every request: compile each pattern once (the set of patterns in use stays small).
    if (compiled.size >= 1000) compiled.clear();
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    compiled.set(pattern, re);
  }
  return re;
}
