// The simulated kubelet's command line. Pure.
import type * as k8s from '@kubernetes/client-node';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/controller/duration.js';
import type { KubeletOptions } from './kubelet.js';
import type { NodeRegistration } from './node-heartbeat.js';

export const USAGE = `Usage: node dist/e2e/kubelet/main.js [options]

A simulated kubelet: heartbeats its Node, and for each pod bound to it creates a
network namespace, runs the CNI plugins of --cni-conf-dir inside --node-netns,
starts the pod's containers as processes (an echo server on their ports) and
reports pod status. Deleted pods get CNI DEL, their namespace removed, and are
finalised.

  --kubeconfig FILE          required
  --node NAME                the Node this kubelet runs (required)
  --node-netns NAME          the node's network namespace, /run/netns/NAME (required)
  --node-ip IP               the node's primary IP: pods' hostIP, Node InternalIP
                             (default: the first global IPv4 address in --node-netns)
  --netns-prefix P           pod namespaces are P-<12 hex of the pod UID> (required)
  --cni-bin-dir DIRS         plugin directories, ':' or ',' separated (default /opt/cni/bin)
  --cni-conf-dir DIR         first *.conf/*.conflist/*.json is used (default /etc/cni/net.d)
  --state-dir DIR            sandbox records (default /run/eni-kubelet/<node>)
  --pod-log-dir DIR          container logs (default <state-dir>/pods)
  --workers N                pods worked on at once (default 4)
  --backoff-initial DUR      first retry of a failing pod (default 1s), doubling to
  --backoff-max DUR          (default 30s)
  --heartbeat-interval DUR   Lease renewal and node check (default 10s)
  --node-status-interval DUR node status posted at least this often (default 1m)
  --capacity LIST            e.g. cpu=4,memory=8Gi,pods=110 (default that + ephemeral-storage=20Gi)
  --register                 create the Node if missing, with:
    --node-labels LIST       k=v,k=v
    --register-with-taints LIST  k=v:Effect,k:Effect
    --provider-id ID
  --log-level LEVEL          error | warn | info | debug (default info)
`;

export function parsePairs(text: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',').filter(Boolean)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`${flag}: "${item}" is not key=value`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

export function parseTaints(text: string): k8s.V1Taint[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(item);
      if (!m) throw new Error(`--register-with-taints: "${item}" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
      return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3]! };
    });
}

/** Kubelet options from the command line (everything but the logger and kubeconfig). */
export function parseFlags(args: string[]): { kubeconfig: string; logLevel: string; options: Omit<KubeletOptions, 'kubeConfig' | 'logger'> } {
  const { values } = parseArgs({
    args,
    options: {
      kubeconfig: { type: 'string' },
      node: { type: 'string' },
      'node-netns': { type: 'string' },
      'node-ip': { type: 'string' },
      'netns-prefix': { type: 'string' },
      'cni-bin-dir': { type: 'string', default: '/opt/cni/bin' },
      'cni-conf-dir': { type: 'string', default: '/etc/cni/net.d' },
      'state-dir': { type: 'string' },
      'pod-log-dir': { type: 'string' },
      workers: { type: 'string', default: '4' },
      'backoff-initial': { type: 'string', default: '1s' },
      'backoff-max': { type: 'string', default: '30s' },
      'heartbeat-interval': { type: 'string', default: '10s' },
      'node-status-interval': { type: 'string', default: '1m' },
      capacity: { type: 'string', default: 'cpu=4,memory=8Gi,pods=110,ephemeral-storage=20Gi' },
      register: { type: 'boolean', default: false },
      'node-labels': { type: 'string', default: '' },
      'register-with-taints': { type: 'string', default: '' },
      'provider-id': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  for (const f of ['kubeconfig', 'node', 'node-netns', 'netns-prefix'] as const) if (!values[f]) throw new Error(`--${f} is required`);
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers: "${values.workers}" is not a positive integer`);
  if (values['node-ip'] !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(values['node-ip'])) throw new Error(`--node-ip: "${values['node-ip']}" is not an IPv4 address`);
  const stateDir = values['state-dir'] ?? `/run/eni-kubelet/${values.node}`;
  const register: NodeRegistration | undefined = values.register
    ? { labels: parsePairs(values['node-labels'], '--node-labels'), taints: parseTaints(values['register-with-taints']), providerID: values['provider-id'] }
    : undefined;
  return {
    kubeconfig: values.kubeconfig!,
    logLevel: values['log-level'],
    options: {
      nodeName: values.node!,
      nodeNetns: values['node-netns']!,
      nodeIP: values['node-ip'],
      netnsPrefix: values['netns-prefix']!,
      cniBinDirs: values['cni-bin-dir'].split(/[:,]/).filter(Boolean),
      cniConfDir: values['cni-conf-dir'],
      stateDir,
      podLogDir: values['pod-log-dir'] ?? `${stateDir}/pods`,
      workers,
      backoff: { initialMs: parseDuration(values['backoff-initial']), maxMs: parseDuration(values['backoff-max']) },
      heartbeatIntervalMs: parseDuration(values['heartbeat-interval']),
      nodeStatusIntervalMs: parseDuration(values['node-status-interval']),
      capacity: parsePairs(values.capacity, '--capacity'),
      register,
    },
  };
}
