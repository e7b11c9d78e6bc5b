// The VPC fabric: the emulator's world materialised in Linux network
// namespaces (the design is in commands.ts). It follows the World's events;
// every kernel change goes through one queue, so changes never interleave,
// and changes that arrive together are applied together in a few batched
// tool runs (`ip -batch`, `bridge -batch`, `nft -f`).
import type { World, SimENI, SimInstance } from '../world.js';
import { cleanupFabric } from './cleanup.js';
import { addAddresses, addNic, addNode, addRouter, removeAddresses, removeNic, Stages, type NicGroup } from './commands.js';
import { findTools, mustRun, runTool, type RunResult, type Tools } from './exec.js';
import { buildLayout, nicSpec, type FabricNicSpec, type FabricSubnet, type Layout, type WorldSnapshot } from './layout.js';
import { fallbackNicName, nicName, portName, validatePrefix } from './names.js';

export interface FabricOptions {
  /** Prefix of every namespace this fabric creates (see names.ts). */
  prefix: string;
  /** Called for a kernel change that failed after start; the fabric goes on with the next. */
  onError?: (err: Error) => void;
  /** How often the fabric lets the World's pending transitions (attach, detach) happen. Default 50 ms. */
  tickMs?: number;
}

/** A NIC as the fabric made it. */
export interface FabricNic {
  instanceId: string;
  mac: string;
  subnetId: string;
  /** The router-side bridge port. */
  port: string;
  /** The name it was created with in the node (a consumer may rename or move it since). */
  ifname: string;
  ips: string[];
}

export interface Timing {
  count: number;
  /** From the World's event to the change being in the kernel. */
  totalMs: number;
  maxMs: number;
}

export interface FabricInfo {
  prefix: string;
  state: 'running' | 'stopped';
  routerNs: string;
  /** instance ID -> its network namespace */
  nodes: Record<string, string>;
  /** subnet ID -> its bridge in the router and the gateway address on it */
  subnets: Record<string, { bridge: string; cidr: string; gateway: string; vpcId: string }>;
  /** ENI ID -> its NIC */
  nics: Record<string, FabricNic>;
  /** Kernel changes that failed after start, the last 100 (each is a bug or an outside interference). */
  errors: string[];
  timings: Record<string, Timing>;
  startMs: number;
}

type EventKind = 'attach' | 'detach' | 'assign' | 'unassign' | 'delete';

interface Op {
  kind: EventKind;
  /** Ops sharing a key are never applied in one round (their stages could reorder them). */
  keys: string[];
  queuedAt: number;
  build(stages: Stages): void;
}

const NODE_BATCHES_AT_ONCE = 4;

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure once all have settled. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Line number -> error message, from a forced `ip -batch` run ("<message>" then "Command failed -:<line>"). */
function failedLines(res: RunResult): Map<number, string> {
  const failed = new Map<number, string>();
  if (res.code === 0) return failed;
  let message: string[] = [];
  for (const line of res.stderr.split('\n')) {
    const m = /^Command failed -:(\d+)$/.exec(line.trim());
    if (m) {
      failed.set(Number(m[1]), message.join(' ') || 'failed');
      message = [];
    } else if (line.trim() !== '') {
      message.push(line.trim());
    }
  }
  if (failed.size === 0) failed.set(0, res.stderr.trim() || `exit ${res.code}`);
  return failed;
}

interface NicState extends FabricNic {
  subnet: FabricSubnet;
}

export class Fabric {
  private readonly tools: Tools = findTools();
  private readonly nics = new Map<string, NicState>();
  private readonly queue: Op[] = [];
  private draining?: Promise<void>;
  private readonly errors: string[] = [];
  private readonly timings: Record<string, Timing> = {};
  private state: 'running' | 'stopped' = 'running';
  private ticker?: NodeJS.Timeout;
  private startMs = 0;
  private started = false;
  private readonly listeners = {
    attached: (eni: SimENI, inst: SimInstance) => this.onAttached(eni, inst),
    detached: (eni: SimENI, from: string) => this.onDetached(eni, from),
    assigned: (eni: SimENI, ips: string[]) => this.onAddresses('assign', eni, ips),
    unassigned: (eni: SimENI, ips: string[]) => this.onAddresses('unassign', eni, ips),
    deleted: (eni: SimENI) => this.onDeleted(eni),
  };

