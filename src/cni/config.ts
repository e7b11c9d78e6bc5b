// The plugin configuration on stdin (spec §1 and §3 "Deriving request
// configuration"), validated for one command, with eni-cni's defaults.
//
// Codes: 6 not JSON / not an object; 1 no or unsupported cniVersion; 7 bad
// name, type or our own fields; 2 a field eni-cni deliberately does not support
// (`ipam`: the agent is the IPAM; `prevResult` on ADD: eni-cni creates the
// interface, so it must be first in the chain). Unknown keys are ignored:
// runtimes may add keys, and the spec says to pass them through.
import { CniCode, CniError } from './errors.js';
import { interfaceNameProblem, isValidName } from './env.js';
import { parseDns, parseResult, resultForVersion, ResultShapeError } from './result.js';
import { DEFAULT_AGENT_SOCKET, DEFAULT_TIMEOUT_MS, PLUGIN_TYPE, SUPPORTED_VERSIONS, type CniCommand, type CniVersion, type GcAttachment, type NetConf } from './types.js';

/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const MAX_TIMEOUT_MS = 600_000;

function invalidConfig(msg: string, details = ''): CniError {
  return new CniError(CniCode.InvalidNetworkConfig, msg, details);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Step 1: bytes to a JSON object (code 6 otherwise). */
export function decodeConfig(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CniError(CniCode.DecodingFailure, 'network configuration on stdin is not JSON', text.trim() === '' ? 'stdin was empty' : (err as Error).message);
  }
  if (!isObj(v)) throw new CniError(CniCode.DecodingFailure, 'network configuration on stdin is not a JSON object');
  return v;
}

/** The version an error should carry: the configuration's if it names one, else the newest we speak. */
export function versionForErrors(conf: Record<string, unknown> | undefined): string {
  const v = conf?.cniVersion;
  return typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v) ? v : SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
}

function parseVersion(conf: Record<string, unknown>, command: CniCommand): CniVersion {
  const v = conf.cniVersion;
  const supported = `eni-cni supports ${SUPPORTED_VERSIONS.join(', ')}`;
  if (v === undefined) throw new CniError(CniCode.IncompatibleVersion, 'incompatible CNI version', `no cniVersion (which means 0.1.0); ${supported}`);
  if (typeof v !== 'string') throw new CniError(CniCode.DecodingFailure, 'cniVersion must be a string', JSON.stringify(v));
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(v)) throw new CniError(CniCode.IncompatibleVersion, 'incompatible CNI version', `cniVersion ${v}; ${supported}`);
  if ((command === 'STATUS' || command === 'GC') && v === '1.0.0') throw new CniError(CniCode.IncompatibleVersion, `${command} needs cniVersion 1.1.0`, `the configuration says ${v}`);
  return v as CniVersion;
}

function optionalObject(conf: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = conf[key];
  if (v === undefined) return undefined;
  if (!isObj(v)) throw invalidConfig(`${key} must be an object`, JSON.stringify(v));
  return v;
}

function parseValidAttachments(conf: Record<string, unknown>): GcAttachment[] | undefined {
  // libcni also sends the key's pre-1.1 spelling; the spec's name wins.
  const v = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw invalidConfig('cni.dev/valid-attachments must be a list');
  return v.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw invalidConfig(`cni.dev/valid-attachments[${i}] must be {containerID, ifname}`, JSON.stringify(a));
    }
    if (!isValidName(a.containerID) || interfaceNameProblem(a.ifname)) throw invalidConfig(`cni.dev/valid-attachments[${i}] names an invalid attachment`, JSON.stringify(a));
    return { containerID: a.containerID, ifName: a.ifname };
  });
}

/**
 * Validates a decoded configuration for `command`. `warn` hears what DEL
 * tolerates instead of failing (a malformed prevResult is dropped: DEL is best-effort).
 */
export function parseNetConf(conf: Record<string, unknown>, command: CniCommand, warn: (msg: string) => void = () => {}): NetConf {
  const cniVersion = parseVersion(conf, command);

  const name = conf.name;
  if (name === undefined || name === '') throw invalidConfig('missing network name');
  if (typeof name !== 'string' || !isValidName(name)) throw invalidConfig('invalid network name', `${JSON.stringify(name)}: must start with a letter or digit, then letters, digits, "_", "." or "-"`);

  if (conf.type !== PLUGIN_TYPE) throw invalidConfig(`type must be ${JSON.stringify(PLUGIN_TYPE)}`, `got ${JSON.stringify(conf.type)}`);

  if (conf.ipam !== undefined) {
    throw new CniError(CniCode.UnsupportedField, `unsupported field ipam=${JSON.stringify(conf.ipam)}`, 'eni-cni takes addresses from the eni-operator agent; remove the ipam section');
  }

  const agentSocket = conf.agentSocket ?? DEFAULT_AGENT_SOCKET;
  if (typeof agentSocket !== 'string' || !agentSocket.startsWith('/') || Buffer.byteLength(agentSocket) > MAX_SOCKET_PATH) {
    throw invalidConfig('agentSocket must be an absolute path of at most 107 bytes', JSON.stringify(agentSocket));
  }
  const timeoutMs = conf.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalidConfig(`timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`, JSON.stringify(timeoutMs));
  }

  const out: NetConf = { cniVersion, name, type: PLUGIN_TYPE, agentSocket, timeoutMs, raw: conf };
  if (conf.dns !== undefined) {
    try {
      out.dns = parseDns(conf.dns, 'dns');
    } catch (err) {
      throw invalidConfig('invalid dns', (err as Error).message);
    }
  }
  const runtimeConfig = optionalObject(conf, 'runtimeConfig');
  if (runtimeConfig) out.runtimeConfig = runtimeConfig;
  const args = optionalObject(conf, 'args');
  if (args) out.args = args;

  if (conf.prevResult !== undefined) {
    if (command === 'ADD') {
      throw new CniError(CniCode.UnsupportedField, `unsupported field prevResult=${JSON.stringify(conf.prevResult)}`, 'eni-cni creates the pod interface, so it must be the first plugin of the chain');
    }
    try {
      const prev = parseResult(conf.prevResult, 'prevResult');
      out.prevResult = resultForVersion(prev, prev.cniVersion ?? cniVersion);
    } catch (err) {
      if (!(err instanceof ResultShapeError)) throw err;
      if (command !== 'DEL') throw invalidConfig('invalid prevResult', err.message);
      warn(`ignoring a malformed prevResult on DEL: ${err.message}`);
    }
  } else if (command === 'CHECK') {
    throw invalidConfig('CHECK needs prevResult', 'the runtime must pass the result of the ADD it checks');
  }

  if (command === 'GC') {
    const valid = parseValidAttachments(conf);
    if (valid) out.validAttachments = valid;
  }
  return out;
}
