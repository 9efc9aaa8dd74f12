import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresUnavailable } from './postgres.js';

/**
 * A suite that needs PostgreSQL: skipped with the reason when the server binaries are missing, and failing in CI
 * (CI=true), where they must be there; otherwise `body` declares the suite's tests.
 */
export function describeWithPostgres(name: string, body: () => void): void {
  const unavailable = postgresUnavailable();
  describe(name, { skip: unavailable && 'skip' in unavailable ? unavailable.skip : false }, () => {
    if (unavailable) {
      test('PostgreSQL is available', () => assert.fail('fail' in unavailable ? unavailable.fail : unavailable.skip));
      return;
    }
    body();
  });
}
