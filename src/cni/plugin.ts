// The eni-cni plugin's logic: validate what the runtime passed, forward it to
// the agent, and turn the answer into what the runtime reads on stdout.
//
// When the agent cannot be reached or does not answer (documented in README):
//   ADD, CHECK        → code 11 (try again later): the runtime retries.
//   STATUS            → code 50 (plugin not available).
//   DEL, GC           → success with a warning on stderr when nothing listens on
//                       the socket (agent not running). DEL must not block pod
//                       deletion forever, e.g. after an uninstall; the agent is
//                       level-triggered and removes on start whatever no plan
//                       references, and the kernel drops the pod's links with
//                       its namespace. A DEL the agent took but did not finish
//                       (timeout, connection lost) fails with 11 so it is retried.
import { AgentCallError, type AgentCall, type AgentFailureKind } from './client.js';
import { decodeConfig, parseNetConf, versionForErrors } from './config.js';
import { parseCniEnv, parseCommand, type Environment } from './env.js';
import { CniCode, CniError, errorObject } from './errors.js';
import { commandPath, wireRequest } from './protocol.js';
import { SUPPORTED_VERSIONS, type CniCommand } from './types.js';

export interface PluginIO {
  env: Environment;
  /** The whole of stdin; throws when it cannot be read. */
  readStdin: () => string;
  /** One request to the agent (postToAgent in production). */
  call: AgentCall;
  /** A line for stderr (the runtime logs it). */
  warn: (msg: string) => void;
}

export interface PluginOutcome {
  exitCode: number;
  /** What goes on stdout: a result, an error object, or '' for a silent success. */
  stdout: string;
}

const UNAVAILABLE: Record<Exclude<AgentFailureKind, 'malformed-response'>, string> = {
  unreachable: 'the eni-operator agent is not running',
  timeout: 'the eni-operator agent did not answer in time',
  'connection-lost': 'lost the connection to the eni-operator agent',
};

const ok = (stdout = ''): PluginOutcome => ({ exitCode: 0, stdout });
const failure = (cniVersion: string, err: CniError): PluginOutcome => ({ exitCode: 1, stdout: JSON.stringify(err.toObject(cniVersion)) });

export async function runPlugin(io: PluginIO): Promise<PluginOutcome> {
  let conf: Record<string, unknown> | undefined;
  try {
    const command = parseCommand(io.env);
    let text: string;
    try {
      text = io.readStdin();
    } catch (err) {
      throw new CniError(CniCode.IOFailure, 'cannot read the network configuration from stdin', (err as Error).message);
    }
    if (command === 'VERSION') return ok(versionAnswer(text));
    parseCniEnv(io.env);
    conf = decodeConfig(text);
    const netconf = parseNetConf(conf, command, io.warn);
    return await forward(io, command, conf, netconf.agentSocket, netconf.timeoutMs, netconf.cniVersion);
  } catch (err) {
    if (err instanceof CniError) return failure(versionForErrors(conf), err);
    // A bug in the plugin: still answer in the protocol's terms.
    return failure(versionForErrors(conf), new CniError(CniCode.AgentInternal, 'eni-cni internal error', String((err as Error)?.stack ?? err)));
  }
}

/** VERSION echoes the cniVersion it was given (spec §5), whatever else stdin holds. */
function versionAnswer(text: string): string {
  let cniVersion: string = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
  try {
    const v = (JSON.parse(text) as { cniVersion?: unknown } | null)?.cniVersion;
    if (typeof v === 'string' && v !== '') cniVersion = v;
  } catch {
    // no or bad stdin: answer with our newest version
  }
  return JSON.stringify({ cniVersion, supportedVersions: SUPPORTED_VERSIONS });
}

async function forward(io: PluginIO, command: Exclude<CniCommand, 'VERSION'>, conf: Record<string, unknown>, socket: string, timeoutMs: number, cniVersion: string): Promise<PluginOutcome> {
  let res;
  try {
    res = await io.call(socket, commandPath(command), JSON.stringify(wireRequest(io.env, conf)), timeoutMs);
  } catch (err) {
    if (!(err instanceof AgentCallError)) throw err;
    if (err.kind === 'malformed-response') throw new CniError(CniCode.AgentProtocol, 'unreadable answer from the eni-operator agent', err.message);
    if (command === 'STATUS') throw new CniError(CniCode.PluginNotAvailable, 'the eni-operator agent is not available', err.message);
    if (err.kind === 'unreachable' && (command === 'DEL' || command === 'GC')) {
      io.warn(`eni-cni: ${command} succeeded without the agent (${err.message}); the agent cleans up when it starts`);
      return ok();
    }
    throw new CniError(CniCode.TryAgainLater, UNAVAILABLE[err.kind], err.message);
  }
  if (res.status === 200) {
    if (command !== 'ADD') return ok();
    if (!res.body.startsWith('{')) throw new CniError(CniCode.AgentProtocol, 'the agent answered ADD without a result', res.body.slice(0, 200));
    return ok(res.body);
  }
  return { exitCode: 1, stdout: JSON.stringify(agentError(res.status, res.body, cniVersion)) };
}

/** A non-200 answer carries {code, msg, details}; anything else is a protocol error. */
function agentError(status: number, body: string, cniVersion: string) {
  try {
    const e = JSON.parse(body) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.code === 'number' && Number.isInteger(e.code) && e.code > 0 && typeof e.msg === 'string') {
      return errorObject(cniVersion, e.code, e.msg, typeof e.details === 'string' ? e.details : '');
    }
  } catch {
    // fall through
  }
  return errorObject(cniVersion, CniCode.AgentProtocol, `unexpected answer from the eni-operator agent (HTTP ${status})`, body.slice(0, 500));
}
