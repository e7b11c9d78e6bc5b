// The emulator's Alibaba Cloud wire protocol, as the v7 SDKs speak it:
// `POST /?<flattened params>` with an empty body, the action and version in
// `x-acs-action` / `x-acs-version`, ACS3-HMAC-SHA256 in `Authorization`.
// Gateway checks (API, signature, region) run before an action reads its
// parameters, and every parameter is checked before the world changes.
import type { Protocol, SimRequest, SimResponse } from '../protocol.js';
import { SimError, type Scope, type World } from '../world.js';
import { ACTIONS, PRODUCT, REGIONLESS, type Handler } from './actions.js';
import { errorResponse, fromSimError, GATEWAY, injected, type AlibabaError } from './errors.js';
import { ParamError, paramMap, Params } from './params.js';
import { verifyRequest } from './verify.js';

const header = (req: SimRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

const productOf = (req: SimRequest) => PRODUCT[header(req, 'x-acs-version') ?? ''] ?? { name: 'Ecs', host: 'ecs' };

/** The handler for an action of a version: an API that exists only under another version is a wrong version. */
function lookup(version: string, action: string): Handler {
  const handlers = Object.hasOwn(ACTIONS, version) ? ACTIONS[version] : undefined;
  const handler = handlers && Object.hasOwn(handlers, action) ? handlers[action] : undefined;
  if (handler) return handler;
  const elsewhere = Object.values(ACTIONS).some((h) => Object.hasOwn(h, action));
  throw new Refusal(!handlers || elsewhere ? GATEWAY.badVersion(version) : GATEWAY.unknownAction(action));
}

/** Thrown inside `handle` for a refusal that is not a parameter or world error. */
class Refusal extends Error {
  constructor(readonly error: AlibabaError) {
    super(error.message);
  }
}

/** `ecs.cn-hangzhou.aliyuncs.com` -> `cn-hangzhou`; undefined for other hosts (the emulator's own). */
function regionOfHost(host: string | undefined): string | undefined {
  return /^[a-z]+[.-]([a-z]+-[a-z0-9-]+?)\.aliyuncs\.com(?::\d+)?$/.exec(host ?? '')?.[1];
}

export function createAlibabaProtocol(world: World): Protocol {
  const allRegions: Scope[] = world.regionIds('alibaba').map((regionId) => ({ provider: 'alibaba', regionId }));
  const fail = (err: AlibabaError, req: SimRequest, requestId: string): SimResponse => {
    const product = productOf(req);
    return errorResponse(err, requestId, `${product.host}.aliyuncs.com`, product.name);
  };

  return {
    provider: 'alibaba',

    claims(req) {
      return header(req, 'x-acs-action') !== undefined || header(req, 'x-acs-version') !== undefined || /^ACS3-/.test(header(req, 'authorization') ?? '');
    },

    action(req) {
      return header(req, 'x-acs-action');
    },

    handle(req, requestId) {
      try {
        if (req.method !== 'POST' && req.method !== 'GET') throw new Refusal(GATEWAY.badMethod(req.method));
        const action = header(req, 'x-acs-action');
        if (!action) throw new ParamError('MissingParameter', 'Action', 'The input parameter "Action" that is mandatory for processing this request is not supplied.');
        const version = header(req, 'x-acs-version');
        if (!version) throw new ParamError('MissingParameter', 'Version', 'The input parameter "Version" that is mandatory for processing this request is not supplied.');
        const handler = lookup(version, action);

        const query = paramMap(req.query);
        const denied = verifyRequest(req, query, (ak) => world.secretFor('alibaba', ak));
        if (denied) throw new Refusal(denied);

        // The SDK sends everything in the query; a form body is RPC's other place for parameters.
        const form = /application\/x-www-form-urlencoded/i.test(header(req, 'content-type') ?? '') ? new URLSearchParams(req.body.toString('utf8')) : [];
        const p = new Params(paramMap([...query, ...form]));
        const regionId = p.optional('RegionId') ?? (REGIONLESS.has(action) ? regionOfHost(header(req, 'host')) : p.required('RegionId'));
        const regions = regionId === undefined ? allRegions : [{ provider: 'alibaba' as const, regionId }];
        const scope = regions[0];
        if (!scope || !world.hasRegion(scope)) throw new Refusal({ status: 404, code: 'InvalidRegionId.NotFound', message: `The specified RegionId ${regionId ?? ''} does not exist.` });

        const body = handler({ world, scope, regions, p });
        return { status: 200, headers: { 'x-acs-request-id': requestId }, body: { RequestId: requestId, ...body }, code: 'OK' };
      } catch (err) {
        if (err instanceof Refusal) return fail(err.error, req, requestId);
        if (err instanceof ParamError) return fail({ status: 400, code: err.code, message: err.message }, req, requestId);
        if (err instanceof SimError) return fail(fromSimError(err), req, requestId);
        throw err;
      }
    },

    error(kind, req, requestId) {
      return fail(injected(kind), req, requestId);
    },
  };
}
