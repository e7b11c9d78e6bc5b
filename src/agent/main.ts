// `eni-operator agent`: one per node, in the node's network namespace. Watches
// its own NodeNetwork, serves the CNI plugin on a unix socket, applies each
// attachment through the datapath, repairs drift, and reports per-attachment
// status and the node's capabilities. It reads no Secret and calls no cloud.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeNetwork } from '../api/nodenetwork.js';
import { parseHostPort } from '../cmd/host-port.js';
import { parseDuration } from '../controller/duration.js';
import { CRClient } from '../controller/kube.js';
import { HealthServer } from '../controller/runtime/health.js';
import { createLogger } from '../log/logger.js';
import { AgentMetrics } from '../metrics/agent.js';
import { CniMetrics } from '../metrics/cni.js';
import { startCniServer } from './cni-server.js';
import { ContainerMap, restoredContainer } from './container-map.js';
import { resume } from './resume.js';
import { detectCapabilities } from './datapath/capabilities.js';
import { Datapath } from './datapath/datapath.js';
import { AgentHandler } from './handler.js';
import { shareConnections } from '../kube/connections.js';
import { namedNetns, netnsExists, type Netns } from './netlink/netns.js';
import { PlanSource } from './plan-source.js';
import { serialRerun } from './rerun.js';
import { forgettable, statusFor, type LocalState } from './status.js';
import { StatusWriter } from './status-writer.js';

const USAGE = `Usage: eni-operator agent [flags]

Runs the node agent: serves the eni-cni plugin and wires pods as the node's
NodeNetwork says.

Flags:
  --kubeconfig FILE        kubeconfig (default: in-cluster or $KUBECONFIG)
  --node NAME              this node's name (default: $NODE_NAME, else the hostname)
  --socket PATH            unix socket for the CNI plugin (default /run/eni-operator/agent.sock)
  --state-dir DIR          small state kept across restarts (default /run/eni-operator)
  --listen HOST:PORT       /healthz, /readyz, /metrics (default 127.0.0.1:9966)
  --plan-wait DURATION     longest an ADD waits for the controller's plan (default 10s)
  --repair-interval DUR    read back the kernel and repair drift this often (default 1m)
  --status-coalesce DUR    after a change, wait this long so that the changes close to it
                           share one NodeNetwork status write (default 20ms)
  --node-netns NAME        act on this named network namespace (/run/netns/NAME) instead of
                           the agent's own: the sandbox's simulated nodes, whose agent stays
                           where it can reach the API server
  --log-level LEVEL        error|warn|info|debug (default info)
  -h, --help               this help
`;