  private constructor(
    private readonly world: World,
    private readonly layout: Layout,
    private readonly opts: FabricOptions,
  ) {}

  /**
   * Sweeps what a crashed emulator with the same prefix left, builds the router,
   * a namespace per instance and a NIC per attached ENI, then follows the World.
   * Needs root.
   */
  static async start(world: World, opts: FabricOptions): Promise<Fabric> {
    validatePrefix(opts.prefix);
    if (process.getuid?.() !== 0) throw new Error('fabric: needs root (it creates network namespaces, links and nftables rules)');
    findTools();
    // Read the world and subscribe in one synchronous step: no event is missed or seen twice.
    const layout = buildLayout(opts.prefix, world.snapshot() as WorldSnapshot);
    const fabric = new Fabric(world, layout, opts);
    fabric.subscribe();
    const t0 = performance.now();
    try {
      await cleanupFabric(opts.prefix);
      await fabric.build();
    } catch (err) {
      fabric.unsubscribe();
      fabric.state = 'stopped';
      await cleanupFabric(opts.prefix).catch(() => undefined);
      throw err;
    }
    fabric.startMs = Math.round(performance.now() - t0);
    fabric.started = true;
    fabric.ticker = setInterval(() => fabric.tick(), opts.tickMs ?? 50);
    fabric.ticker.unref();
    fabric.kick();
    return fabric;
  }

  get prefix(): string {
    return this.opts.prefix;
  }

  get routerNamespace(): string {
    return this.layout.routerNs;
  }

  /** The namespace of a simulated node. */
  nodeNamespace(instanceId: string): string {
    const node = this.layout.nodes.get(instanceId);
    if (!node) throw new Error(`fabric: no instance ${instanceId}`);
    return node.netns;
  }

  info(): FabricInfo {
    const running = this.state === 'running';
    return {
      prefix: this.opts.prefix,
      state: this.state,
      routerNs: this.layout.routerNs,
      nodes: running ? Object.fromEntries([...this.layout.nodes].map(([id, n]) => [id, n.netns])) : {},
      subnets: Object.fromEntries([...this.layout.subnets].map(([id, s]) => [id, { bridge: s.bridge, cidr: s.cidr, gateway: s.gateway, vpcId: s.vpcId }])),
      nics: running ? Object.fromEntries([...this.nics].map(([id, n]) => [id, { instanceId: n.instanceId, mac: n.mac, subnetId: n.subnetId, port: n.port, ifname: n.ifname, ips: [...n.ips] }])) : {},
      errors: [...this.errors],
      timings: structuredClone(this.timings),
      startMs: this.startMs,
    };
  }

  /** Lets the World apply the transitions that are due, then resolves once every resulting change is in the kernel. */
  async idle(): Promise<void> {
    if (this.state === 'running') this.tick();
    while (this.draining) await this.draining;
  }

  /** Stops following the World and removes everything from the kernel. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.unsubscribe();
    clearInterval(this.ticker);
    this.queue.length = 0;
    await this.idle();
    this.nics.clear();
    await cleanupFabric(this.opts.prefix);
  }

  // ---- following the World ------------------------------------------------------

  private subscribe(): void {
    for (const [event, fn] of Object.entries(this.listeners)) this.world.on(event as keyof typeof this.listeners, fn);
  }

  private unsubscribe(): void {
    for (const [event, fn] of Object.entries(this.listeners)) this.world.off(event as keyof typeof this.listeners, fn);
  }

  /**
   * The World applies attach/detach transitions lazily, when it is next
   * called; a real cloud's NIC appears when the attach completes whether or
   * not anyone asks. A cheap read makes the World settle on time.
   */
  private tick(): void {
    for (const scope of this.layout.scopes) this.world.describeInstances(scope, []);
  }

  private onAttached(eni: SimENI, inst: SimInstance): void {
    const spec = nicSpec(eni);
    this.enqueue('attach', [`eni:${eni.id}`], (stages) => {
      const existing = this.nics.get(eni.id);
      if (existing?.instanceId === inst.id) return;
      if (existing) this.dropNic(stages, eni.id, existing);
      this.plugNic(stages, spec);
    });
  }

