// CNI error codes (spec 1.1.0 §5 "Error") and the typed error both the plugin
// and the agent throw. Imported by the plugin: node built-ins only.

/** Well-known codes (0-99 are reserved by the spec). */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  /** The runtime need not clean up (no DEL needed). */
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IOFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  /** Transient: the runtime should retry the operation later. */
  TryAgainLater: 11,
  /** STATUS: cannot serve ADD requests. */
  PluginNotAvailable: 50,
  /** STATUS: not available, and existing containers may have limited connectivity. */
  LimitedConnectivity: 51,
  // Plugin-specific codes (>= 100).
  /** The agent failed in a way it did not classify (a bug or an unexpected fault). */
  AgentInternal: 100,
  /** The agent's answer could not be understood (version skew between plugin and agent?). */
  AgentProtocol: 101,
  /** CHECK: the attachment is missing or differs from prevResult. */
  AttachmentBroken: 102,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly details = '',
  ) {
    super(details ? `${msg}: ${details}` : msg);
    this.name = 'CniError';
  }

  /** The spec's error object, as printed on stdout. */
  toObject(cniVersion: string): CniErrorObject {
    return errorObject(cniVersion, this.code, this.msg, this.details);
  }
}

export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorObject(cniVersion: string, code: number, msg: string, details = ''): CniErrorObject {
  return details ? { cniVersion, code, msg, details } : { cniVersion, code, msg };
}

/** Any thrown value as a CniError; unclassified failures become AgentInternal. */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  return new CniError(CniCode.AgentInternal, 'internal error', err instanceof Error ? err.message : String(err));
}
