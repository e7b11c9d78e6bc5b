// The plugin ↔ agent protocol: HTTP/1.1 over the agent's unix socket.
//
//   POST /v1/cni/{add,del,check,status,gc}   body: WireRequest (JSON)
//   200 → success; the body is the CNI result for ADD, empty otherwise
//   any other status → the body is {code, msg, details} (a CNI error without cniVersion)
//
// The plugin forwards the CNI_* variables and the configuration as it read them;
// the agent validates them again with the same functions (the plugin's checks
// only save a round trip), so a handler only ever sees a validated request.
import { CniCode, CniError } from './errors.js';
import { parseNetConf } from './config.js';
import { parseCniEnv, type Environment, type PodIdentity } from './env.js';
import type { CniCommand, GcAttachment, NetConf } from './types.js';

export const PROTOCOL_VERSION = 1;

/** The CNI_* variables the agent needs (CNI_PATH is not: eni-cni delegates to no plugin). */
export const FORWARDED_ENV = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS'] as const;

export type AgentCommand = Exclude<CniCommand, 'VERSION'>;

export interface WireRequest {
  protocol: typeof PROTOCOL_VERSION;
  env: Partial<Record<(typeof FORWARDED_ENV)[number], string>>;
  config: Record<string, unknown>;
}

export function commandPath(command: AgentCommand): string {
  return `/v1/cni/${command.toLowerCase()}`;
}

/** The command a request path names, or undefined. */
export function commandFromPath(path: string): AgentCommand | undefined {
  const m = /^\/v1\/cni\/(add|del|check|status|gc)$/.exec(path);
  return m ? (m[1]!.toUpperCase() as AgentCommand) : undefined;
}

export function wireRequest(env: Environment, config: Record<string, unknown>): WireRequest {
  const forwarded: WireRequest['env'] = {};
  for (const k of FORWARDED_ENV) if (env[k] !== undefined) forwarded[k] = env[k];
  return { protocol: PROTOCOL_VERSION, env: forwarded, config };
}

/** ADD, DEL or CHECK of one attachment, validated. */
export interface CniRequest {
  command: 'ADD' | 'DEL' | 'CHECK';
  containerID: string;
  /** The pod's network namespace path; '' on a DEL whose namespace is already gone. */
  netns: string;
  ifName: string;
  /** '' when the runtime did not say (only on DEL and CHECK; ADD always has namespace and name). */
  podNamespace: string;
  podName: string;
  /** '' when the runtime did not say. */
  podUID: string;
  /** Every CNI_ARGS pair. */
  args: Record<string, string>;
  config: NetConf;
}

export interface StatusRequest {
  command: 'STATUS';
  config: NetConf;
}

export interface GcRequest {
  command: 'GC';
  /** Attachments the runtime still has; undefined when it gave no list (then nothing is known to be stale). */
  validAttachments: GcAttachment[] | undefined;
  config: NetConf;
}

export type AgentRequest = CniRequest | StatusRequest | GcRequest;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The agent's side: a decoded request body to a validated request, or a CniError. */
export function parseWireRequest(body: unknown, pathCommand: AgentCommand): AgentRequest {
  if (!isObj(body) || !isObj(body.env) || !isObj(body.config)) throw new CniError(CniCode.DecodingFailure, 'malformed agent request', 'expected {protocol, env, config}');
  if (body.protocol !== PROTOCOL_VERSION) {
    throw new CniError(CniCode.IncompatibleVersion, 'plugin and agent speak different protocol versions', `plugin ${JSON.stringify(body.protocol)}, agent ${PROTOCOL_VERSION}: install the eni-cni binary that ships with this agent`);
  }
  const env = body.env as Environment;
  for (const [k, v] of Object.entries(env)) if (typeof v !== 'string') throw new CniError(CniCode.DecodingFailure, `malformed agent request: env.${k} is not a string`);
  const parsed = parseCniEnv(env);
  if (parsed.command !== pathCommand) throw new CniError(CniCode.InvalidEnvironment, `CNI_COMMAND ${parsed.command} sent to the ${pathCommand} endpoint`);
  const config = parseNetConf(body.config, parsed.command);
  switch (parsed.command) {
    case 'STATUS':
      return { command: 'STATUS', config };
    case 'GC':
      return { command: 'GC', validAttachments: config.validAttachments, config };
    default:
      return { command: parsed.command, ...attachment(parsed), args: parsed.args, config };
  }
}

function attachment(p: { containerID: string; netns: string; ifName: string; pod: PodIdentity }) {
  return { containerID: p.containerID, netns: p.netns, ifName: p.ifName, podNamespace: p.pod.namespace, podName: p.pod.name, podUID: p.pod.uid };
}
