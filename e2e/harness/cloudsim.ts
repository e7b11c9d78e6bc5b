// The cloud emulator in-process, for tests: the default world, fast async
// delays unless asked otherwise, and a small admin client.
import { createEmulator } from '../../src/cloudsim/index.js';
import type { Emulator } from '../../src/cloudsim/server.js';
import type { World } from '../../src/cloudsim/world.js';
import { loadWorldSpec, type DelaySpec, type WorldSpec } from '../../src/cloudsim/world-spec.js';
import { Credentials } from '../../src/cloud/credentials.js';
import type { ProviderType } from '../../src/api/common.js';
import { repoPath } from './paths.js';

export interface Cloudsim {
  emulator: Emulator;
  world: World;
  spec: WorldSpec;
  /** host:port */
  host: string;
  /** Errors that escaped a protocol handler (each is a bug); tests assert none. */
  errors: unknown[];
  credentials(provider: ProviderType): Credentials;
  admin(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export const FAST_DELAYS: DelaySpec = { attachMs: 100, detachMs: 80, deleteMs: 50, taskMs: 40 };

export async function startCloudsim(delays: DelaySpec = FAST_DELAYS): Promise<Cloudsim> {
  const spec = loadWorldSpec(repoPath('config', 'cloudsim', 'world.yaml'));
  spec.delays = { ...delays };
  const errors: unknown[] = [];
  const emulator = createEmulator(spec, { onError: (err) => errors.push(err) });
  const addr = await emulator.listen(0, '127.0.0.1');
  const host = `127.0.0.1:${addr.port}`;
  return {
    emulator,
    world: emulator.world,
    spec,
    host,
    errors,
    credentials: (provider) => {
      const c = spec.credentials.find((x) => x.provider === provider)!;
      return new Credentials(c.accessKeyId, c.accessKeySecret);
    },
    admin: async (method, path, body) => {
      const res = await fetch(`http://${host}/_admin/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const json: unknown = await res.json();
      if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    close: () => emulator.close(),
  };
}
