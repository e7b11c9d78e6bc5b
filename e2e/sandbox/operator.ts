// The operator in the sandbox, run as it is deployed: one controller (the
// `controller` identity, the only holder of cloud credentials) and per node
// one agent (the `agent` identity). Agents stay in the host namespace, where
// the API server is, and act on their node's fabric namespace (--node-netns).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../harness/paths.js';
import type { ProcessGroup } from '../harness/processes.js';

export interface Endpoint {
  /** http://127.0.0.1:PORT: /healthz, /readyz, /metrics. */
  url: string;
  port: number;
  log: string;
}

export interface AgentEndpoint extends Endpoint {
  node: string;
  socket: string;
  stateDir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const operatorBin = () => repoPath('dist/src/cmd/eni-operator.js');

export function startController(group: ProcessGroup, o: { dir: string; kubeconfig: string; clusterId: string; port: number }): Endpoint {
  const log = join(o.dir, 'controller.log');
  group.start('controller', process.execPath, [operatorBin(), 'controller', '--kubeconfig', o.kubeconfig, '--cluster-id', o.clusterId, '--identity', 'controller', '--listen', `127.0.0.1:${o.port}`], log);
  return { url: `http://127.0.0.1:${o.port}`, port: o.port, log };
}

/** The node's agent; its files (socket, state, log) are under `home` (nodes/<name>/). */
export function startAgent(group: ProcessGroup, o: { home: string; node: string; netns: string; kubeconfig: string; port: number }): AgentEndpoint {
  const stateDir = join(o.home, 'agent');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const socket = join(o.home, 'agent.sock');
  const log = join(o.home, 'agent.log');
  group.start(`agent-${o.node}`, process.execPath, [
    operatorBin(),
    'agent',
    ...['--kubeconfig', o.kubeconfig, '--node', o.node, '--node-netns', o.netns],
    ...['--socket', socket, '--state-dir', stateDir, '--listen', `127.0.0.1:${o.port}`],
    // A pod bound before its node's pool is warm waits for the controller (an ENI attaches in seconds).
    ...['--plan-wait', '20s'],
  ], log);
  return { node: o.node, url: `http://127.0.0.1:${o.port}`, port: o.port, log, socket, stateDir };
}

function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

/** Resolves once the component answers /readyz (informers synced); rejects when it exits first or after timeoutMs. */
export async function waitReady(group: ProcessGroup, name: string, e: Endpoint, timeoutMs = 60_000): Promise<void> {
  let exited: number | null | undefined;
  void group.exited(name).then((code) => (exited = code));
  for (const until = Date.now() + timeoutMs; ; await sleep(100)) {
    if (exited !== undefined) throw new Error(`${name} exited (code ${exited}) before it was ready:\n${tail(e.log)}`);
    if (await fetch(`${e.url}/readyz`).then((r) => r.ok, () => false)) return;
    if (Date.now() > until) throw new Error(`${name} not ready after ${timeoutMs} ms:\n${tail(e.log)}`);
  }
}
