// Names, MACs and numbers the agent derives and later recognises as its own.
import fc from 'fast-check';
import {
  derivedMac,
  eniTable,
  exclusiveAlias,
  exclusiveHostName,
  ipvlanHostName,
  ipvlanTempName,
  isOwnedTable,
  ownedRole,
  parseExclusiveAlias,
  parsePodLinkAlias,
  podLinkAlias,
  returnedEniName,
  TABLE_BASE,
  TABLE_LIMIT,
  vethHostName,
} from './names.js';

test('derived link names fit the kernel limit, are stable, and are recognised by prefix and kind', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 64 }), (uid) => {
      for (const name of [vethHostName(uid), exclusiveHostName(uid), ipvlanTempName(uid)]) expect(name).toMatch(/^eo[pxt][0-9a-f]{12}$/);
      expect(vethHostName(uid)).toBe(vethHostName(uid));
      expect(ownedRole({ name: vethHostName(uid), kind: 'veth' })).toBe('veth');
      expect(ownedRole({ name: exclusiveHostName(uid), kind: 'veth' })).toBe('exclusive');
      expect(ownedRole({ name: vethHostName(uid), kind: 'macvlan' })).toBeUndefined();
    }),
  );
  expect(ipvlanHostName('02:AA:00:00:00:01')).toBe('eoi02aa00000001');
  expect(ownedRole({ name: 'eoi02aa00000001', kind: 'ipvlan' })).toBe('ipvlan-host');
  expect(returnedEniName('02:aa:00:00:00:01')).toBe('eni02aa00000001');
  for (const name of ['eth0', 'eop00000000000g', 'eop0123', 'enp0s31f6', 'eopABCDEF012345']) expect(ownedRole({ name, kind: 'veth' })).toBeUndefined();
  expect(vethHostName('a')).not.toBe(vethHostName('b'));
});

test('derived MACs are locally administered unicast and differ per side', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), (uid) => {
      const host = derivedMac('veth-host', uid);
      const pod = derivedMac('veth-pod', uid);
      expect(host).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(parseInt(host.slice(0, 2), 16) & 0x03).toBe(0x02);
      expect(parseInt(pod.slice(0, 2), 16) & 0x03).toBe(0x02);
      expect(host).not.toBe(pod);
    }),
  );
});

test('ENI tables: base + ifindex, inside the owned range; other tables are not ours', () => {
  expect(eniTable(4)).toBe(TABLE_BASE + 4);
  expect(isOwnedTable(eniTable(1))).toBe(true);
  expect(isOwnedTable(eniTable(2 ** 31 - 1))).toBe(true);
  expect(TABLE_LIMIT).toBeLessThanOrEqual(2 ** 32);
  for (const t of [254, 255, 253, 1000, 9999, undefined]) expect(isOwnedTable(t)).toBe(false);
  expect(() => eniTable(0)).toThrow();
});

test('aliases round-trip and reject look-alikes', () => {
  expect(parseExclusiveAlias(exclusiveAlias('uid-1', 'ens5'))).toEqual({ podUID: 'uid-1', originalName: 'ens5' });
  expect(parsePodLinkAlias(podLinkAlias('uid-1', 'abc'))).toEqual({ podUID: 'uid-1', containerID: 'abc' });
  expect(parsePodLinkAlias(podLinkAlias('uid-1', undefined))).toEqual({ podUID: 'uid-1', containerID: undefined });
  for (const alias of [undefined, '', 'eni-operator exclusive', 'my nic', 'eni-operator exclusive pod=x']) expect(parseExclusiveAlias(alias)).toBeUndefined();
});
