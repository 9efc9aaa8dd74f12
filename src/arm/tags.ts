import { ArmError } from './errors.js';

const FORBIDDEN_KEY = /[<>%&\\?/]/;

/** ARM's limits on tags: at most 50, keys up to 512 characters without < > % & \ ? /, values up to 256. */
export function checkTags(tags: unknown): void {
  if (tags === undefined || tags === null) return;
  const entries = Object.entries(tags as Record<string, unknown>);
  const bad = (message: string, target = 'tags') => new ArmError(400, 'InvalidTag', message, target);
  if (entries.length > 50) throw bad(`The resource has ${entries.length} tags; at most 50 are allowed.`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 512)
      throw bad(`The tag name '${k.slice(0, 40)}' must be 1 to 512 characters long.`, `tags.${k}`);
    if (FORBIDDEN_KEY.test(k))
      throw bad(`The tag name '${k}' has a character that is not allowed: < > % & \\ ? /.`, `tags.${k}`);
    if (typeof v === 'string' && v.length > 256)
      throw bad(`The value of tag '${k}' is longer than 256 characters.`, `tags.${k}`);
  }
}
