// Removes secret-looking fields from anything about to be logged. Returns a
// JSON-safe copy: cycles, BigInts, functions and Errors never make
// serialization throw.

// Matched against the field name with case, '-' and '_' ignored, so
// accessKeySecret, secret_key, X-Auth-Token, clientPassword all go.
const SECRET_NAME = /secret|passw(or)?d|token|credential|authorization|privatekey|apikey/;

const MAX_DEPTH = 10;

export function isSecretField(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replace(/[-_]/g, ''));
}

export function redact(value: unknown): unknown {
  return copy(value, new WeakSet(), 0);
}

function copy(value: unknown, ancestors: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v: unknown) => copy(v, ancestors, depth + 1) ?? null);
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      // Errors keep message and stack, which are not enumerable.
      out.name = value.name;
      out.message = value.message;
      if (value.stack) out.stack = value.stack;
    }
    let entries: [string, unknown][];
    try {
      entries = Object.entries(value);
    } catch {
      return '[Unreadable]';
    }
    for (const [k, v] of entries) {
      if (isSecretField(k)) continue;
      const c = copy(v, ancestors, depth + 1);
      if (c !== undefined) out[k] = c;
    }
    return out;
  } finally {
    // Only ancestors count as cycles: the same object twice in siblings is fine.
    ancestors.delete(value);
  }
}