export async function runAgent(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        node: { type: 'string', default: process.env.NODE_NAME ?? hostname() },
        socket: { type: 'string', default: '/run/eni-operator/agent.sock' },
        'state-dir': { type: 'string', default: '/run/eni-operator' },
        listen: { type: 'string', default: '127.0.0.1:9966' },
        'plan-wait': { type: 'string', default: '10s' },
        'repair-interval': { type: 'string', default: '1m' },
        'status-coalesce': { type: 'string', default: '20ms' },
        'node-netns': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let planWaitMs: number, repairMs: number, coalesceMs: number, listen: { host: string; port: number };
  let nodeNetns: Netns | undefined;
  try {
    if (values['node-netns'] !== undefined) {
      nodeNetns = namedNetns(values['node-netns']);
      if (!netnsExists(nodeNetns)) throw new Error(`--node-netns: no network namespace /run/netns/${values['node-netns']}`);
    }
    const duration = (flag: 'plan-wait' | 'repair-interval' | 'status-coalesce'): number => {
      try {
        return parseDuration(values[flag]);
      } catch (err) {
        throw new Error(`--${flag}: ${(err as Error).message}`, { cause: err });
      }
    };
    planWaitMs = duration('plan-wait');
    repairMs = duration('repair-interval');
    coalesceMs = duration('status-coalesce');
    listen = parseHostPort(values.listen);
    if (!values.node) throw new Error('--node is empty');
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n`);
    return 2;
  }
  const nodeName = values.node;
  const log = createLogger({ component: 'agent', level: values['log-level'] }).child({ node: nodeName });
  const kc = new k8s.KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();
  shareConnections(kc);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eni_operator_agent_' });
  const metrics = new AgentMetrics(registry);

  let caps;
  try {
    caps = await detectCapabilities();
  } catch (err) {
    // Without its eni-exec helper the agent cannot touch the kernel: say so and stop.
    process.stderr.write(`agent: ${(err as Error).message}\n`);
    return 1;
  }
  log.info('agent starting', { kernel: caps.kernelVersion, ipvlan: caps.ipvlan, ebpf: caps.ebpf, detail: caps.detail });
  const plan = new PlanSource(kc, nodeName, (err) => log.warn('NodeNetwork watch error', { err: String(err) }));
  const datapath = new Datapath({ ipvlan: caps.ipvlan, ...(nodeNetns ? { node: nodeNetns } : {}) });
  const states = new Map<string, LocalState>();
  const containers = new ContainerMap(join(values['state-dir'], `${nodeName}.containers.json`));
  const cr = new CRClient(kc);
  const capabilities = { kernelVersion: caps.kernelVersion, ipvlan: caps.ipvlan, ebpf: caps.ebpf };
  const writer = new StatusWriter({
    cr,
    nodeName,
    current: () => plan.current(),
    compute: () => {
      const nn = plan.current();
      if (!nn) return undefined;
      // Pods the plan no longer names: the controller has seen them go (see forgettable).
      for (const uid of forgettable(nn.spec, states, Date.now())) states.delete(uid);
      return statusFor(nn.spec, states, nn.status, capabilities, nn.metadata.generation ?? 0);
    },
    onError: (err) => log.warn('NodeNetwork status not written; retrying', { err: String(err) }),
    coalesceMs,
  });

  await plan.start();
  // What was reported before a restart stands until the kernel says otherwise, the container map
  // correcting what the last run did but had not yet reported. Repair keeps only wired pods (the
  // map): a pod reported Ready that a lost map does not know stays wired until its DEL rather
  // than being torn down here.
  const resumed = resume({
    reported: plan.current()?.status?.attachments ?? [],
    planned: new Set((plan.current()?.spec.attachments ?? []).map((a) => a.podUID)),
    wired: containers.pods(),
    ready: containers.readyPods(),
    mapFound: containers.found,
    now: Date.now(),
  });
  for (const [uid, s] of resumed.states) states.set(uid, s);
  for (const uid of resumed.rewire) {
    containers.set(restoredContainer(uid), uid);
    containers.markReady(restoredContainer(uid));
  }

  const repairOnce = async (why: string): Promise<void> => {
    try {
      // Only pods the runtime has wired: a planned pod owns nothing on the node before its ADD, nor after its DEL.
      const wired = containers.pods();
      const desired = (plan.current()?.spec.attachments ?? []).filter((a) => wired.has(a.podUID));
      const result = await datapath.repair(desired);
      for (const a of result.actions) metrics.repairs.inc({ kind: a.kind.endsWith('-delete') || a.kind === 'eni-release' ? 'remove' : 'repair' });
      if (result.actions.length > 0) log.info('repaired the node datapath', { why, actions: result.actions.map((a) => `${a.kind}: ${a.why}`) });
      for (const p of result.problems) {
        metrics.repairs.inc({ kind: 'pod' });
        // Only pods that were Ready: a pod not yet ADDed has nothing to repair.
        if (states.get(p.podUID)?.state === 'Ready') states.set(p.podUID, { state: 'Failed', reason: 'Drift', message: p.problem, at: Date.now() });
      }
      containers.prune((uid) => states.has(uid) || plan.attachment(uid) !== undefined);
      writer.poke();
    } catch (err) {
      log.warn('repair failed', { why, err: String(err) });
    }
  };
  // A plan change during a repair gets a repair of its own right after: the running one read the
  // plan and the wired pods before the change, and the next periodic repair may be a minute away.
  const repair = serialRerun(repairOnce);
  // Watched before the first repair: an attachment that leaves while it runs gets a repair too.
  let planned = new Set((plan.current()?.spec.attachments ?? []).map((a) => a.podUID));
  plan.onChange((nn: NodeNetwork | undefined) => {
    writer.poke();
    const now = new Set((nn?.spec.attachments ?? []).map((a) => a.podUID));
    // An attachment left the plan: what it had on the node goes.
    if ([...planned].some((uid) => !now.has(uid))) void repair('attachments left the plan');
    planned = now;
  });
  await repair('start');
  const repairTimer = setInterval(() => void repair('periodic'), repairMs);

  const handler = new AgentHandler({
    datapath,
    plan,
    states,
    containers,
    changed: () => writer.poke(),
    planWaitMs,
    now: () => Date.now(),
    log,
    observe: { planWait: (s, found) => metrics.planWait.observe({ found: String(found) }, s) },
  });
  const server = await startCniServer(values.socket, handler, { metrics: new CniMetrics(registry), logger: log });
  const health = new HealthServer({ registry });
  health.addLivenessCheck('ping', () => true);
  health.addReadinessCheck('plan-synced', () => plan.informer.hasSynced());
  const address = await health.listen(listen.host, listen.port);
  writer.poke();
  log.info('agent ready', { socket: values.socket, health: `${address.host}:${address.port}` });

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('shutting down: finishing in-flight CNI requests');
  clearInterval(repairTimer);
  await server.close();
  await writer.close();
  await plan.stop();
  await health.close();
  return 0;
}
