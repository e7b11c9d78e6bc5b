import { clientToken } from './provider.js';
import { eniState, isoTime, toCloudENI } from './convert.js';

describe('Tencent conversions', () => {
  test('an attached ENI is AVAILABLE with an Attachment', () => {
    expect(eniState('AVAILABLE', true)).toBe('InUse');
    expect(eniState('AVAILABLE', false)).toBe('Available');
    expect(eniState('PENDING', false)).toBe('Pending');
    expect(eniState('ATTACHING', true)).toBe('Attaching');
    expect(eniState('DETACHING', true)).toBe('Detaching');
    expect(eniState('DELETING', false)).toBe('Deleting');
  });

  test('Beijing times become UTC', () => {
    expect(isoTime('2020-10-28 08:23:59')).toBe('2020-10-28T00:23:59Z');
    expect(isoTime('')).toBeUndefined();
  });

  test('NetworkInterface → CloudENI', () => {
    expect(
      toCloudENI({
        NetworkInterfaceId: 'eni-1',
        MacAddress: '20:90:6F:62:33:E2',
        SubnetId: 'subnet-1',
        VpcId: 'vpc-1',
        Zone: 'ap-guangzhou-3',
        State: 'AVAILABLE',
        Primary: false,
        GroupSet: ['sg-1'],
        Attachment: { InstanceId: 'ins-1', DeviceIndex: 2 },
        PrivateIpAddressSet: [{ PrivateIpAddress: '10.0.0.9', Primary: false }, { PrivateIpAddress: '10.0.0.8', Primary: true }],
        TagSet: [{ Key: 'k', Value: 'v' }],
        CreatedTime: '2024-01-01 08:00:00',
      }),
    ).toEqual({
      id: 'eni-1',
      mac: '20:90:6f:62:33:e2',
      subnetId: 'subnet-1',
      vpcId: 'vpc-1',
      zone: 'ap-guangzhou-3',
      instanceId: 'ins-1',
      deviceIndex: 2,
      state: 'InUse',
      primary: false,
      primaryIP: '10.0.0.8',
      secondaryIPs: ['10.0.0.9'],
      securityGroupIds: ['sg-1'],
      tags: { k: 'v' },
      createdAt: '2024-01-01T00:00:00Z',
    });
  });

  test('client tokens fit in 64 ASCII characters and are stable', () => {
    expect(clientToken('create-1')).toBe('create-1');
    const long = clientToken('k'.repeat(80));
    expect(long).toHaveLength(64);
    expect(clientToken('k'.repeat(80))).toBe(long);
    expect(clientToken('ключ')).toMatch(/^[0-9a-f]{64}$/);
  });
});
