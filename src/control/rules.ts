import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { CounterKey, RuleRecord, Store } from '../store/types.js';
import { Enum } from '../arm/schema.js';
import { parseDuration } from '../arm/duration.js';
import { globMatch } from '../glob.js';

/**
 * Test-control rules: inject failures, hold operations, throttle. They live in the store (in test control's own
 * tables, apart from resources), so every amlite process sharing a store applies the same rules and counts against
 * the same budgets.
 */

/** The longest name glob a rule may hold: matching costs up to glob length × name length. */
export const MAX_RULE_GLOB_CHARS = 256;

const Match = Type.Object(
  {
    plane: Type.Optional(Enum(['management', 'data'])),
    /** serverlessEndpoints, inferencePools/groups, … or the full type; case-insensitive. */
    resourceType: Type.Optional(Type.String()),
    /** A glob (* and ?) on the resource name. */
    name: Type.Optional(Type.String({ maxLength: MAX_RULE_GLOB_CHARS })),
    /** Management plane: the HTTP method(s) of the request that starts the work. */
    method: Type.Optional(
      Type.Union([
        Enum(['GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'HEAD']),
        Type.Array(Enum(['GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'HEAD'])),
      ]),
    ),
    /** An action (listKeys, regenerateKeys, deltaModels/modify) or a data-plane route (chat/completions, embeddings, info). */
    action: Type.Optional(Type.String()),
    subscription: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RuleInput = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
    kind: Enum(['fail', 'delay', 'throttle']),
    match: Type.Optional(Match),
    description: Type.Optional(Type.String()),
    /** fail: the error to answer (sync) or to end the operation with (async). */
    error: Type.Optional(
      Type.Object(
        {
          status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
          code: Type.String({ minLength: 1 }),
          message: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    /** fail: sync answers the request with the error; async accepts it and fails the long-running operation. */
    mode: Type.Optional(Enum(['sync', 'async'])),
    /** fail/delay: how many matching requests it still applies to (absent: all). */
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    /** fail/delay: the chance (0–100) that a matching request is affected. */
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** fail: Retry-After sent with the error (e.g. with 429 or 503). */
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    /** delay: how long matching operations stay running (ISO 8601); absent: until released. */
    duration: Type.Optional(Type.String()),
    /** throttle: requests allowed per window, per subscription and kind (management) or per endpoint (data). */
    limit: Type.Optional(Type.Integer({ minimum: 0 })),
    /** throttle: the window (ISO 8601), default PT1M. */
    window: Type.Optional(Type.String()),
    /** throttle, data plane: tokens (prompt + completion) allowed per minute per endpoint. */
    tokensPerMinute: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export type RuleInput = Static<typeof RuleInput>;
export type RuleMatch = Static<typeof Match>;

export interface Rule extends RuleInput {
  id: string;
  createdAt: string;
  /** How many requests or operations the rule has affected. */
  hits: number;
}

/** What a request or operation looks like to the rules. */
export interface Subject {
  plane: 'management' | 'data';
  type: string;
  name: string;
  method: string;
  action?: string;
  subscription: string;
}

export class RuleError extends Error {
  constructor(
    message: string,
    readonly target?: string,
  ) {
    super(message);
  }
}

/** Semantic checks a schema cannot make; returns the rule to store. */
export function normalizeRule(input: RuleInput, now: Date): Rule {
  const rule: Rule = {
    ...input,
    id: input.id ?? randomUUID(),
    match: input.match ?? {},
    createdAt: now.toISOString(),
    hits: 0,
  };
  if (rule.kind === 'fail' && !rule.error)
    throw new RuleError("A 'fail' rule needs an 'error' with at least a code.", 'error');
  if (rule.kind === 'fail' && rule.mode === 'async' && rule.match?.plane === 'data')
    throw new RuleError('The data plane has no long-running operations: use mode sync.', 'mode');
  if (rule.kind === 'delay' && rule.match?.plane === 'data')
    throw new RuleError("'delay' holds long-running operations of the management plane.", 'match.plane');
  if (rule.kind === 'throttle' && rule.limit === undefined && rule.tokensPerMinute === undefined)
    throw new RuleError("A 'throttle' rule needs 'limit' (requests per window) or 'tokensPerMinute'.", 'limit');
  for (const field of ['duration', 'window'] as const) {
    const v = rule[field];
    if (v !== undefined && !(parseDuration(v) > 0))
      throw new RuleError(`'${field}' must be a positive ISO 8601 duration such as PT30S, not '${v}'.`, field);
  }
  return rule;
}

export function matches(rule: Rule, s: Subject): boolean {
  const m = rule.match ?? {};
  if ((m.plane ?? 'management') !== s.plane) return false;
  if (m.subscription && m.subscription.toLowerCase() !== s.subscription.toLowerCase()) return false;
  if (m.resourceType) {
    const want = m.resourceType.toLowerCase();
    const type = s.type.toLowerCase();
    if (type !== want && !type.endsWith(`/${want}`)) return false;
  }
  if (m.name && !globMatch(m.name, s.name)) return false;
  if (m.method) {
    const methods = Array.isArray(m.method) ? m.method : [m.method];
    if (!methods.includes(s.method as never)) return false;
  }
  if (m.action && m.action.toLowerCase() !== (s.action ?? '').toLowerCase()) return false;
  return true;
}

/** A rule as the store keeps it: its definition, and its running totals as columns it updates in place. */
function toRecord(rule: Rule): RuleRecord {
  const { hits, count, ...spec } = rule;
  const record: RuleRecord = { id: rule.id, createdAt: rule.createdAt, spec, hits };
  if (count !== undefined) record.remaining = count;
  return record;
}

function fromRecord(r: RuleRecord): Rule {
  return { ...(r.spec as unknown as Rule), hits: r.hits, ...(r.remaining !== undefined ? { count: r.remaining } : {}) };
}

/**
 * Rules and their budgets, in the store's test-control tables. Every change is one atomic statement (an upsert, a
 * conditional decrement, an increment), so processes sharing a store never double-spend a count, never lose a hit,
 * and concurrent writers of one rule all succeed (the last one wins).
 */
export class RuleBook {
  /**
   * Every request asks for the rules. On a store only this process writes (SQLite) they are read once and again
   * after each change made here; on a shared store (PostgreSQL) they are read on every request, so a rule another
   * process adds applies at once.
   */
  private cache: { rules: Promise<Rule[]> } | undefined;

  constructor(
    private readonly store: Store,
    private readonly random: () => number = Math.random,
  ) {}

  async list(fresh = false): Promise<Rule[]> {
    if (fresh || !this.cache || this.store.shared) {
      const rules = this.store.listRules().then((rows) => rows.map(fromRecord));
      this.cache = { rules };
      rules.catch(() => {
        this.cache = undefined;
      });
    }
    return this.cache.rules;
  }

  private changed(): void {
    this.cache = undefined;
  }

  async get(id: string): Promise<Rule | undefined> {
    const record = await this.store.getRule(id);
    return record && fromRecord(record);
  }

  /** Adds or replaces a rule; true when it is new. */
  async put(rule: Rule): Promise<boolean> {
    try {
      return await this.store.putRule(toRecord(rule));
    } finally {
      this.changed();
    }
  }

  async delete(id: string): Promise<boolean> {
    try {
      return await this.store.deleteRule(id);
    } finally {
      this.changed();
    }
  }

  async reset(): Promise<number> {
    try {
      return await this.store.deleteRules();
    } finally {
      this.changed();
    }
  }

  /**
   * The first rule of `kind` that matches and takes effect for this subject (its count is spent atomically).
   * Rules apply in the order they were created.
   */
  async take(kind: Rule['kind'], s: Subject, filter: (r: Rule) => boolean = () => true): Promise<Rule | undefined> {
    for (const rule of await this.list()) {
      if (rule.kind !== kind || rule.count === 0 || !filter(rule) || !matches(rule, s)) continue;
      if (rule.percent !== undefined && this.random() * 100 >= rule.percent) continue;
      const spent = await this.store.spendRule(rule.id);
      this.changed();
      if (spent) return fromRecord(spent);
    }
    return undefined;
  }

  /**
   * Fixed-window counting for throttles: adds `amount` to this window's use of `bucket` and returns the total
   * and the seconds until the window ends. The first count of a window deletes every window that has ended.
   */
  async count(
    rule: Rule,
    bucket: string,
    amount: number,
    windowMs: number,
    now: number,
  ): Promise<{ used: number; resetSeconds: number }> {
    const counter = counterKey(rule, bucket, windowMs, now);
    const used = await this.store.addToCounter(counter, amount);
    if (used === amount) await this.store.pruneCounters(now);
    return { used, resetSeconds: Math.max(1, Math.ceil((counter.windowEnd - now) / 1000)) };
  }

  /** Reads this window's use of a bucket without changing it. */
  async peek(rule: Rule, bucket: string, windowMs: number, now: number): Promise<number> {
    return this.store.readCounter(counterKey(rule, bucket, windowMs, now));
  }
}

function counterKey(rule: Rule, bucket: string, windowMs: number, now: number): CounterKey {
  const windowStart = Math.floor(now / windowMs) * windowMs;
  return { ruleId: rule.id, bucket: bucket.toLowerCase(), windowStart, windowEnd: windowStart + windowMs };
}

export const windowMs = (rule: Rule) => parseDuration(rule.window ?? 'PT1M');
