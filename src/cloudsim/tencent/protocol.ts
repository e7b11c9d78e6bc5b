// Tencent Cloud API 3.0 as tencentcloud-sdk-nodejs speaks it: POST / with a
// JSON body, X-TC-* headers and a TC3-HMAC-SHA256 Authorization. Checks run
// in order (signature, action, version, region, body, parameters), each with
// Tencent's own error code; only a fully valid request reaches the world.
import type { ProviderType } from '../../api/common.js';
import type { InjectedError, Protocol, SimRequest, SimResponse } from '../protocol.js';
import { SimError, type World } from '../world.js';
import { ACTIONS, VERSION } from './actions.js';
import { fail, injected, ok, SIM_ERROR_CODES } from './answers.js';
import { ParamError, Params } from './params.js';
import { canonicalHost, parseAuthorization, sameSignature, serviceOf, tc3Date, tc3Signature } from './signature.js';

/** How far X-TC-Timestamp may be from the server's clock (Tencent: five minutes). */
export const MAX_CLOCK_SKEW_S = 300;

export interface TencentProtocolOptions {
  /** The server's clock, for the timestamp check. */
  now?: () => number;
}

const header = (req: SimRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Checks the request's signature; a refusal as [code, message], or undefined when it is good. */
function authenticate(world: World, req: SimRequest, nowMs: number): [string, string] | undefined {
  const auth = parseAuthorization(header(req, 'authorization'));
  if (!auth) return ['AuthFailure.InvalidAuthorization', 'The Authorization header is missing or is not a TC3-HMAC-SHA256 authorization.'];
  const tsText = header(req, 'x-tc-timestamp');
  if (tsText === undefined) return ['MissingParameter', 'The request is missing a required parameter `X-TC-Timestamp`.'];
  if (!/^\d{1,12}$/.test(tsText)) return ['InvalidParameter', 'The parameter `X-TC-Timestamp` must be unix seconds.'];
  const ts = Number(tsText);
  if (Math.abs(nowMs / 1000 - ts) > MAX_CLOCK_SKEW_S) {
    return ['AuthFailure.SignatureExpire', `The signature expired: X-TC-Timestamp ${ts} is more than ${MAX_CLOCK_SKEW_S} s from the server time.`];
  }
  const secret = world.secretFor('tencent', auth.secretId);
  if (secret === undefined) return ['AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.'];
  const host = header(req, 'host') ?? '';
  const signatureFailure: [string, string] = ['AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.'];
  if (auth.date !== tc3Date(ts) || auth.service !== serviceOf(host)) return signatureFailure;
  if (!auth.signedHeaders.includes('content-type') || !auth.signedHeaders.includes('host')) {
    return ['AuthFailure.InvalidAuthorization', 'SignedHeaders must include content-type and host.'];
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = name === 'host' ? canonicalHost(host) : (header(req, name) ?? '');
  const expected = tc3Signature({ secretKey: secret, service: auth.service, timestamp: ts, headers, body: req.body, method: req.method, path: req.path, query: req.rawQuery });
  return sameSignature(expected, auth.signature) ? undefined : signatureFailure;
}

export function createTencentProtocol(world: World, opts: TencentProtocolOptions = {}): Protocol {
  const now = opts.now ?? Date.now;
  const provider: ProviderType = 'tencent';

  const handle = (req: SimRequest, requestId: string): SimResponse => {
    const refuse = (code: string, message: string) => fail(requestId, code, message);
    if (req.method !== 'POST' || req.path !== '/') return refuse('UnsupportedProtocol', 'The emulator accepts only POST / with a JSON body.');
    const denied = authenticate(world, req, now());
    if (denied) return refuse(...denied);

    const actionName = header(req, 'x-tc-action');
    if (!actionName) return refuse('MissingParameter', 'The request is missing a required parameter `X-TC-Action`.');
    const action = Object.hasOwn(ACTIONS, actionName) ? ACTIONS[actionName] : undefined;
    if (!action) return refuse('InvalidAction', `The action \`${actionName}\` does not exist.`);
    const version = header(req, 'x-tc-version');
    if (!version) return refuse('MissingParameter', 'The request is missing a required parameter `X-TC-Version`.');
    if (version !== VERSION) return refuse('NoSuchVersion', `The version \`${version}\` of action \`${actionName}\` does not exist.`);
    const region = header(req, 'x-tc-region');
    if (!region) return refuse('MissingParameter', 'The request is missing a required parameter `X-TC-Region`.');
    const scope = { provider, regionId: region };
    if (!world.hasRegion(scope)) return refuse('UnsupportedRegion', `The region \`${region}\` is not supported.`);
    if (!/^application\/json\b/i.test(header(req, 'content-type') ?? '')) return refuse('InvalidParameter', 'The Content-Type must be application/json.');

    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch {
      return refuse('InvalidParameter', 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse('InvalidParameter', 'The request body must be a JSON object.');

    try {
      return ok(requestId, action.run({ world, scope, requestId }, new Params(body as Record<string, unknown>, action.fields)));
    } catch (err) {
      if (err instanceof ParamError) return refuse(err.code, err.message);
      if (err instanceof SimError) return refuse(SIM_ERROR_CODES[err.kind], err.param ? `${err.message} (\`${err.param}\`)` : err.message);
      throw err;
    }
  };

  return {
    provider,
    claims: (req) => header(req, 'x-tc-action') !== undefined,
    action: (req) => header(req, 'x-tc-action'),
    handle,
    error: (kind: InjectedError, _req, requestId) => injected(kind, requestId),
  };
}
