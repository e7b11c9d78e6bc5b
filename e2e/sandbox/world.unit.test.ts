import { loadWorldSpec, parseWorldSpec } from '../../src/cloudsim/world-spec.js';
import { repoPath } from '../harness/paths.js';
import { MAX_SANDBOX_NODES, sandboxWorld } from './world.js';

const base = loadWorldSpec(repoPath('config/cloudsim/world.yaml'));

describe('sandboxWorld', () => {
  it.each(['alibaba', 'tencent'] as const)('gives %s one instance per node, alternating between two zones', (provider) => {
    const { world, nodes } = sandboxWorld(base, provider, 5);
    const region = world.regions.find((r) => r.provider === provider)!;
    expect(region.instances.map((i) => i.name)).toEqual(['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
    expect(new Set(region.instances.map((i) => i.id)).size).toBe(5);
    expect(nodes.map((n) => n.zone)).toEqual([region.zones[0], region.zones[1], region.zones[0], region.zones[1], region.zones[0]]);
    // Still a world the emulator accepts (IDs, subnets of the right zone, known types).
    expect(() => parseWorldSpec(JSON.parse(JSON.stringify(world)))).not.toThrow();
  });

  it('leaves the other cloud as it was', () => {
    const { world } = sandboxWorld(base, 'alibaba', 2);
    expect(world.regions.find((r) => r.provider === 'tencent')).toEqual(base.regions.find((r) => r.provider === 'tencent'));
  });

  it.each([0, -1, 1.5, MAX_SANDBOX_NODES + 1])('refuses %p nodes', (n) => {
    expect(() => sandboxWorld(base, 'alibaba', n)).toThrow(/nodes: want 1\.\./);
  });
});
