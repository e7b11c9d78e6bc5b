// A small in-test CniHandler: the contract the real agent's handler keeps
// (idempotent ADD, tolerant DEL, CHECK against prevResult), without a datapath.
import { existsSync } from 'node:fs';
import type { CniHandler, CniRequest, CniRequestContext, GcRequest, StatusRequest } from '../../src/agent/cni-server.js';
import { CniCode, CniError } from '../../src/cni/errors.js';
import type { CniAddResult } from '../../src/cni/types.js';

export interface Call {
  command: string;
  req: CniRequest | StatusRequest | GcRequest;
  ctx: CniRequestContext;
}

const key = (req: { containerID: string; ifName: string }) => `${req.containerID}/${req.ifName}`;

export class FakeAgent implements CniHandler {
  readonly calls: Call[] = [];
  readonly attachments = new Map<string, CniAddResult>();
  /** STATUS answers with this when set. */
  notReady: CniError | undefined;
  private nextHost = 10;

  add(req: CniRequest, ctx: CniRequestContext): Promise<CniAddResult> {
    this.calls.push({ command: 'ADD', req, ctx });
    if (!existsSync(req.netns)) return Promise.reject(new CniError(CniCode.UnknownContainer, 'the network namespace does not exist', req.netns));
    const existing = this.attachments.get(key(req));
    if (existing) return Promise.resolve(existing);
    const host = this.nextHost++;
    // Documentation addresses (TEST-NET-1): data in a result, never a traffic target.
    const result: CniAddResult = {
      interfaces: [
        { name: `veth${host}`, mac: `02:00:00:00:01:${host.toString(16).padStart(2, '0')}`, mtu: 1500, sandbox: '' },
        { name: req.ifName, mac: `02:00:00:00:02:${host.toString(16).padStart(2, '0')}`, mtu: 1500, sandbox: req.netns },
      ],
      ips: [{ address: `192.0.2.${host}/32`, gateway: '169.254.1.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1', priority: 10 }],
      dns: { nameservers: ['192.0.2.53'], search: [`${req.podNamespace}.svc.cluster.local`] },
    };
    this.attachments.set(key(req), result);
    return Promise.resolve(result);
  }

  del(req: CniRequest, ctx: CniRequestContext): Promise<void> {
    this.calls.push({ command: 'DEL', req, ctx });
    this.attachments.delete(key(req));
    return Promise.resolve();
  }

  check(req: CniRequest, ctx: CniRequestContext): Promise<void> {
    this.calls.push({ command: 'CHECK', req, ctx });
    const have = this.attachments.get(key(req));
    if (!have) return Promise.reject(new CniError(CniCode.AttachmentBroken, 'no such attachment', key(req)));
    const expected = req.config.prevResult?.ips?.map((i) => i.address) ?? [];
    const actual = have.ips?.map((i) => i.address) ?? [];
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      return Promise.reject(new CniError(CniCode.AttachmentBroken, 'addresses differ from prevResult', `expected ${expected.join()}, have ${actual.join()}`));
    }
    return Promise.resolve();
  }

  status(req: StatusRequest, ctx: CniRequestContext): Promise<void> {
    this.calls.push({ command: 'STATUS', req, ctx });
    return this.notReady ? Promise.reject(this.notReady) : Promise.resolve();
  }

  gc(req: GcRequest, ctx: CniRequestContext): Promise<void> {
    this.calls.push({ command: 'GC', req, ctx });
    const valid = new Set((req.validAttachments ?? []).map(key));
    // Without a list nothing is known to be stale: keep everything.
    if (req.validAttachments) for (const k of [...this.attachments.keys()]) if (!valid.has(k)) this.attachments.delete(k);
    return Promise.resolve();
  }

  commands(): string[] {
    return this.calls.map((c) => c.command);
  }
}
