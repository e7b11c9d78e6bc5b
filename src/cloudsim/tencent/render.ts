// World objects in Tencent's response shapes (VPC NetworkInterface and
// Subnet, CVM Instance), with Tencent's field names and state values.
import type { SimENI, SimInstance, SimSubnet } from '../world.js';

type EniState = 'PENDING' | 'AVAILABLE' | 'ATTACHING' | 'DETACHING' | 'DELETING';

/** An attached ENI is AVAILABLE with an Attachment; there is no "in use" State. */
const STATE: Record<SimENI['status'], EniState> = {
  Available: 'AVAILABLE',
  InUse: 'AVAILABLE',
  Attaching: 'ATTACHING',
  Detaching: 'DETACHING',
  Deleting: 'DELETING',
};

/** "YYYY-MM-DD hh:mm:ss" in Beijing time, as Tencent prints times. */
export function tencentTime(iso: string): string {
  const t = new Date(Date.parse(iso) + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}

const ip = (address: string, primary: boolean, state: string) => ({
  PrivateIpAddress: address,
  Primary: primary,
  PublicIpAddress: '',
  AddressId: '',
  Description: '',
  IsWanIpBlocked: false,
  State: state,
  QosLevel: 'DEFAULT',
});

export function privateIps(addresses: string[], state = 'AVAILABLE') {
  return addresses.map((a) => ip(a, false, state));
}

/** `pending`: the answer of the (asynchronous) create call, before the task ran. */
export function renderENI(eni: SimENI, pending = false) {
  const state = pending ? 'PENDING' : STATE[eni.status];
  return {
    NetworkInterfaceId: eni.id,
    NetworkInterfaceName: eni.name ?? '',
    NetworkInterfaceDescription: eni.description ?? '',
    SubnetId: eni.subnetId,
    VpcId: eni.vpcId,
    GroupSet: eni.securityGroupIds,
    Primary: eni.primary,
    MacAddress: eni.mac.toUpperCase(),
    State: state,
    NetworkInterfaceState: eni.status === 'InUse' ? 'INUSE' : state,
    PrivateIpAddressSet: [ip(eni.primaryIP, true, pending ? 'PENDING' : 'AVAILABLE'), ...privateIps(eni.secondaryIPs, pending ? 'PENDING' : 'AVAILABLE')],
    Attachment: eni.instanceId
      ? { InstanceId: eni.instanceId, DeviceIndex: eni.deviceIndex ?? 0, InstanceAccountId: '100000000001', AttachTime: tencentTime(eni.createdAt) }
      : null,
    Zone: eni.zone,
    CreatedTime: tencentTime(eni.createdAt),
    Ipv6AddressSet: [],
    TagSet: Object.entries(eni.tags).map(([Key, Value]) => ({ Key, Value })),
    EniType: eni.primary ? 1 : 0,
    Business: 'cvm',
    CdcId: '',
    AttachType: 0,
    ResourceId: '',
    QosLevel: 'DEFAULT',
  };
}

export function renderSubnet(s: Omit<SimSubnet, 'used'> & { availableIPs: number; totalIPs: number }) {
  return {
    VpcId: s.vpcId,
    SubnetId: s.id,
    SubnetName: s.name ?? s.id,
    CidrBlock: s.cidr,
    IsDefault: false,
    EnableBroadcast: false,
    Zone: s.zone,
    RouteTableId: `rtb-${s.vpcId.replace(/^vpc-/, '')}`,
    CreatedTime: '2024-01-01 00:00:00',
    AvailableIpAddressCount: s.availableIPs,
    Ipv6CidrBlock: '',
    NetworkAclId: '',
    IsRemoteVpcSnat: false,
    TotalIpAddressCount: s.totalIPs,
    TagSet: [],
    CdcId: '',
    IsCdcSubnet: 0,
  };
}

export function renderInstance(inst: SimInstance, primary: SimENI | undefined) {
  return {
    Placement: { Zone: inst.zone, ProjectId: 0 },
    InstanceId: inst.id,
    InstanceType: inst.type,
    InstanceName: inst.name ?? inst.id,
    InstanceChargeType: 'POSTPAID_BY_HOUR',
    RestrictState: 'NORMAL',
    PrivateIpAddresses: primary ? [primary.primaryIP] : [],
    PublicIpAddresses: null,
    VirtualPrivateCloud: { VpcId: inst.vpcId, SubnetId: inst.subnetId, AsVpcGateway: false },
    SecurityGroupIds: primary?.securityGroupIds ?? [],
    // The world's only instance status is Running.
    InstanceState: 'RUNNING',
    CreatedTime: primary?.createdAt ?? '2024-01-01T00:00:00Z',
    Tags: [],
    Uuid: inst.id,
    LatestOperation: null,
    LatestOperationState: null,
  };
}
