package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The read-back of a namespace, in the shape of src/agent/netlink/model.ts
// (IPv4 only), which `ip -4 -d -json` output used to be parsed into.

type snapshot struct {
	Links      []linkInfo   `json:"links"`
	Addresses  []addrInfo   `json:"addresses"`
	Routes     []routeInfo  `json:"routes"`
	Rules      []ruleInfo   `json:"rules"`
	Neighbours []neighInfo  `json:"neighbours"`
	Proxies    []proxyInfo  `json:"proxies"`
	Netconf    []netconfFor `json:"netconf"`
}

type linkInfo struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	MAC   string `json:"mac"`
	// rtnl kind (veth, ipvlan, ...); absent for physical NICs and lo.
	Kind *string `json:"kind,omitempty"`
	Up   bool    `json:"up"`
	// The peer (veth) or parent (ipvlan) by name when it is in this namespace,
	// by index (LinkIndex, LinkElsewhere) when it is in another.
	LinkName      *string `json:"linkName,omitempty"`
	LinkIndex     *int    `json:"linkIndex,omitempty"`
	LinkElsewhere bool    `json:"linkElsewhere"`
	Alias         *string `json:"alias,omitempty"`
	IPVlanMode    *string `json:"ipvlanMode,omitempty"`
}

type addrInfo struct {
	Dev     string `json:"dev"`
	Address string `json:"address"`
	Prefix  int    `json:"prefix"`
	Scope   int    `json:"scope"`
}

type routeInfo struct {
	Table    int     `json:"table"`
	Dst      string  `json:"dst"`
	Gateway  *string `json:"gateway,omitempty"`
	Dev      *string `json:"dev,omitempty"`
	Scope    int     `json:"scope"`
	Protocol int     `json:"protocol"`
	Type     int     `json:"type"`
	Onlink   bool    `json:"onlink"`
}

type ruleInfo struct {
	Priority int     `json:"priority"`
	Src      *string `json:"src,omitempty"`
	Dst      *string `json:"dst,omitempty"`
	Table    *int    `json:"table,omitempty"`
	Protocol int     `json:"protocol"`
}

type neighInfo struct {
	Dst       string  `json:"dst"`
	Dev       string  `json:"dev"`
	LLAddr    *string `json:"lladdr,omitempty"`
	Permanent bool    `json:"permanent"`
}

type proxyInfo struct {
	Dst      string `json:"dst"`
	Dev      string `json:"dev"`
	Protocol int    `json:"protocol"`
}

type netconfFor struct {
	Dev        string `json:"dev"`
	Forwarding bool   `json:"forwarding"`
	RPFilter   int    `json:"rpFilter"`
}

// dumpAttempts: a dump that raced a change (NLM_F_DUMP_INTR) is read again,
// since the agent reads namespaces other pods' ADDs are writing.
const dumpAttempts = 10

