// Structured logs: one JSON object per line on stdout, shaped
// {time, level, msg, component, ...fields}, with secrets removed before anything
// is written. Child loggers carry per-reconcile fields (key, reconcileID).
import winston from 'winston';
import { redact } from './redact.js';

export { redact } from './redact.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** error | warn | info | debug (winston's npm levels). Default info. */
  level?: string;
  /** Which part of the operator logs: controller, agent, cni, ... */
  component: string;
  /** Where the lines go. Default process.stdout; tests pass their own. */
  stream?: NodeJS.WritableStream;
}

// triple-beam's key for the final serialized line, which transports write.
const MESSAGE = Symbol.for('message');
// Fields the line builds itself; anything else in `info` is a user field.
const OWN_FIELDS = new Set(['level', 'message', 'msg', 'time', 'component']);

const jsonLine = winston.format((info) => {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) if (!OWN_FIELDS.has(k)) fields[k] = v;
  const line = {
    time: new Date().toISOString(),
    level: info.level,
    msg: typeof info.message === 'string' ? info.message : redact(info.message),
    component: info.component,
    ...(redact(fields) as Record<string, unknown>),
  };
  (info as Record<symbol, unknown>)[MESSAGE] = JSON.stringify(line);
  return info;
});

export function createLogger(opts: LoggerOptions): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: { component: opts.component },
    // errors(): `logger.error(err)` keeps the message and stack.
    format: winston.format.combine(winston.format.errors({ stack: true }), jsonLine()),
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stdout })],
  });
}

/** Fields a reconcile's logger carries on every line. */
export interface ReconcileFields {
  key: string;
  reconcileID: string;
  [field: string]: unknown;
}

/** A child logger for one reconcile of one key. */
export function reconcileLogger(parent: Logger, fields: ReconcileFields): Logger {
  return parent.child(fields);
}
