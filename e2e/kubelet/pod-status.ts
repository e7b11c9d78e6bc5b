// The pod status a kubelet reports, built from what it knows about the pod's
// sandbox and containers. Pure apart from the clock passed in.
import type * as k8s from '@kubernetes/client-node';

/** metav1.Time: RFC 3339 in whole seconds. */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface ContainerView {
  name: string;
  image: string;
  restartCount: number;
  /** Running since, or waiting with a reason. */
  running?: { startedAt: Date; containerID: string };
  waiting?: { reason: string; message?: string };
  lastTerminated?: { exitCode: number; signal?: number; reason: string; startedAt: Date; finishedAt: Date; containerID: string };
}

export interface PodView {
  hostIP: string;
  startTime: Date;
  /** Pod IPs once the sandbox is up. */
  podIPs: string[];
  sandboxReady: boolean;
  containers: ContainerView[];
}

/**
 * Remembers when each condition last changed status, so repeated status
 * writes keep lastTransitionTime stable (seeded from the pod's current status).
 */
export class ConditionClock {
  private readonly times = new Map<string, { status: string; time: string }>();

  constructor(existing: k8s.V1PodCondition[] = []) {
    for (const c of existing) if (c.lastTransitionTime) this.times.set(c.type, { status: c.status, time: kubeTime(new Date(c.lastTransitionTime)) });
  }

  at(type: string, status: string, now: Date): string {
    const t = this.times.get(type);
    if (t && t.status === status) return t.time;
    const time = kubeTime(now);
    this.times.set(type, { status, time });
    return time;
  }
}

/** Status as sent on the wire: times are strings, so client-node's Date-typed models do not fit. */
type Wire = Record<string, unknown>;

function containerStatus(c: ContainerView): Wire {
  const state = c.running
    ? { running: { startedAt: kubeTime(c.running.startedAt) } }
    : { waiting: { reason: c.waiting?.reason ?? 'ContainerCreating', ...(c.waiting?.message ? { message: c.waiting.message } : {}) } };
  const last = c.lastTerminated;
  return {
    name: c.name,
    image: c.image,
    imageID: '',
    ready: Boolean(c.running),
    started: Boolean(c.running),
    restartCount: c.restartCount,
    state,
    ...(c.running ? { containerID: c.running.containerID } : {}),
    ...(last
      ? {
          lastState: {
            terminated: {
              exitCode: last.exitCode,
              ...(last.signal !== undefined ? { signal: last.signal } : {}),
              reason: last.reason,
              startedAt: kubeTime(last.startedAt),
              finishedAt: kubeTime(last.finishedAt),
              containerID: last.containerID,
            },
          },
        }
      : {}),
  };
}

/** The body of a strategic merge patch of pods/status (conditions merge by type, podIPs by ip, containerStatuses by name). */
export function podStatusPatch(view: PodView, clock: ConditionClock, now: Date): { status: Wire } {
  const containers = view.containers.map(containerStatus);
  const allRunning = view.containers.length > 0 && view.containers.every((c) => c.running);
  const notReady = view.containers.filter((c) => !c.running).map((c) => c.name);
  const cond = (type: string, ok: boolean, reason?: string, message?: string): Wire => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: clock.at(type, ok ? 'True' : 'False', now),
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  });
  const unready = `containers with unready status: [${notReady.join(' ')}]`;
  const status: Wire = {
    // Running once a container has started (and while it restarts), as the kubelet reports it.
    phase: view.sandboxReady && view.containers.some((c) => c.running || c.restartCount > 0) ? 'Running' : 'Pending',
    conditions: [
      cond('PodReadyToStartContainers', view.sandboxReady),
      cond('Initialized', true),
      cond('ContainersReady', allRunning, 'ContainersNotReady', unready),
      cond('Ready', allRunning, 'ContainersNotReady', unready),
      cond('PodScheduled', true),
    ],
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    startTime: kubeTime(view.startTime),
    containerStatuses: containers,
  };
  if (view.podIPs.length > 0) {
    status.podIP = view.podIPs[0];
    status.podIPs = view.podIPs.map((ip) => ({ ip }));
  }
  return { status };
}
