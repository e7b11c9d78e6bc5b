// World objects in Alibaba's response shapes: PascalCase fields, lists
// wrapped as `{"PrivateIpSets":{"PrivateIpSet":[...]}}`, as the SDK models expect.
import type { InstanceTypeSpec } from '../world-spec.js';
import type { SimENI, SimInstance, SimSubnet } from '../world.js';

const ipSets = (eni: SimENI) => ({
  PrivateIpSet: [eni.primaryIP, ...eni.secondaryIPs].map((ip, i) => ({ PrivateIpAddress: ip, Primary: i === 0, AssociatedPublicIp: {} })),
});

const tags = (t: Record<string, string>) => ({ Tag: Object.entries(t).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) });

/** Fields CreateNetworkInterface and DescribeNetworkInterfaces share. */
function eniCore(eni: SimENI) {
  return {
    NetworkInterfaceId: eni.id,
    NetworkInterfaceName: eni.name ?? '',
    Description: eni.description ?? '',
    Status: eni.status,
    Type: eni.primary ? 'Primary' : 'Secondary',
    VpcId: eni.vpcId,
    VSwitchId: eni.subnetId,
    ZoneId: eni.zone,
    MacAddress: eni.mac,
    PrivateIpAddress: eni.primaryIP,
    PrivateIpSets: ipSets(eni),
    SecurityGroupIds: { SecurityGroupId: [...eni.securityGroupIds] },
    Tags: tags(eni.tags),
    Ipv6Sets: { Ipv6Set: [] },
    Ipv4PrefixSets: { Ipv4PrefixSet: [] },
    ResourceGroupId: '',
    ServiceManaged: false,
  };
}

export function createdEni(eni: SimENI) {
  return eniCore(eni);
}

export function describedEni(eni: SimENI) {
  return {
    ...eniCore(eni),
    InstanceId: eni.instanceId ?? '',
    CreationTime: eni.createdAt,
    DeleteOnRelease: false,
    ...(eni.instanceId ? { Attachment: { InstanceId: eni.instanceId, DeviceIndex: eni.deviceIndex ?? 0 } } : {}),
  };
}

export function instanceType(t: InstanceTypeSpec) {
  const family = t.type.includes('.') ? t.type.slice(0, t.type.lastIndexOf('.')) : t.type;
  return {
    InstanceTypeId: t.type,
    InstanceTypeFamily: family,
    EniQuantity: t.maxENIs,
    EniTotalQuantity: t.maxENIs,
    EniPrivateIpAddressQuantity: t.ipsPerENI,
    EniIpv6AddressQuantity: 1,
    EniTrunkSupported: false,
  };
}

/** `enis` are the instance's attached ENIs, its primary first. */
export function instance(inst: SimInstance, enis: SimENI[]) {
  const primary = enis.find((e) => e.primary);
  const family = inst.type.slice(0, inst.type.lastIndexOf('.'));
  return {
    InstanceId: inst.id,
    InstanceName: inst.name ?? inst.id,
    HostName: inst.name ?? inst.id,
    InstanceType: inst.type,
    InstanceTypeFamily: family,
    InstanceNetworkType: 'vpc',
    Status: inst.status,
    RegionId: inst.regionId,
    ZoneId: inst.zone,
    VpcAttributes: {
      VpcId: inst.vpcId,
      VSwitchId: inst.subnetId,
      PrivateIpAddress: { IpAddress: primary ? [primary.primaryIP] : [] },
      NatIpAddress: '',
    },
    SecurityGroupIds: { SecurityGroupId: primary ? [...primary.securityGroupIds] : [] },
    InnerIpAddress: { IpAddress: [] },
    PublicIpAddress: { IpAddress: [] },
    NetworkInterfaces: {
      NetworkInterface: enis.map((e) => ({
        NetworkInterfaceId: e.id,
        Type: e.primary ? 'Primary' : 'Secondary',
        MacAddress: e.mac,
        PrimaryIpAddress: e.primaryIP,
        PrivateIpSets: ipSets(e),
      })),
    },
    Tags: { Tag: [] },
  };
}

export function vSwitch(s: Omit<SimSubnet, 'used'> & { availableIPs: number }) {
  return {
    VSwitchId: s.id,
    VSwitchName: s.name ?? '',
    VpcId: s.vpcId,
    ZoneId: s.zone,
    CidrBlock: s.cidr,
    AvailableIpAddressCount: s.availableIPs,
    Status: 'Available',
    IsDefault: false,
    Description: '',
    ResourceGroupId: '',
  };
}
