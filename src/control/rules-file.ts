import { readFileSync } from 'node:fs';
import { validate } from '../arm/schema.js';
import { ArmError } from '../arm/errors.js';
import { RuleError, RuleInput, normalizeRule } from './rules.js';
import type { TestControl } from './control.js';

export class RulesFileError extends Error {}

/** `--rules FILE`: a JSON array of rules (or `{ "rules": [...] }`), set at start; rules with the same id are replaced. */
export async function loadRules(control: TestControl, path: string): Promise<number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RulesFileError(`cannot read the rules file ${path}: ${(e as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown })?.rules;
  if (!Array.isArray(list))
    throw new RulesFileError(`the rules file ${path} must hold an array of rules, or {"rules": [...]}`);
  for (const [i, raw] of list.entries()) {
    try {
      await control.rules.put(normalizeRule(validate<RuleInput>(RuleInput, raw, true), new Date()));
    } catch (e) {
      const where =
        e instanceof ArmError || e instanceof RuleError
          ? `${e.message}${e.target ? ` (at ${e.target})` : ''}`
          : (e as Error).message;
      throw new RulesFileError(`rule ${i} in ${path} is invalid: ${where}`);
    }
  }
  return list.length;
}
