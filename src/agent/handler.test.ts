import winston from 'winston';
import type { Attachment } from '../api/nodenetwork.js';
import { CniError } from '../cni/errors.js';
import type { CniRequest } from './cni-server.js';
import { restoredContainer } from './container-map.js';
import { DatapathError, type CniResult } from './datapath/types.js';
import { AgentHandler, type DatapathPort } from './handler.js';
import type { LocalState } from './status.js';

const UID = 'pod-uid-1';
const att: Attachment = { podUID: UID, namespace: 'ns', name: 'web', mode: 'veth', ip: '10.0.16.5/20', gateway: '10.0.31.253', eniID: 'eni-1', mac: '02:00:00:00:00:01' };
const result: CniResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:02' }], ips: [{ address: '10.0.16.5/32', interface: 0 }], routes: [], dns: {} };
const req = (command: CniRequest['command'], containerID = 'ctr-1'): CniRequest => ({
  command,
  containerID,
  netns: '/run/netns/p',
  ifName: 'eth0',
  podNamespace: 'ns',
  podName: 'web',
  podUID: UID,
  args: {},
  config: { cniVersion: '1.0.0', name: 'eni', type: 'eni-cni', agentSocket: '/run/a.sock', timeoutMs: 1000, raw: {} },
});
const ctx = { signal: new AbortController().signal, deadline: Date.now() + 60_000 };

/** The container map's behaviour, in memory: an ADD's set clears readiness, markReady records a success. */
class Containers extends Map<string, string> {
  readonly ready = new Set<string>();
  override set(containerID: string, podUID: string): this {
    this.ready.delete(containerID);
    return super.set(containerID, podUID);
  }
  override delete(containerID: string): boolean {
    this.ready.delete(containerID);
    return super.delete(containerID);
  }
  markReady(containerID: string): void {
    if (this.has(containerID)) this.ready.add(containerID);
  }
}

function setup(apply: () => Promise<CniResult>) {
  const containers = new Containers();
  const states = new Map<string, LocalState>();
  /** The containers mapped when the datapath removes: what a repair running then would keep. */
  const mappedAtRemove: string[][] = [];
  const datapath: DatapathPort = {
    apply,
    check: () => Promise.resolve([]),
    remove: () => {
      mappedAtRemove.push([...containers.keys()]);
      return Promise.resolve();
    },
  };
  const plan = { nodeName: 'n1', attachment: () => att, waitFor: () => Promise.resolve(att), byName: () => att };
  const handler = new AgentHandler({ datapath, plan, states, containers, changed: () => undefined, planWaitMs: 0, now: () => 0, log: winston.createLogger({ silent: true }) });
  return { handler, containers, states, mappedAtRemove };
}

describe('AgentHandler', () => {
  it('maps a container from its ADD to its DEL, and unmaps it before the removal runs', async () => {
    const t = setup(() => Promise.resolve(result));
    await t.handler.add(req('ADD'), ctx);
    expect([...t.containers]).toEqual([['ctr-1', UID]]);
    expect([...t.containers.ready]).toEqual(['ctr-1']);
    expect(t.states.get(UID)?.state).toBe('Ready');
    await t.handler.del(req('DEL'));
    expect(t.mappedAtRemove).toEqual([[]]);
    expect(t.states.get(UID)?.state).toBe('Released');
  });

  it('a failed first ADD leaves no mapping, and the runtime\'s cleanup DEL keeps the failure and its reason', async () => {
    const t = setup(() => Promise.reject(new DatapathError('IPVlanUnsupported', 'no CONFIG_IPVLAN')));
    await expect(t.handler.add(req('ADD'), ctx)).rejects.toMatchObject({ code: 100 });
    expect(t.containers.size).toBe(0);
    await t.handler.del(req('DEL'));
    expect(t.states.get(UID)).toMatchObject({ state: 'Failed', reason: 'IPVlanUnsupported' });
  });

  it('a failed repeat ADD keeps the pod wired, no longer recorded as ready', async () => {
    let fail = false;
    const t = setup(() => (fail ? Promise.reject(new DatapathError('Conflict', 'eth0 is in the way')) : Promise.resolve(result)));
    await t.handler.add(req('ADD'), ctx);
    fail = true;
    await expect(t.handler.add(req('ADD'), ctx)).rejects.toBeInstanceOf(CniError);
    expect([...t.containers]).toEqual([['ctr-1', UID]]);
    expect(t.containers.ready.size).toBe(0);
  });

  it('a missing network namespace is code 3 (unknown container)', async () => {
    const t = setup(() => Promise.reject(new DatapathError('NetnsNotFound', '/run/netns/p does not exist')));
    await expect(t.handler.add(req('ADD'), ctx)).rejects.toMatchObject({ code: 3 });
  });

  it('a DEL also drops the entry restored for a pod found Ready at start-up', async () => {
    const t = setup(() => Promise.resolve(result));
    t.containers.set(restoredContainer(UID), UID);
    t.states.set(UID, { state: 'Ready', at: 0 });
    await t.handler.del(req('DEL', 'ctr-unknown'));
    expect(t.containers.size).toBe(0);
    expect(t.mappedAtRemove).toEqual([[]]);
    expect(t.states.get(UID)?.state).toBe('Released');
  });
});
