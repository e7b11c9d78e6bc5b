// Fault injection, set through the admin endpoint. Rules are per API action,
// with '*' for every action; randomness comes from a seeded generator so a
// failing test can be replayed.
import type { InjectedError } from './protocol.js';

export interface FaultRule {
  /** Added before the request is handled. */
  latencyMs?: number;
  /** Probability (0..1) that the request fails with `error` instead of running. */
  errorRate?: number;
  error?: InjectedError;
  /** Probability (0..1) that the request runs but its response is dropped (connection reset). */
  dropRate?: number;
  /** Drop the responses of the next N requests (after their effect). */
  dropNext?: number;
}

export interface FaultConfig {
  actions?: Record<string, FaultRule>;
  /** Describe* calls answer from a snapshot of now, for this many seconds. */
  staleDescribeSeconds?: number;
  seed?: number;
}

const ERRORS: InjectedError[] = ['Throttled', 'InternalError', 'ServiceUnavailable', 'Conflict'];

export function validateFaults(input: unknown): FaultConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('faults: expected an object');
  const cfg = input as FaultConfig;
  const prob = (v: unknown, path: string) => {
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) throw new Error(`${path}: must be a number in [0, 1]`);
  };
  const nonneg = (v: unknown, path: string) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new Error(`${path}: must be a number >= 0`);
  };
  for (const [action, rule] of Object.entries(cfg.actions ?? {})) {
    if (typeof rule !== 'object' || rule === null) throw new Error(`actions.${action}: expected an object`);
    prob(rule.errorRate, `actions.${action}.errorRate`);
    prob(rule.dropRate, `actions.${action}.dropRate`);
    nonneg(rule.latencyMs, `actions.${action}.latencyMs`);
    nonneg(rule.dropNext, `actions.${action}.dropNext`);
    if (rule.error !== undefined && !ERRORS.includes(rule.error)) throw new Error(`actions.${action}.error: one of ${ERRORS.join(', ')}`);
  }
  nonneg(cfg.staleDescribeSeconds, 'staleDescribeSeconds');
  nonneg(cfg.seed, 'seed');
  return cfg;
}

/** mulberry32: small, fast, seeded. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultDecision {
  latencyMs: number;
  error?: InjectedError;
  drop: boolean;
}

export class Faults {
  private config: FaultConfig = {};
  private random = generator(1);
  private readonly dropCounters = new Map<string, number>();

  set(config: FaultConfig): void {
    this.config = config;
    this.random = generator(config.seed ?? 1);
    this.dropCounters.clear();
    for (const [action, rule] of Object.entries(config.actions ?? {})) if (rule.dropNext) this.dropCounters.set(action, rule.dropNext);
  }

  get(): FaultConfig {
    return this.config;
  }

  /** What to do to one request of `action`. */
  decide(action: string): FaultDecision {
    const rules = [this.config.actions?.['*'], this.config.actions?.[action]].filter((r): r is FaultRule => r !== undefined);
    const decision: FaultDecision = { latencyMs: 0, drop: false };
    for (const rule of rules) {
      decision.latencyMs += rule.latencyMs ?? 0;
      if (!decision.error && rule.errorRate && this.random() < rule.errorRate) decision.error = rule.error ?? 'InternalError';
      if (rule.dropRate && this.random() < rule.dropRate) decision.drop = true;
    }
    for (const key of [action, '*']) {
      const left = this.dropCounters.get(key);
      if (left && !decision.error) {
        decision.drop = true;
        this.dropCounters.set(key, left - 1);
        break;
      }
    }
    return decision;
  }
}
