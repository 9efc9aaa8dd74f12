import assert from 'node:assert/strict';
import { errorOf } from './harness.js';

/** A response as the raw helpers return it: the parsed body under `json` (raw-http) or `body` (armFetch). */
type Answer = { status: number; json?: any; body?: any; headers?: Headers | Record<string, string> };

/**
 * Asserts ARM's error envelope: the status, `error.code`, a non-empty `error.message`, and `error.target` when given;
 * with fetch's headers, a JSON content type. `what` names the case in failure messages.
 */
export function assertArmError(
  res: Answer,
  status: number,
  code: string,
  opts: { target?: string; what?: string } = {},
): void {
  const body = 'json' in res && res.json !== undefined ? res.json : res.body;
  const shown = `${opts.what ? `${opts.what}: ` : ''}status ${res.status}, body ${JSON.stringify(body)?.slice(0, 1500)}`;
  assert.equal(res.status, status, `expected ${status} ${code}, got ${shown}`);
  assert.equal(typeof body?.error, 'object', `ARM error envelope expected: ${shown}`);
  assert.equal(body.error.code, code, `expected error.code ${code}: ${shown}`);
  assert.equal(typeof body.error.message, 'string', shown);
  assert.ok(body.error.message.length > 0, `error.message is not empty: ${shown}`);
  if (opts.target !== undefined) assert.equal(body.error.target, opts.target, `error.target: ${shown}`);
  if (res.headers instanceof Headers) assert.match(res.headers.get('content-type') ?? '', /application\/json/);
}

/** Awaits an SDK call that must fail with HTTP `statusCode` (and `code`); returns the error's message. */
export async function expectRestError(promise: Promise<unknown>, statusCode: number, code?: string): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const e = errorOf(err);
    const want = `HTTP ${statusCode}${code ? ` ${code}` : ''}`;
    assert.equal(e.statusCode, statusCode, `expected ${want}, got ${e.statusCode} ${e.code}: ${e.message}`);
    if (code) assert.equal(e.code, code, `expected error code ${code}, got ${e.code}: ${e.message}`);
    return e.message;
  }
  return assert.fail(`expected HTTP ${statusCode}${code ? ` ${code}` : ''}, but the call succeeded`);
}
