// Reads and checks an API 3.0 request body (a JSON object) field by field.
// Every problem becomes a ParamError carrying Tencent's own code and naming
// the field, so a bad request is refused before the world is touched.

/** A refused request, with the Tencent error code to answer. */
export class ParamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const missing = (name: string) => new ParamError('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
const wrongType = (name: string, want: string) => new ParamError('InvalidParameter', `The parameter \`${name}\` must be ${want}.`);
export const badValue = (name: string, why: string, code = 'InvalidParameterValue') => new ParamError(code, `The value of the parameter \`${name}\` is invalid: ${why}.`);

export interface Filter {
  name: string;
  values: string[];
}

type Json = Record<string, unknown>;

export class Params {
  constructor(
    private readonly body: Json,
    known: readonly string[],
  ) {
    for (const key of Object.keys(body)) {
      if (!known.includes(key)) throw new ParamError('UnknownParameter', `The parameter \`${key}\` is not recognized.`);
    }
  }

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  /** The request without the given fields (for ClientToken comparisons). */
  without(...names: string[]): Json {
    return Object.fromEntries(Object.entries(this.body).filter(([k]) => !names.includes(k)));
  }

  str(name: string, opts: { required: true; max?: number }): string;
  str(name: string, opts?: { required?: boolean; max?: number }): string | undefined;
  str(name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) throw missing(name);
      return undefined;
    }
    if (typeof v !== 'string') throw wrongType(name, 'a string');
    if (opts.required && v === '') throw badValue(name, 'must not be empty', 'InvalidParameterValue.Empty');
    if (opts.max !== undefined && v.length > opts.max) throw badValue(name, `at most ${opts.max} characters`, 'InvalidParameterValue.TooLong');
    return v;
  }

  /** An integer; `digitsOk` also takes a string of digits (fields the SDK models as String). */
  int(name: string, opts: { min?: number; max?: number; digitsOk?: boolean } = {}): number | undefined {
    let v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (opts.digitsOk && typeof v === 'string' && /^\d{1,9}$/.test(v)) v = Number(v);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(name, 'an integer');
    if (opts.min !== undefined && v < opts.min) throw badValue(name, `must be at least ${opts.min}`, 'InvalidParameterValue.Range');
    if (opts.max !== undefined && v > opts.max) throw badValue(name, `must be at most ${opts.max}`, 'InvalidParameterValue.Range');
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw wrongType(name, 'a boolean');
    return v;
  }

  strList(name: string, opts: { required?: boolean; max?: number } = {}): string[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) throw missing(name);
      return undefined;
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw wrongType(name, 'an array of non-empty strings');
    if (opts.required && v.length === 0) throw missing(`${name}.0`);
    if (opts.max !== undefined && v.length > opts.max) throw badValue(name, `at most ${opts.max} items`, 'InvalidParameterValue.LimitExceeded');
    if (new Set(v).size !== v.length) throw badValue(name, 'an item is listed twice', 'InvalidParameterValue.Duplicate');
    return v as string[];
  }

  /** `Tags: [{Key, Value}]` as a map. */
  tags(name: string): Record<string, string> | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw wrongType(name, 'an array of {Key, Value}');
    const out: Record<string, string> = {};
    v.forEach((t: unknown, i) => {
      const o = t as Json;
      if (typeof o !== 'object' || o === null || typeof o.Key !== 'string' || (o.Value !== undefined && typeof o.Value !== 'string')) throw wrongType(`${name}.${i}`, 'a {Key, Value} object');
      if (o.Key === '' || o.Key.length > 127) throw badValue(`${name}.${i}.Key`, 'must be 1-127 characters', 'InvalidParameterValue.TagInvalidKey');
      if (o.Key in out) throw badValue(`${name}.${i}.Key`, `${o.Key} is given twice`, 'InvalidParameterValue.TagDuplicateKey');
      out[o.Key] = o.Value ?? '';
    });
    return out;
  }

  /** `PrivateIpAddresses: [{PrivateIpAddress, Primary?}]`, primary first. */
  ipSpecs(name: string, opts: { required?: boolean; max: number }): string[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) throw missing(name);
      return undefined;
    }
    if (!Array.isArray(v)) throw wrongType(name, 'an array of {PrivateIpAddress}');
    if (opts.required && v.length === 0) throw missing(`${name}.0.PrivateIpAddress`);
    if (v.length > opts.max) throw badValue(name, `at most ${opts.max} addresses per call`, 'InvalidParameterValue.LimitExceeded');
    const ips: { ip: string; primary: boolean }[] = v.map((s: unknown, i) => {
      const o = s as Json;
      if (typeof o !== 'object' || o === null) throw wrongType(`${name}.${i}`, 'a {PrivateIpAddress} object');
      if (o.PrivateIpAddress === undefined) throw missing(`${name}.${i}.PrivateIpAddress`);
      if (typeof o.PrivateIpAddress !== 'string') throw wrongType(`${name}.${i}.PrivateIpAddress`, 'a string');
      if (!isIPv4(o.PrivateIpAddress)) throw badValue(`${name}.${i}.PrivateIpAddress`, `${o.PrivateIpAddress} is not an IPv4 address`, 'InvalidParameterValue.Malformed');
      if (o.Primary !== undefined && typeof o.Primary !== 'boolean') throw wrongType(`${name}.${i}.Primary`, 'a boolean');
      return { ip: o.PrivateIpAddress, primary: o.Primary === true };
    });
    if (new Set(ips.map((x) => x.ip)).size !== ips.length) throw badValue(name, 'an address is listed twice', 'InvalidParameterValue.Duplicate');
    return [...ips.filter((x) => x.primary), ...ips.filter((x) => !x.primary)].map((x) => x.ip);
  }

  /** `Filters: [{Name, Values}]`, names checked against `names` (a name ending in ':' is a prefix). */
  filters(name: string, names: readonly string[]): Filter[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new ParamError('InvalidParameter.FilterNotDict', `The parameter \`${name}\` must be an array of {Name, Values}.`);
    if (v.length > 10) throw new ParamError('LimitExceeded.NumberOfFilters', `The parameter \`${name}\` has more than 10 filters.`);
    return v.map((f: unknown, i): Filter => {
      const o = f as Json;
      if (typeof o !== 'object' || o === null || typeof o.Name !== 'string') throw new ParamError('InvalidParameter.FilterNotDict', `The parameter \`${name}.${i}\` must be a {Name, Values} object.`);
      if (!Array.isArray(o.Values) || !o.Values.every((x) => typeof x === 'string')) throw new ParamError('InvalidParameter.FilterValuesNotList', `The parameter \`${name}.${i}.Values\` must be an array of strings.`);
      const fname = o.Name;
      const known = names.some((n) => (n.endsWith(':') ? fname.startsWith(n) && fname.length > n.length : n === fname));
      if (!known) throw new ParamError('InvalidParameter.FilterInvalidKey', `The filter \`${fname}\` in \`${name}.${i}.Name\` is not supported.`);
      return { name: fname, values: o.Values };
    });
  }
}

export function isIPv4(s: string): boolean {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
}

/** Offset/Limit paging with Tencent's defaults (Limit 20, at most 100). */
export function page<T>(p: Params, items: T[], digitsOk = false): T[] {
  const offset = p.int('Offset', { min: 0, digitsOk }) ?? 0;
  const limit = p.int('Limit', { min: 1, max: 100, digitsOk }) ?? 20;
  return items.slice(offset, offset + limit);
}

/** Ids and Filters may not come together. */
export function notBoth(p: Params, ids: string, filters: string): void {
  if (p.has(ids) && p.has(filters)) throw new ParamError('InvalidParameter.Coexist', `The parameters \`${ids}\` and \`${filters}\` cannot be given together.`);
}
