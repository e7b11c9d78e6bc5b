// What a running sandbox tells its users: sandbox.json (for programs) and the
// shell-sourceable env file (for people and scripts). Pure.
import type { ProviderType } from '../../src/api/common.js';
import type { Identity } from '../harness/control-plane.js';
import type { SandboxCNI } from './node-cni.js';

export interface SandboxNodeInfo {
  name: string;
  instanceId: string;
  zone: string;
  instanceType: string;
  providerID: string;
  /** The node's fabric namespace: its "host". */
  netns: string;
  /** Primary IP of the primary ENI: the Node's InternalIP. */
  ip: string;
  /** Pod namespaces of this node are `<podNetnsPrefix>-<12 hex of the pod UID>`. */
  podNetnsPrefix: string;
  cniConfDir: string;
  /** The node agent's CNI socket; '' with the bridge CNI. */
  agentSocket: string;
  kubeletLog: string;
  kubeletPid: number;
  /** The node agent (eni only). */
  agent?: { url: string; log: string };
}

/** The operator's side of a sandbox whose CNI is eni. */
export interface SandboxOperatorInfo {
  controllerURL: string;
  controllerLog: string;
  /** Ready to `kubectl apply -f`: governs every node of the sandbox. */
  networkMode: string;
  /** namespace/name of the credentials Secret the NetworkMode names. */
  credentialsSecret: string;
  /** `<label>=<value>` every sandbox Node carries. */
  nodeLabel: string;
  podSubnets: { id: string; zone: string; cidr: string }[];
}

export interface SandboxInfo {
  /** The registry id; also the controller's --cluster-id (tags every ENI it creates). */
  id: string;
  cni: SandboxCNI;
  provider: ProviderType;
  region: string;
  kubeconfig: string;
  apiserverURL: string;
  etcdURL: string;
  controllerManagerHealthURL: string;
  schedulerHealthURL: string;
  cloudsimURL: string;
  /** The world file the emulator runs (the sandbox's generated one). */
  world: string;
  cloudsimLog: string;
  fabricPrefix: string;
  routerNetns: string;
  kubeconfigs: Record<Identity, string>;
  nodes: SandboxNodeInfo[];
  operator?: SandboxOperatorInfo;
  supervisorPid: number;
  /** Launch to the API server answering /readyz. */
  apiserverReadyMs: number;
  /** Launch to every Node Ready (the sandbox usable). */
  readyMs: number;
}

/** `ENI_SANDBOX_KUBECONFIG_KUBE_SCHEDULER` from 'kube-scheduler'. */
const envName = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** Single-quoted for the shell when it is not plain. */
function shellValue(v: string): string {
  return /^[A-Za-z0-9_./:@,=+-]*$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`;
}

export function envEntries(info: SandboxInfo): [string, string][] {
  const entries: [string, string][] = [
    ['KUBECONFIG', info.kubeconfig],
    ['ENI_SANDBOX_ID', info.id],
    ['ENI_SANDBOX_CNI', info.cni],
    ['ENI_SANDBOX_PROVIDER', info.provider],
    ['ENI_SANDBOX_REGION', info.region],
    ['ENI_SANDBOX_APISERVER', info.apiserverURL],
    ['ENI_SANDBOX_ETCD', info.etcdURL],
    ['ENI_SANDBOX_CONTROLLER_MANAGER_HEALTH', info.controllerManagerHealthURL],
    ['ENI_SANDBOX_SCHEDULER_HEALTH', info.schedulerHealthURL],
    // Alibaba and Tencent SDKs reach it by endpoint override; /_admin/ has the world, faults, stats and the fabric.
    ['ENI_SANDBOX_CLOUDSIM', info.cloudsimURL],
    ['ENI_SANDBOX_CLOUDSIM_LOG', info.cloudsimLog],
    ['ENI_SANDBOX_WORLD', info.world],
    ['ENI_SANDBOX_FABRIC_PREFIX', info.fabricPrefix],
    ['ENI_SANDBOX_ROUTER_NETNS', info.routerNetns],
    ...Object.entries(info.kubeconfigs).map(([who, file]): [string, string] => [`ENI_SANDBOX_KUBECONFIG_${envName(who)}`, file]),
    ['ENI_SANDBOX_NODES', info.nodes.map((n) => n.name).join(' ')],
  ];
  const op = info.operator;
  if (op) {
    entries.push(
      // `kubectl apply -f $ENI_SANDBOX_NETWORKMODE` is all it takes to give the pods VPC addresses.
      ['ENI_SANDBOX_NETWORKMODE', op.networkMode],
      ['ENI_SANDBOX_CREDENTIALS_SECRET', op.credentialsSecret],
      ['ENI_SANDBOX_NODE_LABEL', op.nodeLabel],
      ['ENI_SANDBOX_POD_SUBNETS', op.podSubnets.map((s) => s.id).join(' ')],
      ['ENI_SANDBOX_POD_CIDRS', op.podSubnets.map((s) => s.cidr).join(' ')],
      ['ENI_SANDBOX_CONTROLLER_HEALTH', `${op.controllerURL}/healthz`],
      ['ENI_SANDBOX_CONTROLLER_METRICS', `${op.controllerURL}/metrics`],
      ['ENI_SANDBOX_CONTROLLER_LOG', op.controllerLog],
    );
  }
  info.nodes.forEach((n, i) => {
    const p = `ENI_SANDBOX_NODE_${i + 1}_`;
    entries.push(
      [`${p}NAME`, n.name],
      [`${p}INSTANCE`, n.instanceId],
      [`${p}ZONE`, n.zone],
      [`${p}PROVIDER_ID`, n.providerID],
      [`${p}NETNS`, n.netns],
      [`${p}IP`, n.ip],
      [`${p}POD_NETNS_PREFIX`, n.podNetnsPrefix],
      [`${p}CNI_CONF_DIR`, n.cniConfDir],
      [`${p}KUBELET_LOG`, n.kubeletLog],
    );
    if (n.agent) {
      entries.push(
        [`${p}AGENT_SOCKET`, n.agentSocket],
        [`${p}AGENT_HEALTH`, `${n.agent.url}/healthz`],
        [`${p}AGENT_METRICS`, `${n.agent.url}/metrics`],
        [`${p}AGENT_LOG`, n.agent.log],
      );
    }
  });
  entries.push(
    ['ENI_SANDBOX_SUPERVISOR_PID', String(info.supervisorPid)],
    ['ENI_SANDBOX_APISERVER_READY_MS', String(info.apiserverReadyMs)],
    ['ENI_SANDBOX_READY_MS', String(info.readyMs)],
  );
  return entries;
}

export function renderEnv(info: SandboxInfo): string {
  return envEntries(info)
    .map(([k, v]) => `${k}=${shellValue(v)}`)
    .join('\n') + '\n';
}
