// Builds an emulator that speaks both clouds' protocols over one world, and
// optionally materialises its network as a VPC fabric (root only).
import { Emulator } from './server.js';
import { World } from './world.js';
import type { WorldSpec } from './world-spec.js';
import { createAlibabaProtocol } from './alibaba/protocol.js';
import { createTencentProtocol } from './tencent/protocol.js';
import { Fabric, type FabricOptions } from './fabric/fabric.js';

export { cleanupFabric } from './fabric/cleanup.js';
export type { Fabric, FabricInfo, FabricOptions } from './fabric/fabric.js';

export function createEmulator(spec: WorldSpec, opts: { now?: () => number; onError?: (err: unknown) => void } = {}): Emulator {
  const world = new World(spec, opts.now);
  return new Emulator({
    world,
    protocols: [createAlibabaProtocol(world), createTencentProtocol(world)],
    ...(spec.rateLimits ? { rateLimits: spec.rateLimits } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
}

/** Starts the VPC fabric of an emulator's world and serves its layout at GET /_admin/fabric. */
export async function startFabric(emulator: Emulator, opts: FabricOptions): Promise<Fabric> {
  const fabric = await Fabric.start(emulator.world, opts);
  emulator.adminRoutes.set('GET /_admin/fabric', () => fabric.info());
  return fabric;
}