func retried[T any](what string, dump func() (T, error)) (T, error) {
	var v T
	var err error
	for i := 0; i < dumpAttempts; i++ {
		if v, err = dump(); !errors.Is(err, nl.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return v, fmt.Errorf("reading %s: %w", what, err)
	}
	return v, nil
}

// readSnapshot reads the calling thread's namespace.
func readSnapshot() (*snapshot, error) {
	links, err := retried("links", listLinks)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	name := func(index int) string {
		if n, ok := names[index]; ok {
			return n
		}
		return fmt.Sprintf("if%d", index)
	}
	snap := &snapshot{Links: make([]linkInfo, 0, len(links))}
	for _, l := range links {
		snap.Links = append(snap.Links, toLink(l, name))
	}
	steps := []func(func(int) string) error{snap.readAddresses, snap.readRoutes, snap.readRules, snap.readNeighbours, snap.readProxies, snap.readNetconf}
	for _, read := range steps {
		if err := read(name); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

func toLink(l netlink.Link, name func(int) string) linkInfo {
	a := l.Attrs()
	out := linkInfo{Index: a.Index, Name: a.Name, MAC: a.HardwareAddr.String(), Up: a.Flags&net.FlagUp != 0}
	// The library calls links without an rtnl kind (NICs, lo) "device".
	if kind := l.Type(); kind != "device" {
		out.Kind = &kind
	}
	if a.ParentIndex != 0 && a.ParentIndex != a.Index {
		if a.NetNsID >= 0 {
			index := a.ParentIndex
			out.LinkIndex, out.LinkElsewhere = &index, true
		} else {
			parent := name(a.ParentIndex)
			out.LinkName = &parent
		}
	}
	if a.Alias != "" {
		alias := a.Alias
		out.Alias = &alias
	}
	if ipvlan, ok := l.(*netlink.IPVlan); ok {
		mode := map[netlink.IPVlanMode]string{netlink.IPVLAN_MODE_L2: "l2", netlink.IPVLAN_MODE_L3: "l3", netlink.IPVLAN_MODE_L3S: "l3s"}[ipvlan.Mode]
		out.IPVlanMode = &mode
	}
	return out
}

func (s *snapshot) readAddresses(name func(int) string) error {
	addrs, err := retried("addresses", func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return err
	}
	s.Addresses = make([]addrInfo, 0, len(addrs))
	for _, a := range addrs {
		ones, _ := a.Mask.Size()
		s.Addresses = append(s.Addresses, addrInfo{Dev: name(a.LinkIndex), Address: a.IP.String(), Prefix: ones, Scope: a.Scope})
	}
	return nil
}

func (s *snapshot) readRoutes(name func(int) string) error {
	// Every table, as `ip route show table all`: without the table filter the library keeps main only.
	routes, err := retried("routes", func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return err
	}
	s.Routes = make([]routeInfo, 0, len(routes))
	for _, r := range routes {
		out := routeInfo{Table: r.Table, Dst: "0.0.0.0/0", Scope: int(r.Scope), Protocol: int(r.Protocol), Type: r.Type, Onlink: r.Flags&int(netlink.FLAG_ONLINK) != 0}
		if r.Dst != nil {
			out.Dst = r.Dst.String()
		}
		if r.Gw != nil {
			gw := r.Gw.String()
			out.Gateway = &gw
		}
		if r.LinkIndex != 0 {
			dev := name(r.LinkIndex)
			out.Dev = &dev
		}
		s.Routes = append(s.Routes, out)
	}
	return nil
}

func (s *snapshot) readRules(func(int) string) error {
	rules, err := retried("rules", func() ([]netlink.Rule, error) { return netlink.RuleList(netlink.FAMILY_V4) })
	if err != nil {
		return err
	}
	s.Rules = make([]ruleInfo, 0, len(rules))
	for _, r := range rules {
		// The kernel leaves out a priority of 0 (the local rule); the library then reports -1.
		out := ruleInfo{Priority: max(r.Priority, 0), Protocol: int(r.Protocol)}
		if r.Src != nil {
			src := r.Src.String()
			out.Src = &src
		}
		if r.Dst != nil {
			dst := r.Dst.String()
			out.Dst = &dst
		}
		if r.Table > 0 {
			table := r.Table
			out.Table = &table
		}
		s.Rules = append(s.Rules, out)
	}
	return nil
}

func (s *snapshot) readNeighbours(name func(int) string) error {
	neighs, err := retried("neighbours", func() ([]netlink.Neigh, error) { return netlink.NeighList(0, netlink.FAMILY_V4) })
	if err != nil {
		return err
	}
	s.Neighbours = make([]neighInfo, 0, len(neighs))
	for _, n := range neighs {
		if n.IP == nil || n.Flags&netlink.NTF_PROXY != 0 {
			continue
		}
		out := neighInfo{Dst: n.IP.String(), Dev: name(n.LinkIndex), Permanent: n.State&netlink.NUD_PERMANENT != 0}
		if len(n.HardwareAddr) > 0 {
			mac := n.HardwareAddr.String()
			out.LLAddr = &mac
		}
		s.Neighbours = append(s.Neighbours, out)
	}
	return nil
}

func (s *snapshot) readProxies(name func(int) string) error {
	proxies, err := retried("proxy neighbours", listProxies)
	if err != nil {
		return err
	}
	s.Proxies = make([]proxyInfo, 0, len(proxies))
	for _, p := range proxies {
		s.Proxies = append(s.Proxies, proxyInfo{Dst: p.dst.String(), Dev: name(p.index), Protocol: p.protocol})
	}
	return nil
}

func (s *snapshot) readNetconf(name func(int) string) error {
	confs, err := retried("IPv4 settings", listNetconf)
	if err != nil {
		return err
	}
	s.Netconf = make([]netconfFor, 0, len(confs))
	for _, c := range confs {
		dev := map[int]string{netconfaIfindexAll: "all", netconfaIfindexDefault: "default"}[c.index]
		if dev == "" {
			dev = name(c.index)
		}
		s.Netconf = append(s.Netconf, netconfFor{Dev: dev, Forwarding: c.forwarding, RPFilter: c.rpFilter})
	}
	return nil
}
