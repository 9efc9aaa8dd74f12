import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ManagementHooks } from '../arm/hooks.js';
import type { DataPlaneHooks } from '../inference/serving.js';
import type { OperationRecord, Store } from '../store/types.js';
import { ArmError } from '../arm/errors.js';
import { parseDuration } from '../arm/duration.js';
import { RuleBook, matches, windowMs, type Rule, type Subject } from './rules.js';

/** The operation never finishes by itself: far beyond any timer, until released. */
export const HELD = Number.MAX_SAFE_INTEGER;

const KIND_OF_METHOD: Record<string, 'reads' | 'writes' | 'deletes'> = {
  GET: 'reads',
  HEAD: 'reads',
  PUT: 'writes',
  PATCH: 'writes',
  POST: 'writes',
  DELETE: 'deletes',
};

/**
 * Applies the test-control rules where the server does its work: before a request is handled (sync failures,
 * throttles), when a long-running operation starts (async failures, holds), and after a data-plane response
 * (token budgets). Every effect is logged.
 */
export class TestControl {
  readonly rules: RuleBook;

  constructor(
    store: Store,
    private readonly log: FastifyBaseLogger,
    random?: () => number,
  ) {
    this.rules = new RuleBook(store, random);
  }

  private hit(rule: Rule, s: Subject, effect: string): void {
    this.log.info(
      {
        rule: rule.id,
        kind: rule.kind,
        effect,
        plane: s.plane,
        type: s.type,
        name: s.name,
        method: s.method,
        action: s.action,
      },
      'test-control rule applied',
    );
  }

  /** Sync failures and throttles of the management plane; returns rate-limit headers for the response. */
  async beforeManagementRequest(s: Subject, now: number): Promise<Record<string, string>> {
    const fail = await this.rules.take('fail', s, (r) => (r.mode ?? 'sync') === 'sync');
    if (fail) {
      this.hit(fail, s, `answered ${fail.error!.status ?? 400} ${fail.error!.code}`);
      throw injectedError(fail);
    }
    const headers: Record<string, string> = {};
    const kind = KIND_OF_METHOD[s.method] ?? 'reads';
    for (const rule of await this.rules.list()) {
      if (rule.kind !== 'throttle' || rule.limit === undefined || !matches(rule, s)) continue;
      const win = windowMs(rule);
      const { used, resetSeconds } = await this.rules.count(rule, `${s.subscription}:${kind}`, 1, win, now);
      const remaining = Math.max(0, rule.limit - used);
      headers[`x-ms-ratelimit-remaining-subscription-${kind}`] = String(remaining);
      if (used > rule.limit) {
        this.hit(rule, s, `throttled ${kind}`);
        throw new ArmError(
          429,
          'SubscriptionRequestsThrottled',
          `Number of '${kind.slice(0, -1)}' requests for subscription '${s.subscription}' exceeded ${rule.limit} per ${rule.window ?? 'PT1M'}. Please try again after '${resetSeconds}' seconds.`,
          undefined,
          undefined,
          { 'retry-after': String(resetSeconds), [`x-ms-ratelimit-remaining-subscription-${kind}`]: '0' },
        );
      }
    }
    return headers;
  }

