// A real control plane on loopback — etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler — with RBAC on and one identity per component, for the
// integration tests and the sandbox.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { GROUP } from '../../src/api/common.js';
import { RESOURCES } from '../../src/api/crds.js';
import { AGENT, CONTROLLER, DEFAULT_NAMESPACE, serviceAccountUser } from '../../src/api/rbac.js';
import { freePorts } from './ports.js';
import { repoPath, toolPath } from './paths.js';
import { ProcessGroup, cleanupStaleInstances } from './processes.js';

const run = promisify(execFile);

export const IDENTITIES = ['admin', 'controller', 'agent', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Identity = (typeof IDENTITIES)[number];

/** Everything a test or a user needs to reach a running control plane. */
export interface ControlPlaneInfo {
  dir: string;
  apiserverURL: string;
  etcdURL: string;
  /** The controller-manager's and scheduler's are their HTTPS health ports. */
  ports: { apiserver: number; etcdClient: number; etcdPeer: number; controllerManager: number; scheduler: number };
  kubeconfigs: Record<Identity, string>;
  users: Record<Identity, string>;
  /** Milliseconds from launching etcd to the API server answering /readyz. */
  startToReadyMs: number;
  /**
   * Milliseconds from launching etcd to the whole plane working: the API server
   * ready, the controller-manager and scheduler healthy, and the controller-manager
   * having made the `default` ServiceAccount of namespace `default`.
   */
  startToFullPlaneMs: number;
  pids: number[];
}

export interface StartOptions {
  /** Folder for data, certificates, logs and kubeconfigs. */
  dir: string;
  /** Registry id; stale instances with the same owner-less id are cleaned on start. */
  id: string;
  /** Remove `dir` on stop (tests) or keep it (the sandbox keeps logs until sandbox-down). */
  removeDir: boolean;
  /** Install CRDs and RBAC from the repository once ready (default true). */
  bootstrap?: boolean;
  /** Kill the processes on SIGINT/SIGTERM/SIGHUP of this process (default true). */
  handleSignals?: boolean;
}

/** `ca: 'self-signed'` accepts any certificate: for the components' loopback health ports, whose certificates they make up in memory. */
function get(url: string, headers: Record<string, string>, ca?: Buffer | 'self-signed'): Promise<{ status: number; body: string }> {
  const tls = ca === 'self-signed' ? { rejectUnauthorized: false } : { ca };
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { headers, ...tls, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(what: string, deadlineMs: number, crashed: Promise<unknown>, probe: () => Promise<boolean>): Promise<void> {
  let dead: string | undefined;
  void crashed.then(() => (dead = `${what}: the process exited`));
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (dead) throw new Error(dead);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not ready after ${deadlineMs} ms`);
}

function tail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

export class ControlPlane {
  private constructor(
    readonly info: ControlPlaneInfo,
    private readonly group: ProcessGroup,
  ) {}

  static async start(opts: StartOptions): Promise<ControlPlane> {
    cleanupStaleInstances();
    const { dir } = opts;
    const began = Date.now();
    for (const sub of ['etcd', 'pki', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
    const [apiserver, etcdClient, etcdPeer, controllerManager, scheduler] = (await freePorts(5)) as [number, number, number, number, number];

    const tokens = Object.fromEntries(IDENTITIES.map((i) => [i, randomBytes(24).toString('hex')])) as Record<Identity, string>;
    const users: Record<Identity, string> = {
      admin: 'eni-admin',
      controller: serviceAccountUser(CONTROLLER),
      agent: serviceAccountUser(AGENT),
      // The API server's bootstrap RBAC already binds these two users to their roles.
      'kube-controller-manager': 'system:kube-controller-manager',
      'kube-scheduler': 'system:kube-scheduler',
    };
    const saGroups = `system:serviceaccounts,system:serviceaccounts:${DEFAULT_NAMESPACE}`;
    const groups: Record<Identity, string> = {
      admin: 'system:masters',
      controller: saGroups,
      agent: saGroups,
      'kube-controller-manager': '',
      'kube-scheduler': '',
    };
    writeFileSync(
      join(dir, 'pki', 'tokens.csv'),
      IDENTITIES.map((i) => `${tokens[i]},${users[i]},${users[i]},"${groups[i]}"`).join('\n') + '\n',
      { mode: 0o600 },
    );
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'pki', 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'pki', 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));

    const group = new ProcessGroup(opts.id, dir, opts.removeDir, opts.handleSignals ?? true);
    try {
      const etcdURL = `http://127.0.0.1:${etcdClient}`;
      const peerURL = `http://127.0.0.1:${etcdPeer}`;
      const etcdLog = join(dir, 'logs', 'etcd.log');
      group.start('etcd', toolPath('etcd'), [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdURL}`,
        `--advertise-client-urls=${etcdURL}`,
        `--listen-peer-urls=${peerURL}`,
        `--initial-advertise-peer-urls=${peerURL}`,
        `--initial-cluster=default=${peerURL}`,
        '--unsafe-no-fsync', // throwaway data; fsync only slows tests down
        '--log-level=warn',
      ], etcdLog);
      await waitFor('etcd', 30_000, group.exited('etcd'), async () => (await get(`${etcdURL}/health`, {})).body.includes('"true"')).catch(
        (err: Error) => Promise.reject(new Error(`${err.message}\n${tail(etcdLog)}`)),
      );

      const apiLog = join(dir, 'logs', 'kube-apiserver.log');
      group.start('kube-apiserver', toolPath('kube-apiserver'), [
        `--etcd-servers=${etcdURL}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiserver}`,
        `--cert-dir=${join(dir, 'pki')}`,
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(dir, 'pki', 'tokens.csv')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'pki', 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'pki', 'sa.key')}`,
        // Only an allocation range for Service objects; nothing is routed to it.
        '--service-cluster-ip-range=10.96.0.0/16',
        '--allow-privileged=true',
        '--profiling=false',
      ], apiLog);
      const apiURL = `https://127.0.0.1:${apiserver}`;
      const caFile = join(dir, 'pki', 'apiserver.crt');
      await waitFor('kube-apiserver', 90_000, group.exited('kube-apiserver'), async () => {
        if (!existsSync(caFile)) return false;
        const res = await get(`${apiURL}/readyz`, { Authorization: `Bearer ${tokens.admin}` }, readFileSync(caFile));
        return res.status === 200;
      }).catch((err: Error) => Promise.reject(new Error(`${err.message}\n${tail(apiLog)}`)));
      const startToReadyMs = Date.now() - began;

      const kubeconfigs = {} as Record<Identity, string>;
      for (const identity of IDENTITIES) {
        kubeconfigs[identity] = join(dir, `kubeconfig-${identity}`);
        writeFileSync(kubeconfigs[identity], kubeconfig(apiURL, caFile, identity, tokens[identity]), { mode: 0o600 });
      }
      startKubeControllers(group, dir, kubeconfigs, { controllerManager, scheduler });
      const info: ControlPlaneInfo = {
        dir,
        apiserverURL: apiURL,
        etcdURL,
        ports: { apiserver, etcdClient, etcdPeer, controllerManager, scheduler },
        kubeconfigs,
        users,
        startToReadyMs,
        startToFullPlaneMs: 0,
        pids: group.pids(),
      };
      const cp = new ControlPlane(info, group);
      // The CRDs go in while the controllers start; neither waits for the other.
      await Promise.all([
        opts.bootstrap ?? true ? cp.bootstrap() : undefined,
        waitForKubeControllers(group, dir, info.ports, () => get(`${apiURL}/api/v1/namespaces/default/serviceaccounts/default`, { Authorization: `Bearer ${tokens.admin}` }, readFileSync(caFile))).then(
          () => (info.startToFullPlaneMs = Date.now() - began),
        ),
      ]);
      writeFileSync(join(dir, 'control-plane.json'), JSON.stringify(info, null, 2));
      return cp;
    } catch (err) {
      await group.stop(2000);
      throw err;
    }
  }

  /** Runs the pinned kubectl as the given identity. */
  async kubectl(args: string[], identity: Identity = 'admin', input?: string): Promise<string> {
    return kubectl(this.info, args, identity, input);
  }

  /** Installs the CRDs and the components' RBAC, and waits for the CRDs to be Established. */
  private async bootstrap(): Promise<void> {
    await this.kubectl(['apply', '--server-side', '-f', repoPath('config/rbac/rbac.yaml')]);
    await this.kubectl(['apply', '--server-side', '-k', repoPath('crds')]);
    const crds = RESOURCES.map((r) => `crd/${r.plural}.${GROUP}`);
    // Not `kubectl wait --for=condition=Established`: it fails outright on a CRD
    // that has no conditions yet, which happens on a loaded machine.
    for (const until = Date.now() + 60_000; ; await new Promise((res) => setTimeout(res, 100))) {
      const out = await this.kubectl(['get', ...crds, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Established")].status}{"\\n"}{end}']).catch(() => '');
      if (out.split('\n').filter((l) => l === 'True').length === crds.length) break;
      if (Date.now() > until) throw new Error(`CRDs not Established after 60 s: ${crds.join(', ')}`);
    }
    // Established is not yet servable: the API server answers 429 "storage is
    // (re)initializing" for a moment. Ready means every resource lists.
    for (const r of RESOURCES) {
      for (const until = Date.now() + 30_000; ; await new Promise((res) => setTimeout(res, 100))) {
        try {
          await this.kubectl(['get', r.plural, '-o', 'name']);
          break;
        } catch (err) {
          if (Date.now() > until) throw err;
        }
      }
    }
  }

  async stop(): Promise<void> {
    await this.group.stop();
  }
}

export async function kubectl(info: ControlPlaneInfo, args: string[], identity: Identity = 'admin', input?: string): Promise<string> {
  const child = run(toolPath('kubectl'), ['--kubeconfig', info.kubeconfigs[identity], ...args], { maxBuffer: 64 << 20 });
  // kubectl may exit before reading its input (e.g. an early error): that is its exit status's
  // business, not an unhandled EPIPE that kills the caller.
  child.child.stdin?.on('error', () => undefined);
  child.child.stdin?.end(input ?? '');
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/**
 * Starts kube-controller-manager and kube-scheduler, each as its own user.
 * Leader election is off (one instance each); health is served on loopback.
 */
function startKubeControllers(group: ProcessGroup, dir: string, kubeconfigs: Record<Identity, string>, ports: { controllerManager: number; scheduler: number }): void {
  const serving = (port: number) => ['--bind-address=127.0.0.1', `--secure-port=${port}`, '--leader-elect=false', '--profiling=false'];
  group.start('kube-controller-manager', toolPath('kube-controller-manager'), [
    `--kubeconfig=${kubeconfigs['kube-controller-manager']}`,
    ...serving(ports.controllerManager),
    // Every controller, node lifecycle included: with no kubelet a Node turns
    // NotReady after the startup grace period, as it would in a real cluster.
    '--controllers=*',
    // One ServiceAccount per controller, as kubeadm does: the bootstrap RBAC of each is exercised.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${join(dir, 'pki', 'sa.key')}`,
    // The API server's self-signed serving certificate is the only CA; pods find it in kube-root-ca.crt.
    `--root-ca-file=${join(dir, 'pki', 'apiserver.crt')}`,
    // At the default 20 QPS, creating ~40 controllers' ServiceAccounts and tokens alone takes 4 s.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ], join(dir, 'logs', 'kube-controller-manager.log'));
  group.start('kube-scheduler', toolPath('kube-scheduler'), [
    `--kubeconfig=${kubeconfigs['kube-scheduler']}`,
    ...serving(ports.scheduler),
  ], join(dir, 'logs', 'kube-scheduler.log'));
}

/** Waits for both components' health and for the controller-manager to have made `default/default` (its ServiceAccount controller runs). */
async function waitForKubeControllers(
  group: ProcessGroup,
  dir: string,
  ports: { controllerManager: number; scheduler: number },
  getDefaultServiceAccount: () => Promise<{ status: number }>,
): Promise<void> {
  const healthy = (name: string, probe: () => Promise<boolean>) =>
    waitFor(name, 60_000, group.exited(name), probe).catch((err: Error) => Promise.reject(new Error(`${err.message}\n${tail(join(dir, 'logs', `${name}.log`))}`)));
  const ok = async (port: number, path: string) => (await get(`https://127.0.0.1:${port}${path}`, {}, 'self-signed')).status === 200;
  await Promise.all([
    healthy('kube-controller-manager', async () => (await ok(ports.controllerManager, '/healthz')) && (await getDefaultServiceAccount()).status === 200),
    healthy('kube-scheduler', () => ok(ports.scheduler, '/healthz')),
  ]);
}

function kubeconfig(server: string, caFile: string, identity: Identity, token: string): string {
  const name = `eni-sandbox-${identity}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'eni-sandbox', cluster: { server, 'certificate-authority-data': readFileSync(caFile).toString('base64') } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: 'eni-sandbox', user: name } }],
    'current-context': name,
  });
}