  private onDetached(eni: SimENI, from: string): void {
    this.enqueue('detach', [`eni:${eni.id}`], (stages) => {
      const nic = this.nics.get(eni.id);
      if (nic?.instanceId === from) this.dropNic(stages, eni.id, nic);
    });
  }

  private onDeleted(eni: SimENI): void {
    this.enqueue('delete', [`eni:${eni.id}`], (stages) => {
      const nic = this.nics.get(eni.id);
      if (nic) this.dropNic(stages, eni.id, nic);
    });
  }

  /** Addresses of an ENI that is not a NIC yet need nothing now: its attach carries them all. */
  private onAddresses(kind: 'assign' | 'unassign', eni: SimENI, ips: string[]): void {
    this.enqueue(kind, [`eni:${eni.id}`], (stages) => {
      const nic = this.nics.get(eni.id);
      if (!nic) return;
      if (kind === 'assign') {
        const fresh = ips.filter((ip) => !nic.ips.includes(ip));
        addAddresses(stages, nic.port, nic.mac, nic.subnet, fresh);
        nic.ips.push(...fresh);
      } else {
        const gone = ips.filter((ip) => nic.ips.includes(ip));
        removeAddresses(stages, nic.port, nic.mac, nic.subnet, gone);
        nic.ips = nic.ips.filter((ip) => !gone.includes(ip));
      }
    });
  }

  // ---- building -------------------------------------------------------------------

  private async build(): Promise<void> {
    const stages = new Stages();
    addRouter(stages, this.layout.routerNs, [...this.layout.subnets.values()], this.layout.vpcs);
    for (const node of this.layout.nodes.values()) addNode(stages, node.netns);
    for (const spec of this.layout.nics) this.plugNic(stages, spec);
    await this.apply(stages);
  }

  private plugNic(stages: Stages, spec: FabricNicSpec): void {
    const node = this.layout.nodes.get(spec.instanceId);
    const subnet = this.layout.subnets.get(spec.subnetId);
    if (!node || !subnet) throw new Error(`fabric: ENI ${spec.eniId} is attached to unknown instance ${spec.instanceId} or subnet ${spec.subnetId}`);
    const nic: NicState = {
      instanceId: spec.instanceId,
      mac: spec.mac,
      subnetId: spec.subnetId,
      port: portName(spec.mac),
      ifname: nicName(spec.deviceIndex),
      ips: [...spec.ips],
      subnet,
    };
    const fallbackIfname = fallbackNicName(spec.mac);
    addNic(stages, {
      routerNs: this.layout.routerNs,
      netns: node.netns,
      ifname: nic.ifname,
      fallbackIfname,
      port: nic.port,
      mac: nic.mac,
      subnet,
      ips: nic.ips,
      ...(spec.primary ? { primaryIP: spec.ips[0]! } : {}),
      onFallback: () => (nic.ifname = fallbackIfname),
    });
    this.nics.set(spec.eniId, nic);
  }

  private dropNic(stages: Stages, eniId: string, nic: NicState): void {
    removeNic(stages, nic.port, nic.mac, nic.subnet, nic.ips);
    this.nics.delete(eniId);
  }

  // ---- the queue ----------------------------------------------------------------------

  private enqueue(kind: EventKind, keys: string[], build: Op['build']): void {
    if (this.state !== 'running') return;
    this.queue.push({ kind, keys, queuedAt: performance.now(), build });
    this.kick();
  }