  /** Sync failures and request/token budgets of the data plane; returns the x-ratelimit-* headers. */
  async beforeDataRequest(s: Subject, endpointKey: string, now: number): Promise<Record<string, string>> {
    const fail = await this.rules.take('fail', s);
    if (fail) {
      this.hit(fail, s, `answered ${fail.error!.status ?? 400} ${fail.error!.code}`);
      throw injectedError(fail, true);
    }
    const headers: Record<string, string> = {};
    for (const rule of await this.rules.list()) {
      if (rule.kind !== 'throttle' || !matches(rule, s)) continue;
      if (rule.limit !== undefined) {
        const { used, resetSeconds } = await this.rules.count(rule, `${endpointKey}:requests`, 1, windowMs(rule), now);
        headers['x-ratelimit-remaining-requests'] = String(Math.max(0, rule.limit - used));
        if (used > rule.limit) throw this.dataThrottled(rule, s, 'requests', resetSeconds);
      }
      if (rule.tokensPerMinute !== undefined) {
        const used = await this.rules.peek(rule, `${endpointKey}:tokens`, 60_000, now);
        headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, rule.tokensPerMinute - used));
        if (used >= rule.tokensPerMinute)
          throw this.dataThrottled(rule, s, 'tokens', Math.max(1, Math.ceil((60_000 - (now % 60_000)) / 1000)));
      }
    }
    return headers;
  }

  /** Charges the tokens a data-plane response used against the endpoint's token budgets. */
  async afterDataResponse(s: Subject, endpointKey: string, tokens: number, now: number): Promise<void> {
    for (const rule of await this.rules.list()) {
      if (rule.kind === 'throttle' && rule.tokensPerMinute !== undefined && matches(rule, s))
        await this.rules.count(rule, `${endpointKey}:tokens`, tokens, 60_000, now);
    }
  }

  private dataThrottled(rule: Rule, s: Subject, what: string, seconds: number): ArmError {
    this.hit(rule, s, `throttled ${what}`);
    return new ArmError(
      429,
      'RateLimitExceeded',
      `Rate limit of ${what} per ${what === 'tokens' ? 'minute' : (rule.window ?? 'PT1M')} exceeded for the endpoint '${s.name}'. Try again in ${seconds} seconds.`,
      undefined,
      undefined,
      {
        'x-ms-error-code': 'RateLimitExceeded',
        'retry-after': String(seconds),
        'retry-after-ms': String(seconds * 1000),
      },
    );
  }

  /**
   * An operation is starting: a matching async failure makes it end Failed with the rule's error; a matching delay
   * holds it for the rule's duration, or until released.
   */
  async onOperationStart(op: OperationRecord, s: Subject): Promise<void> {
    const fail = await this.rules.take('fail', s, (r) => r.mode === 'async');
    if (fail) {
      this.hit(fail, s, `operation ${op.id} will fail with ${fail.error!.code}`);
      op.failWith = {
        code: fail.error!.code,
        message: fail.error!.message ?? `Injected failure (amlite rule '${fail.id}').`,
      };
    }
    const delay = await this.rules.take('delay', s);
    if (delay) {
      const ms = delay.duration ? parseDuration(delay.duration) : undefined;
      this.hit(
        delay,
        s,
        ms ? `operation ${op.id} held for ${delay.duration}` : `operation ${op.id} held until released`,
      );
      op.dueAt = ms ? Date.parse(op.startTime) + ms : HELD;
      op.heldBy = delay.id;
    }
  }
}

function injectedError(rule: Rule, dataPlane = false): ArmError {
  const e = rule.error!;
  const headers: Record<string, string> = {};
  if (rule.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(rule.retryAfterSeconds);
    if (dataPlane) headers['retry-after-ms'] = String(rule.retryAfterSeconds * 1000);
  }
  if (dataPlane) headers['x-ms-error-code'] = e.code;
  return new ArmError(
    e.status ?? 400,
    e.code,
    e.message ?? `Injected failure (amlite rule '${rule.id}').`,
    undefined,
    undefined,
    headers,
  );
}

/**
 * Test control as a Fastify plugin: it plugs into the management plane's two hooks (before a request, when an
 * operation starts) and the data plane's (before a request, after a response). Neither plane knows it is there.
 */
export async function testControlPlugin(
  _app: FastifyInstance,
  o: { control: TestControl; management: ManagementHooks; dataPlane: DataPlaneHooks },
): Promise<void> {
  const { control, management, dataPlane } = o;
  management.beforeRequest.push((s, now) => control.beforeManagementRequest(s, now));
  management.onOperationStart.push((op, s) => control.onOperationStart(op, s));
  dataPlane.beforeRequest.push((s, key, now) => control.beforeDataRequest(s, key, now));
  dataPlane.afterResponse.push((s, key, tokens, now) => control.afterDataResponse(s, key, tokens, now));
}
