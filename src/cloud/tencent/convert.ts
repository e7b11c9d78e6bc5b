// Tencent response shapes → the provider-neutral types. Pure.
import type { Instance } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_models.js';
import type { NetworkInterface, Subnet } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import type { CloudENI, CloudInstance, CloudSubnet, ENIState } from '../types.js';

/** Tencent has no "in use" State: an attached ENI is AVAILABLE with an Attachment. */
export function eniState(state: string | undefined, attached: boolean): ENIState {
  switch (state) {
    case 'PENDING':
      return 'Pending';
    case 'ATTACHING':
      return 'Attaching';
    case 'DETACHING':
      return 'Detaching';
    case 'DELETING':
      return 'Deleting';
    default:
      return attached ? 'InUse' : 'Available';
  }
}

/** "YYYY-MM-DD hh:mm:ss" (Beijing time) → ISO 8601 UTC. */
export function isoTime(text: string | undefined): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(text ?? '');
  if (!m) return undefined;
  return new Date(`${m[1]}T${m[2]}+08:00`).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function toCloudENI(ni: NetworkInterface): CloudENI {
  const ips = ni.PrivateIpAddressSet ?? [];
  const instanceId = ni.Attachment?.InstanceId || undefined;
  const createdAt = isoTime(ni.CreatedTime);
  return {
    id: ni.NetworkInterfaceId ?? '',
    mac: (ni.MacAddress ?? '').toLowerCase(),
    subnetId: ni.SubnetId ?? '',
    vpcId: ni.VpcId ?? '',
    ...(ni.Zone ? { zone: ni.Zone } : {}),
    ...(instanceId ? { instanceId } : {}),
    ...(instanceId && ni.Attachment?.DeviceIndex !== undefined ? { deviceIndex: ni.Attachment.DeviceIndex } : {}),
    state: eniState(ni.State, instanceId !== undefined),
    primary: ni.Primary === true,
    primaryIP: ips.find((ip) => ip.Primary)?.PrivateIpAddress ?? '',
    secondaryIPs: ips.filter((ip) => !ip.Primary && ip.PrivateIpAddress).map((ip) => ip.PrivateIpAddress!),
    securityGroupIds: ni.GroupSet ?? [],
    tags: Object.fromEntries((ni.TagSet ?? []).map((t) => [t.Key, t.Value ?? ''])),
    ...(createdAt ? { createdAt } : {}),
  };
}

export function toCloudSubnet(s: Subnet): CloudSubnet {
  return { id: s.SubnetId ?? '', zone: s.Zone ?? '', vpcId: s.VpcId ?? '', cidr: s.CidrBlock ?? '', availableIPs: s.AvailableIpAddressCount ?? 0 };
}

export function toCloudInstance(i: Instance): CloudInstance {
  return {
    id: i.InstanceId ?? '',
    type: i.InstanceType ?? '',
    zone: i.Placement?.Zone ?? '',
    vpcId: i.VirtualPrivateCloud?.VpcId ?? '',
    subnetId: i.VirtualPrivateCloud?.SubnetId ?? '',
    primaryIP: i.PrivateIpAddresses?.[0] ?? '',
    state: i.InstanceState ?? '',
  };
}
