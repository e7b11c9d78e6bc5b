// The CNI_* environment variables (spec §2 "Parameters"), validated.
// Every failure is a CniError with code 4 naming the variable, as the spec asks.
import { CniCode, CniError } from './errors.js';
import { CNI_COMMANDS, type CniCommand } from './types.js';

export interface PodIdentity {
  /** '' when the runtime did not pass K8S_POD_NAMESPACE (allowed on DEL and CHECK only). */
  namespace: string;
  name: string;
  /** '' when the runtime did not pass K8S_POD_UID (older runtimes). */
  uid: string;
}

export interface CniEnv {
  command: CniCommand;
  /** '' for VERSION, STATUS and GC, which are not about one attachment. */
  containerID: string;
  /** '' when absent (allowed on DEL: the namespace may be gone already). */
  netns: string;
  ifName: string;
  /** Every CNI_ARGS pair, known or not. */
  args: Record<string, string>;
  pod: PodIdentity;
}

export type Environment = Record<string, string | undefined>;

// Same rule as the spec's for container IDs and network names.
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const UID_RE = /^[A-Za-z0-9-]{1,128}$/;
const IFNAME_MAX = 15; // IFNAMSIZ - 1

/** The CNI_ARGS keys Kubernetes runtimes pass; others need IgnoreUnknown=1. */
const KNOWN_ARGS = new Set(['IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_UID', 'K8S_POD_INFRA_CONTAINER_ID']);

function invalid(variable: string, msg: string, details = ''): CniError {
  return new CniError(CniCode.InvalidEnvironment, `${variable}: ${msg}`, details);
}

export function isValidName(s: string): boolean {
  return NAME_RE.test(s);
}

/** Linux interface name rules: 1-15 bytes, not "." or "..", no "/", ":" or whitespace. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (Buffer.byteLength(name) > IFNAME_MAX) return `is longer than ${IFNAME_MAX} bytes`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or whitespace';
  return undefined;
}

/** "K1=V1;K2=V2" (spec §2). Empty segments (a trailing ";") are tolerated; a value may contain "=". */
export function parseCniArgs(raw: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid('CNI_ARGS', `malformed pair ${JSON.stringify(pair)}`, 'expected KEY=VALUE pairs separated by ";"');
    const key = pair.slice(0, eq);
    if (!/^[A-Za-z0-9_]+$/.test(key)) throw invalid('CNI_ARGS', `malformed key ${JSON.stringify(key)}`, 'keys are alphanumeric');
    if (Object.hasOwn(args, key)) throw invalid('CNI_ARGS', `duplicate key ${key}`);
    args[key] = pair.slice(eq + 1);
  }
  const ignoreUnknown = ['1', 'true'].includes((args.IgnoreUnknown ?? '').toLowerCase());
  if (!ignoreUnknown) {
    const unknown = Object.keys(args).filter((k) => !KNOWN_ARGS.has(k));
    if (unknown.length > 0) throw invalid('CNI_ARGS', `unknown key(s) ${unknown.join(', ')}`, 'set IgnoreUnknown=1 to ignore keys eni-cni does not use');
  }
  return args;
}

function podIdentity(args: Record<string, string>, required: boolean): PodIdentity {
  const namespace = args.K8S_POD_NAMESPACE ?? '';
  const name = args.K8S_POD_NAME ?? '';
  const uid = args.K8S_POD_UID ?? '';
  if (required && (namespace === '' || name === '')) {
    throw invalid('CNI_ARGS', 'K8S_POD_NAMESPACE and K8S_POD_NAME are required for ADD', 'the agent finds the pod\'s address by its namespace/name');
  }
  if (namespace !== '' && (namespace.length > 63 || !DNS_LABEL_RE.test(namespace))) throw invalid('CNI_ARGS', `K8S_POD_NAMESPACE ${JSON.stringify(namespace)} is not a valid namespace name`);
  if (name !== '' && (name.length > 253 || !DNS_SUBDOMAIN_RE.test(name))) throw invalid('CNI_ARGS', `K8S_POD_NAME ${JSON.stringify(name)} is not a valid pod name`);
  if (uid !== '' && !UID_RE.test(uid)) throw invalid('CNI_ARGS', `K8S_POD_UID ${JSON.stringify(uid)} is not a valid UID`);
  return { namespace, name, uid };
}

/** Just the command; VERSION needs nothing else. */
export function parseCommand(env: Environment): CniCommand {
  const command = env.CNI_COMMAND ?? '';
  if (command === '') throw invalid('CNI_COMMAND', 'missing', `one of ${CNI_COMMANDS.join(', ')}`);
  if (!(CNI_COMMANDS as readonly string[]).includes(command)) throw invalid('CNI_COMMAND', `unknown command ${JSON.stringify(command)}`, `one of ${CNI_COMMANDS.join(', ')}`);
  return command as CniCommand;
}

export function parseCniEnv(env: Environment): CniEnv {
  const command = parseCommand(env);
  const perAttachment = command === 'ADD' || command === 'DEL' || command === 'CHECK';
  const out: CniEnv = { command, containerID: '', netns: '', ifName: '', args: {}, pod: { namespace: '', name: '', uid: '' } };
  if (!perAttachment) return out;

  const missing = ['CNI_CONTAINERID', 'CNI_IFNAME', ...(command === 'DEL' ? [] : ['CNI_NETNS'])].filter((v) => !env[v]);
  if (missing.length > 0) throw new CniError(CniCode.InvalidEnvironment, `required environment variable(s) missing: ${missing.join(', ')}`);

  out.containerID = env.CNI_CONTAINERID!;
  if (!isValidName(out.containerID)) throw invalid('CNI_CONTAINERID', 'invalid characters', 'must start with a letter or digit, then letters, digits, "_", "." or "-"');
  out.ifName = env.CNI_IFNAME!;
  const ifProblem = interfaceNameProblem(out.ifName);
  if (ifProblem) throw invalid('CNI_IFNAME', `${JSON.stringify(out.ifName)} ${ifProblem}`);
  out.netns = env.CNI_NETNS ?? '';
  if (out.netns !== '' && !out.netns.startsWith('/')) throw invalid('CNI_NETNS', `${JSON.stringify(out.netns)} is not an absolute path`);
  out.args = parseCniArgs(env.CNI_ARGS ?? '');
  out.pod = podIdentity(out.args, command === 'ADD');
  return out;
}
