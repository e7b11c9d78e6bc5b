// Builds an emulator that speaks both clouds' protocols over one world.
import { Emulator } from './server.js';
import { World } from './world.js';
import type { WorldSpec } from './world-spec.js';
import { createAlibabaProtocol } from './alibaba/protocol.js';
import { createTencentProtocol } from './tencent/protocol.js';

export function createEmulator(spec: WorldSpec, opts: { now?: () => number; onError?: (err: unknown) => void } = {}): Emulator {
  const world = new World(spec, opts.now);
  return new Emulator({
    world,
    protocols: [createAlibabaProtocol(world), createTencentProtocol(world)],
    ...(spec.rateLimits ? { rateLimits: spec.rateLimits } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
}
