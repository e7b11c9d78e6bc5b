// The agent's answer to CNI requests: find the pod's attachment in the
// controller's plan (waiting a bounded time when the runtime is faster than
// the plan), wire it with the datapath, and record what happened for the
// NodeNetwork status.
import type { Attachment } from '../api/nodenetwork.js';
import type { CniHandler, CniRequest, CniRequestContext } from './cni-server.js';
import { restoredContainer } from './container-map.js';
import { CniCode, CniError } from '../cni/errors.js';
import type { CniAddResult } from '../cni/types.js';
import type { Logger } from '../log/logger.js';
import { DatapathError, type CniResult, type PodRef, type PodSandbox } from './datapath/types.js';
import type { LocalState } from './status.js';

/** What the handler needs of the datapath (src/agent/datapath/datapath.ts). */
export interface DatapathPort {
  apply(attachment: Attachment, pod: PodSandbox): Promise<CniResult>;
  check(attachment: Attachment, pod: PodSandbox): Promise<string[]>;
  remove(pod: PodRef, attachment?: Attachment): Promise<void>;
}

/** What the handler needs of the plan (src/agent/plan-source.ts). */
export interface PlanPort {
  readonly nodeName: string;
  attachment(podUID: string): Attachment | undefined;
  waitFor(podUID: string, timeoutMs: number): Promise<Attachment | undefined>;
  byName(namespace: string, name: string): Attachment | undefined;
}

export interface HandlerDeps {
  datapath: DatapathPort;
  plan: PlanPort;
  /** Per pod UID: the state to report. The status writer reads it. */
  states: Map<string, LocalState>;
  /**
   * Container ID → pod UID (kept across restarts): for a DEL that does not name
   * the pod, and the set of pods the runtime has wired, which drift repair keeps.
   * An entry exists from the start of an ADD until its DEL, or until the ADD fails.
   */
  containers: { get(containerID: string): string | undefined; set(containerID: string, podUID: string): void; markReady(containerID: string): void; delete(containerID: string): void };
  changed(): void;
  /** Longest wait for the controller's plan; the request's own deadline may cut it shorter. */
  planWaitMs: number;
  now(): number;
  log: Logger;
  observe?: { planWait(seconds: number, found: boolean): void };
}

/** Leaves the plugin this much of its deadline to print an answer. */
const DEADLINE_MARGIN_MS = 250;

export class AgentHandler implements CniHandler {
  constructor(private readonly d: HandlerDeps) {}

  private podUID(req: CniRequest): string | undefined {
    if (req.podUID) return req.podUID;
    const planned = req.podNamespace && req.podName ? this.d.plan.byName(req.podNamespace, req.podName) : undefined;
    return planned?.podUID ?? this.d.containers.get(req.containerID);
  }

  private set(podUID: string, state: LocalState['state'], reason?: string, message?: string): void {
    const s: LocalState = { state, at: this.d.now() };
    if (reason) s.reason = reason;
    if (message) s.message = message;
    this.d.states.set(podUID, s);
    this.d.changed();
  }

  async add(req: CniRequest, ctx: CniRequestContext): Promise<CniAddResult> {
    const who = `pod ${req.podNamespace}/${req.podName}`;
    const podUID = this.podUID(req);
    if (!podUID) throw new CniError(CniCode.TryAgainLater, `${who}: no address planned for it on node ${this.d.plan.nodeName} yet`, 'the runtime sent no K8S_POD_UID and the plan has no attachment by that name');
    const started = this.d.now();
    const wait = Math.max(0, Math.min(this.d.planWaitMs, ctx.deadline - started - DEADLINE_MARGIN_MS));
    const attachment = await this.d.plan.waitFor(podUID, wait);
    this.d.observe?.planWait((this.d.now() - started) / 1000, attachment !== undefined);
    if (!attachment) {
      if (!this.d.states.has(podUID)) this.set(podUID, 'Pending', 'WaitingForPlan', `no attachment in NodeNetwork ${this.d.plan.nodeName} after ${wait} ms`);
      throw new CniError(CniCode.TryAgainLater, `${who}: no address planned for it on node ${this.d.plan.nodeName} after ${wait} ms; the controller may still be allocating`);
    }
    const known = this.d.containers.get(req.containerID) === podUID;
    this.d.containers.set(req.containerID, podUID);
    try {
      const result = await this.d.datapath.apply(attachment, { netns: req.netns, ifName: req.ifName, containerID: req.containerID });
      // Durable at once; the status reporting it is written a little later (see resume.ts).
      this.d.containers.markReady(req.containerID);
      this.set(podUID, 'Ready');
      const { cniVersion: _v, ...rest } = result;
      return rest;
    } catch (err) {
      const reason = err instanceof DatapathError ? err.reason : 'InternalError';
      const message = err instanceof Error ? err.message : String(err);
      // A first ADD that failed wired nothing to keep: repair must not complete it, and removes what it left.
      if (!known) this.d.containers.delete(req.containerID);
      this.set(podUID, 'Failed', reason, message);
      this.d.log.warn('ADD failed', { pod: who, podUID, reason, err: message });
      if (err instanceof DatapathError) {
        if (err.retryable) throw new CniError(CniCode.TryAgainLater, `${who}: ${message}`);
        // Spec code 3: the container does not exist, nothing to clean up (the datapath checks before touching the node).
        if (err.reason === 'NetnsNotFound') throw new CniError(CniCode.UnknownContainer, `${who}: ${message}`);
        if (err.reason === 'InvalidRequest') throw new CniError(CniCode.InvalidNetworkConfig, `${who}: ${message}`);
      }
      throw new CniError(CniCode.AgentInternal, `${who}: ${message}`);
    }
  }

  async del(req: CniRequest): Promise<void> {
    const podUID = this.podUID(req);
    // Nothing known about this container: nothing of ours can be there (DEL of the unknown succeeds).
    if (!podUID) return;
    const ref: PodRef = { podUID, containerID: req.containerID, ...(req.netns ? { netns: req.netns } : {}), ...(req.ifName ? { ifName: req.ifName } : {}) };
    const restored = restoredContainer(podUID);
    const entries = [req.containerID, restored].filter((c) => this.d.containers.get(c) === podUID);
    const wired = entries.length > 0;
    // Unwired before the removal starts, so a repair that runs after it does not put the pod back.
    for (const c of entries) this.d.containers.delete(c);
    try {
      await this.d.datapath.remove(ref, this.d.plan.attachment(podUID));
    } catch (err) {
      for (const c of entries) this.d.containers.set(c, podUID);
      throw err;
    }
    // The runtime cleaning up after a failed ADD: the failure (and its reason) is still the pod's story.
    if (!wired && this.d.states.get(podUID)?.state === 'Failed') return;
    if (this.d.states.has(podUID) || this.d.plan.attachment(podUID)) this.set(podUID, 'Released');
  }

  async check(req: CniRequest): Promise<void> {
    const podUID = this.podUID(req);
    const attachment = podUID ? this.d.plan.attachment(podUID) : undefined;
    if (!podUID || !attachment) throw new CniError(CniCode.UnknownContainer, `container ${req.containerID}: no attachment for it in NodeNetwork ${this.d.plan.nodeName}`);
    const problems = await this.d.datapath.check(attachment, { netns: req.netns, ifName: req.ifName, containerID: req.containerID });
    if (problems.length > 0) throw new CniError(CniCode.AttachmentBroken, `pod ${attachment.namespace}/${attachment.name}: ${problems.join('; ')}`);
  }
}
