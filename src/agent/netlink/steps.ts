// The netlink changes the eni-exec helper makes (native/eni-exec/steps.go): one
// per `ip` command they replace. Plain data, sent as JSON.

export type Step =
  | { do: 'link-up' | 'link-down' | 'link-delete' | 'address-flush'; dev: string }
  /**
   * Any of: a new alias ('' clears it), a new name, a namespace (nsfs path) to
   * move to — one request. The kernel moves first (under the new name only when
   * its own is taken there; "exists" before moving if both are), then renames,
   * then sets the alias: a rename that fails leaves the link moved, unmarked.
   */
  | { do: 'link-set'; dev: string; alias?: string; rename?: string; to?: string }
  /** A veth pair; the peer is born in peerNetns when given. */
  | { do: 'veth-add'; dev: string; mac?: string; peer: string; peerMac?: string; peerNetns?: string }
  /** An L2 ipvlan slave of parent, born in `to` when given. */
  | { do: 'ipvlan-add'; dev: string; parent: string; to?: string }
  | { do: 'address-replace'; dev: string; cidr: string; noPrefixRoute?: boolean }
  | { do: 'address-delete'; dev: string; cidr: string }
  | { do: 'route-replace'; table: number; dst: string; dev: string; gateway?: string; scope?: 'link'; onlink?: boolean; protocol: number }
  | { do: 'route-delete'; table: number; dst: string; dev?: string; gateway?: string }
  | { do: 'rule-add'; priority: number; src?: string; dst?: string; table: number; protocol: number }
  | { do: 'rule-delete'; priority: number; src?: string; dst?: string; table: number }
  /** A permanent neighbour entry. */
  | { do: 'neighbour-replace'; dst: string; dev: string; lladdr: string }
  | { do: 'proxy-replace'; dst: string; dev: string; protocol: number }
  | { do: 'proxy-delete'; dst: string; dev: string }
  /** /proc/sys/<path...> of the namespace. */
  | { do: 'sysctl'; path: string[]; value: string };

/** A step that failed: "exists" (already there), "gone" (already gone: fine when removing) or "other". */
export interface StepFailure {
  /** Index into the steps sent. */
  step: number;
  kind: 'exists' | 'gone' | 'other';
  /** The step, spelled close to the `ip` command, and the kernel's answer. */
  message: string;
}
