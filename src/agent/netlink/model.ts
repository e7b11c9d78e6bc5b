// What the datapath reads back from a network namespace, in a form independent
// of iproute2's JSON spelling. Routes, rules and addresses are IPv4 only.

export interface Link {
  index: number;
  name: string;
  mac: string;
  /** rtnl kind: veth, ipvlan, macvlan, ...; undefined for physical NICs and lo. */
  kind: string | undefined;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Peer (veth) or parent (ipvlan) in this namespace, by name. */
  linkName: string | undefined;
  /** Peer (veth) or parent ifindex when it lives in another namespace. */
  linkIndex: number | undefined;
  /** The peer/parent lives in another namespace. */
  linkElsewhere: boolean;
  alias: string | undefined;
  /** ipvlan mode ("l2", "l3", ...), when kind is ipvlan. */
  ipvlanMode: string | undefined;
}

export interface Address {
  dev: string;
  address: string;
  prefix: number;
  /** 0 universe (global), 253 link, 254 host. */
  scope: number;
}

export const TABLE_MAIN = 254;
export const TABLE_LOCAL = 255;
export const SCOPE_UNIVERSE = 0;
export const SCOPE_LINK = 253;
export const SCOPE_HOST = 254;

export interface Route {
  table: number;
  /** Always a CIDR; "default" becomes 0.0.0.0/0. */
  dst: string;
  gateway: string | undefined;
  dev: string | undefined;
  scope: number;
  protocol: number;
  /** 1 unicast, 2 local, 3 broadcast, ... */
  type: number;
  onlink: boolean;
}

export interface Rule {
  priority: number;
  /** CIDR, or undefined for "all". */
  src: string | undefined;
  dst: string | undefined;
  table: number | undefined;
  protocol: number;
}

export interface Neighbour {
  dst: string;
  dev: string;
  lladdr: string | undefined;
  permanent: boolean;
}

export interface ProxyNeighbour {
  dst: string;
  dev: string;
  protocol: number;
}

export interface NetConf {
  /** A link name, or "all" / "default". */
  dev: string;
  forwarding: boolean;
  /** 0 off, 1 strict, 2 loose. */
  rpFilter: number;
}

/** Everything one `ip -json -batch` read returns about a namespace. */
export interface Snapshot {
  links: Link[];
  addresses: Address[];
  routes: Route[];
  rules: Rule[];
  neighbours: Neighbour[];
  proxies: ProxyNeighbour[];
  netconf: NetConf[];
}

export const EMPTY_SNAPSHOT: Snapshot = { links: [], addresses: [], routes: [], rules: [], neighbours: [], proxies: [], netconf: [] };
