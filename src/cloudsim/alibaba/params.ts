// Alibaba RPC parameters: flat `Name=value` pairs, lists flattened as
// `Name.1`, `Name.2`, objects as `Tag.1.Key`. Every reader throws a
// ParamError naming the parameter, which the protocol renders with Alibaba's
// own MissingParameter / InvalidParameter codes before touching the world.

export class ParamError extends Error {
  constructor(
    readonly code: 'MissingParameter' | 'InvalidParameter',
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

const missing = (name: string) => new ParamError('MissingParameter', name, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
const invalid = (name: string, why: string) => new ParamError('InvalidParameter', name, `The specified parameter "${name}" is not valid: ${why}.`);

/** Builds the parameter map from query pairs; a repeated name is refused. */
export function paramMap(pairs: Iterable<[string, string]>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [k, v] of pairs) {
    if (map.has(k)) throw invalid(k, 'given more than once');
    map.set(k, v);
  }
  return map;
}

export class Params {
  constructor(readonly map: ReadonlyMap<string, string>) {}

  /** An empty value counts as absent, as on the real API. */
  optional(name: string): string | undefined {
    const v = this.map.get(name);
    return v === undefined || v === '' ? undefined : v;
  }

  required(name: string): string {
    const v = this.optional(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  /** An optional string that must match `re`. */
  matching(name: string, re: RegExp, what: string): string | undefined {
    const v = this.optional(name);
    if (v !== undefined && !re.test(v)) throw invalid(name, `expected ${what}`);
    return v;
  }

  int(name: string, min: number, max: number): number | undefined {
    const v = this.optional(name);
    if (v === undefined) return undefined;
    if (!/^-?\d{1,9}$/.test(v)) throw invalid(name, 'not an integer');
    const n = Number(v);
    if (n < min || n > max) throw invalid(name, `must be between ${min} and ${max}`);
    return n;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.optional(name);
    if (v !== undefined && !values.includes(v as T)) throw invalid(name, `must be one of ${values.join(', ')}`);
    return v as T | undefined;
  }

  /** Indexes N used as `prefix.N` or `prefix.N.field`, sorted. */
  private indexes(prefix: string, max: number): number[] {
    const found = new Set<number>();
    for (const key of this.map.keys()) {
      if (!key.startsWith(`${prefix}.`)) continue;
      const m = /^(\d{1,4})(?:\.|$)/.exec(key.slice(prefix.length + 1));
      if (!m || Number(m[1]) < 1) throw invalid(key, `expected ${prefix}.N with N >= 1`);
      const n = Number(m[1]);
      if (n > max) throw invalid(key, `at most ${max} values are allowed`);
      found.add(n);
    }
    return [...found].sort((a, b) => a - b);
  }

  /** `prefix.1`, `prefix.2`, ... in index order; empty when none. */
  list(prefix: string, max: number): string[] {
    return this.indexes(prefix, max).map((n) => {
      const key = `${prefix}.${n}`;
      const v = this.optional(key);
      if (v === undefined) throw invalid(key, 'empty value');
      return v;
    });
  }

  /** `Tag.N.Key` / `Tag.N.Value`; a key given without a value maps to ''. */
  tags(prefix: string, max: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of this.indexes(prefix, max)) {
      const key = this.optional(`${prefix}.${n}.Key`);
      if (key === undefined) throw missing(`${prefix}.${n}.Key`);
      if (key.length > 128) throw invalid(`${prefix}.${n}.Key`, 'longer than 128 characters');
      const value = this.map.get(`${prefix}.${n}.Value`) ?? '';
      if (value.length > 128) throw invalid(`${prefix}.${n}.Value`, 'longer than 128 characters');
      if (key in out) throw invalid(`${prefix}.${n}.Key`, `duplicate tag key ${key}`);
      out[key] = value;
    }
    return out;
  }

  /** A JSON array of strings in one parameter, as DescribeInstances.InstanceIds. */
  jsonList(name: string, max: number): string[] | undefined {
    const v = this.optional(name);
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw invalid(name, 'not a JSON array');
    }
    if (!Array.isArray(parsed) || !parsed.every((x): x is string => typeof x === 'string' && x !== '')) throw invalid(name, 'not a JSON array of strings');
    if (parsed.length > max) throw invalid(name, `at most ${max} values are allowed`);
    return parsed;
  }

  /** A ClientToken: ASCII, at most 64 characters. */
  clientToken(): string | undefined {
    return this.matching('ClientToken', /^[\x21-\x7e]{1,64}$/, 'at most 64 printable ASCII characters');
  }
}

export { invalid as invalidParameter, missing as missingParameter };
