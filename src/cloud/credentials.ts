// Cloud credentials from a Kubernetes Secret. The values never leave this
// object by accident: it prints as a placeholder and serialises to nothing.
import type { ProviderType } from '../api/common.js';

/** Secret keys per provider: the names each cloud's console uses. */
export const SECRET_KEYS: Record<ProviderType, { id: string; secret: string }> = {
  alibaba: { id: 'accessKeyId', secret: 'accessKeySecret' },
  tencent: { id: 'secretId', secret: 'secretKey' },
};

export class Credentials {
  readonly #id: string;
  readonly #secret: string;

  constructor(id: string, secret: string) {
    this.#id = id;
    this.#secret = secret;
  }

  get id(): string {
    return this.#id;
  }

  get secret(): string {
    return this.#secret;
  }

  /** Values to scrub from any text that may reach a log, an Event or a status. */
  get sensitive(): string[] {
    return [this.#secret, this.#id];
  }

  toString(): string {
    return '[credentials]';
  }

  toJSON(): string {
    return '[credentials]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[credentials]';
  }
}

/** Reads credentials from a Secret's `data` (base64) or `stringData`; names the missing key. */
export function credentialsFromSecret(provider: ProviderType, secret: { data?: Record<string, string>; stringData?: Record<string, string> }, where: string): Credentials {
  const keys = SECRET_KEYS[provider];
  const read = (key: string): string => {
    const plain = secret.stringData?.[key];
    if (plain) return plain;
    const encoded = secret.data?.[key];
    if (encoded) return Buffer.from(encoded, 'base64').toString('utf8').trim();
    throw new Error(`Secret ${where} has no "${key}" (a ${provider} Secret needs ${keys.id} and ${keys.secret})`);
  };
  return new Credentials(read(keys.id), read(keys.secret));
}