  private kick(): void {
    // Events that arrive during start wait until the start's build is done.
    if (this.draining || !this.started || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    // Let the rest of a burst arrive (the World emits a settle's events in one go), so it shares a round.
    await new Promise(setImmediate);
    while (this.queue.length > 0) {
      // The longest run of queued ops with disjoint keys, in order.
      const round: Op[] = [];
      const keys = new Set<string>();
      while (this.queue.length > 0 && !this.queue[0]!.keys.some((k) => keys.has(k))) {
        const op = this.queue.shift()!;
        op.keys.forEach((k) => keys.add(k));
        round.push(op);
      }
      const stages = new Stages();
      for (const op of round) {
        try {
          op.build(stages);
        } catch (err) {
          this.report(err); // this op adds nothing; the others of the round go on
        }
      }
      try {
        await this.apply(stages);
      } catch (err) {
        this.report(err);
      }
      const now = performance.now();
      for (const op of round) {
        const t = (this.timings[op.kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
        const ms = now - op.queuedAt;
        t.count++;
        t.totalMs = Math.round((t.totalMs + ms) * 10) / 10;
        t.maxMs = Math.max(t.maxMs, Math.round(ms * 10) / 10);
      }
    }
  }

  private report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.errors.push(error.message);
    if (this.errors.length > 100) this.errors.shift();
    this.opts.onError?.(error);
  }

  /** Runs the stages in their order; the first failing stage stops the round. */
  private async apply(stages: Stages): Promise<void> {
    if (stages.empty) return;
    const { ip, bridge, nft, nsenter, sysctl } = this.tools;
    const r = this.layout.routerNs;
    const inRouter = ['--net=/run/netns/' + r];
    const batch = (lines: string[]): string => lines.join('\n') + '\n';
    if (stages.root.length > 0) await mustRun(ip, ['-batch', '-'], batch(stages.root));
    if (stages.routerLinks.length > 0) await mustRun(ip, ['-n', r, '-batch', '-'], batch(stages.routerLinks));
    if (stages.routerSysctls.length > 0) await mustRun(nsenter, [...inRouter, sysctl, '-q', '-w', ...stages.routerSysctls]);
    if (stages.routerRemovals.length > 0) await this.removeTolerantly(batch(stages.routerRemovals));
    if (stages.nics.length > 0) await this.createNics(stages.nics);
    // Each node's batch touches only its own namespace, so a few run at once (a fabric start has one per instance).
    await inParallel([...stages.nodes], NODE_BATCHES_AT_ONCE, ([netns, lines]) => mustRun(ip, ['-n', netns, '-batch', '-'], batch(lines)));
    if (stages.router.length > 0) await mustRun(ip, ['-n', r, '-batch', '-'], batch(stages.router));
    if (stages.fdb.length > 0) await mustRun(bridge, ['-n', r, '-batch', '-'], batch(stages.fdb));
    if (stages.nft.length > 0) await mustRun(nsenter, [...inRouter, nft, '-f', '-'], batch(stages.nft));
  }

  /** Removals where "already gone" (a consumer deleted the NIC) is the wanted state; other failures are errors. */
  private async removeTolerantly(input: string): Promise<void> {
    const res = await runTool(this.tools.ip, ['-n', this.layout.routerNs, '-force', '-batch', '-'], input);
    const real = [...failedLines(res).values()].filter((m) => !/Cannot find device|No such file or directory|No such process/.test(m));
    if (real.length > 0) throw new Error(`fabric: removing in ${this.layout.routerNs}: ${real.join('; ')}`);
  }

  /**
   * All NICs of a round in one forced batch; a NIC whose node-side name a
   * consumer has taken is made again under its fallback name; any other failure is an error.
   */
  private async createNics(groups: NicGroup[]): Promise<void> {
    const res = await runTool(this.tools.ip, ['-n', this.layout.routerNs, '-force', '-batch', '-'], groups.flatMap((g) => g.lines).join('\n') + '\n');
    const failed = failedLines(res);
    if (failed.size === 0) return;
    const retry: NicGroup[] = [];
    const errors: string[] = [];
    let first = 1;
    for (const g of groups) {
      const own = [...failed].filter(([n]) => n >= first && n < first + g.lines.length);
      first += g.lines.length;
      if (own.length === 0) continue;
      if (own[0]![0] === first - g.lines.length && /File exists/.test(own[0]![1])) retry.push(g);
      else errors.push(...own.map(([, m]) => m));
    }
    if (errors.length > 0) throw new Error(`fabric: creating NICs: ${errors.join('; ')}`);
    await mustRun(this.tools.ip, ['-n', this.layout.routerNs, '-batch', '-'], retry.flatMap((g) => g.fallback.lines).join('\n') + '\n');
    for (const g of retry) g.onFallback?.();
  }
}
