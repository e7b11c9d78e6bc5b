// SDK response models -> provider-neutral objects, and ClientTokens.
import { createHash } from 'node:crypto';
import type { CloudENI, CloudInstance, CloudSubnet, ENIState } from '../types.js';

/** The fields of a DescribeNetworkInterfaces item we read (the SDK model, camel-cased). */
export interface EniModel {
  networkInterfaceId?: string;
  macAddress?: string;
  vSwitchId?: string;
  vpcId?: string;
  zoneId?: string;
  instanceId?: string;
  status?: string;
  type?: string;
  privateIpAddress?: string;
  privateIpSets?: { privateIpSet?: { privateIpAddress?: string; primary?: boolean }[] };
  securityGroupIds?: { securityGroupId?: string[] };
  tags?: { tag?: { tagKey?: string; tagValue?: string; key?: string; value?: string }[] };
  attachment?: { instanceId?: string; deviceIndex?: number };
  creationTime?: string;
}

export function toCloudENI(m: EniModel): CloudENI {
  const ips = m.privateIpSets?.privateIpSet ?? [];
  const primaryIP = m.privateIpAddress || ips.find((ip) => ip.primary)?.privateIpAddress || '';
  const instanceId = m.attachment?.instanceId || m.instanceId || undefined;
  const tags: Record<string, string> = {};
  for (const t of m.tags?.tag ?? []) {
    const key = t.tagKey ?? t.key;
    if (key) tags[key] = t.tagValue ?? t.value ?? '';
  }
  return {
    id: m.networkInterfaceId ?? '',
    mac: m.macAddress ?? '',
    subnetId: m.vSwitchId ?? '',
    vpcId: m.vpcId ?? '',
    ...(m.zoneId ? { zone: m.zoneId } : {}),
    ...(instanceId ? { instanceId } : {}),
    ...(instanceId && m.attachment?.deviceIndex !== undefined ? { deviceIndex: m.attachment.deviceIndex } : {}),
    // Alibaba documents exactly our five states; anything else passes through and never looks settled.
    state: (m.status ?? '') as ENIState,
    primary: m.type === 'Primary',
    primaryIP,
    secondaryIPs: ips.filter((ip) => !ip.primary && ip.privateIpAddress && ip.privateIpAddress !== primaryIP).map((ip) => ip.privateIpAddress!),
    securityGroupIds: [...(m.securityGroupIds?.securityGroupId ?? [])],
    tags,
    ...(m.creationTime ? { createdAt: m.creationTime } : {}),
  };
}

export interface InstanceModel {
  instanceId?: string;
  instanceType?: string;
  zoneId?: string;
  status?: string;
  vpcAttributes?: { vpcId?: string; vSwitchId?: string; privateIpAddress?: { ipAddress?: string[] } };
}

export function toCloudInstance(m: InstanceModel): CloudInstance {
  return {
    id: m.instanceId ?? '',
    type: m.instanceType ?? '',
    zone: m.zoneId ?? '',
    vpcId: m.vpcAttributes?.vpcId ?? '',
    subnetId: m.vpcAttributes?.vSwitchId ?? '',
    primaryIP: m.vpcAttributes?.privateIpAddress?.ipAddress?.[0] ?? '',
    state: m.status ?? '',
  };
}

export interface VSwitchModel {
  vSwitchId?: string;
  zoneId?: string;
  vpcId?: string;
  cidrBlock?: string;
  availableIpAddressCount?: number;
}

export function toCloudSubnet(m: VSwitchModel): CloudSubnet {
  return { id: m.vSwitchId ?? '', zone: m.zoneId ?? '', vpcId: m.vpcId ?? '', cidr: m.cidrBlock ?? '', availableIPs: Number(m.availableIpAddressCount ?? 0) };
}

/** Alibaba's ClientToken limit. */
export const MAX_CLIENT_TOKEN = 64;

/**
 * The ClientToken for `key` (and a batch index): the text itself when it fits
 * Alibaba's 64 printable ASCII characters, else a digest of it. Deterministic,
 * so every retry of the same logical call sends the same token.
 */
export function clientToken(key: string, batch?: number): string {
  const text = batch === undefined ? key : `${key}-${batch}`;
  if (text.length <= MAX_CLIENT_TOKEN && /^[\x21-\x7e]+$/.test(text)) return text;
  return createHash('sha256').update(text).digest('hex');
}
