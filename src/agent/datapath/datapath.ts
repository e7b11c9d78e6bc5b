// The node agent's entry point to the kernel: ADD/CHECK/DEL per pod, read-back
// and drift repair for the node namespace.
import type { Attachment } from '../../api/nodenetwork.js';
import type { Snapshot } from '../netlink/model.js';
import { CURRENT_NETNS, type Netns } from '../netlink/netns.js';
import type { Action } from './actions.js';
import { ipvlanSupported } from './capabilities.js';
import { applyExclusive, checkExclusive } from './exclusive.js';
import { applyIpvlan, checkIpvlan } from './ipvlan.js';
import { PodLocks } from './lock.js';
import { read, write } from './ops.js';
import { plan, type Plan } from './plan.js';
import { removePod } from './remove.js';
import { DatapathError, toPodNetwork, validatePodRef, validateSandbox, type CniResult, type PodRef, type PodSandbox } from './types.js';
import { applyVeth, checkVeth } from './veth.js';

export interface DatapathOptions {
  /** The node's network namespace; default: this process's own (a real agent). Tests pass a named one. */
  node?: Netns;
  /** Known ipvlan support (e.g. from detectCapabilities at start-up); probed once on first use otherwise. */
  ipvlan?: boolean;
}

export class Datapath {
  readonly node: Netns;
  private readonly locks = new PodLocks();
  /** ipvlan pods of one ENI share its host slave: their ADDs run one at a time (apart from the pod locks, so no cycle). */
  private readonly eniLocks = new PodLocks();
  private readonly ipvlan: boolean | undefined;

  constructor(options: DatapathOptions = {}) {
    this.node = options.node ?? CURRENT_NETNS;
    this.ipvlan = options.ipvlan;
  }

  /** CNI ADD: wires the pod as the attachment says. Idempotent: a repeated ADD converges to the same state and result. */
  async apply(attachment: Attachment, pod: PodSandbox): Promise<CniResult> {
    const pn = toPodNetwork(attachment);
    validateSandbox(pod);
    return this.locks.forPod(pn.podUID, async () => {
      switch (pn.mode) {
        case 'veth':
          return applyVeth(this.node, pn, pod);
        case 'exclusive':
          return applyExclusive(this.node, pn, pod);
        case 'ipvlan': {
          const supported = this.ipvlan ?? (await ipvlanSupported());
          return this.eniLocks.forPod(pn.eniMac, () => applyIpvlan(this.node, pn, pod, supported));
        }
      }
    });
  }

  /** CNI CHECK: what is missing or wrong for this pod, node side and pod side; [] when healthy. */
  async check(attachment: Attachment, pod: PodSandbox): Promise<string[]> {
    const pn = toPodNetwork(attachment);
    validateSandbox(pod);
    return this.locks.forPod(pn.podUID, () => {
      switch (pn.mode) {
        case 'veth':
          return checkVeth(this.node, pn, pod);
        case 'exclusive':
          return checkExclusive(this.node, pn, pod);
        case 'ipvlan':
          return checkIpvlan(this.node, pn, pod);
      }
    });
  }

  /**
   * CNI DEL: removes what this pod owns and returns an exclusive ENI to the
   * node. Succeeds for unknown pods and repeated calls. With the attachment
   * it needs fewer reads; without, it works from the kernel state.
   */
  async remove(pod: PodRef, attachment?: Attachment): Promise<void> {
    validatePodRef(pod);
    const pn = attachment ? toPodNetwork(attachment) : undefined;
    if (pn && pn.podUID !== pod.podUID) throw new DatapathError('InvalidRequest', `attachment is for pod ${pn.podUID}, DEL for ${pod.podUID}`);
    return this.locks.forPod(pod.podUID, () => removePod(this.node, pod, pn));
  }

  /** Links, addresses, routes (all tables), rules, neighbours and proxy entries of the node namespace. */
  observe(): Promise<Snapshot> {
    return read(this.node);
  }

  /** Runs node-side actions (from plan) in one batch; "already gone" is not an error. */
  execute(actions: readonly Action[]): Promise<void> {
    return write(this.node, { actions, tolerateGone: true });
  }

  /**
   * Observe, plan and execute, alone on the node (pod work waits). Returns the
   * plan that was executed: its problems need a new ADD for those pods.
   */
  repair(desired: readonly Attachment[]): Promise<Plan> {
    return this.locks.forNode(async () => {
      const p = plan(desired, await this.observe());
      if (p.actions.length > 0) await this.execute(p.actions);
      return p;
    });
  }
}
