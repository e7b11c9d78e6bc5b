package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// stepFailure reports one failed step. Kind lets the agent tell "already
// there" (exists) and "already gone" (gone) from real failures (other).
type stepFailure struct {
	Step    int    `json:"step"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// applySteps runs the steps in order in the calling thread's namespace. The
// first failure stops them unless keepGoing (removals, which carry on past
// what is gone already).
func applySteps(steps []step, keepGoing bool) []stepFailure {
	failures := []stepFailure{}
	for i, s := range steps {
		err := applyStep(s)
		if err == nil {
			continue
		}
		failures = append(failures, stepFailure{Step: i, Kind: failureKind(err), Message: s.describe() + ": " + err.Error()})
		if !keepGoing {
			break
		}
	}
	return failures
}

func failureKind(err error) string {
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.Is(err, unix.EEXIST):
		return "exists"
	case errors.As(err, &notFound), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ESRCH), errors.Is(err, unix.ENOENT), errors.Is(err, unix.EADDRNOTAVAIL):
		return "gone"
	}
	return "other"
}

func applyStep(s step) error {
	switch s.Do {
	case "link-up":
		return onLink(s.Dev, netlink.LinkSetUp)
	case "link-down":
		return onLink(s.Dev, netlink.LinkSetDown)
	case "link-delete":
		return onLink(s.Dev, netlink.LinkDel)
	case "link-set":
		return linkSet(s)
	case "veth-add":
		return vethAdd(s)
	case "ipvlan-add":
		return ipvlanAdd(s)
	case "address-replace", "address-delete":
		return address(s)
	case "address-flush":
		return addressFlush(s.Dev)
	case "route-replace", "route-delete":
		return route(s)
	case "rule-add", "rule-delete":
		return rule(s)
	case "neighbour-replace":
		return neighbour(s)
	case "proxy-replace", "proxy-delete":
		return proxy(s)
	case "sysctl":
		return writeSysctl(s.Path, s.Value)
	}
	return fmt.Errorf("unknown step %q", s.Do)
}

func onLink(name string, f func(netlink.Link) error) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return f(link)
}

func linkIndex(name string) (int, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return 0, err
	}
	return link.Attrs().Index, nil
}

// openNetns opens an nsfs path for IFLA_NET_NS_FD; the caller closes it.
func openNetns(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("cannot open netns %s: %w", path, err)
	}
	return fd, nil
}

func vethAdd(s step) error {
	// (No alias here: the kernel ignores IFLA_IFALIAS when it creates a link; a link-set step sets it.)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = s.Dev
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: s.Peer}
	var err error
	if veth.HardwareAddr, err = parseMAC(s.MAC); err != nil {
		return err
	}
	if veth.PeerHardwareAddr, err = parseMAC(s.PeerMAC); err != nil {
		return err
	}
	if s.PeerNetns != "" {
		fd, err := openNetns(s.PeerNetns)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		veth.PeerNamespace = netlink.NsFd(fd)
	}
	return netlink.LinkAdd(veth)
}

func ipvlanAdd(s step) error {
	parent, err := linkIndex(s.Parent)
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = s.Dev
	attrs.ParentIndex = parent
	if s.To != "" {
		fd, err := openNetns(s.To)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		attrs.Namespace = netlink.NsFd(fd)
	}
	return netlink.LinkAdd(&netlink.IPVlan{LinkAttrs: attrs, Mode: netlink.IPVLAN_MODE_L2})
}

func parseMAC(s string) (net.HardwareAddr, error) {
	if s == "" {
		return nil, nil
	}
	return net.ParseMAC(s)
}

func address(s step) error {
	link, err := netlink.LinkByName(s.Dev)
	if err != nil {
		return err
	}
	addr, err := netlink.ParseAddr(s.CIDR)
	if err != nil {
		return err
	}
	if s.Do == "address-delete" {
		return netlink.AddrDel(link, addr)
	}
	if s.NoPrefixRoute {
		addr.Flags |= unix.IFA_F_NOPREFIXROUTE
	}
	return netlink.AddrReplace(link, addr)
}

func addressFlush(dev string) error {
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return err
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	for i := range addrs {
		// Deleting a primary address takes its secondaries along: those are gone, not failures.
		if err := netlink.AddrDel(link, &addrs[i]); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return err
		}
	}
	return nil
}

func route(s step) error {
	_, dst, err := net.ParseCIDR(s.Dst)
	if err != nil {
		return err
	}
	r := &netlink.Route{Dst: dst, Table: s.Table}
	if s.Dev != "" {
		if r.LinkIndex, err = linkIndex(s.Dev); err != nil {
			return err
		}
	}
	if s.Gateway != "" {
		r.Gw = net.ParseIP(s.Gateway)
	}
	if s.Do == "route-delete" {
		// Any scope, as `ip route del`: the kernel matches the scope it is given unless it is "nowhere".
		r.Scope = netlink.SCOPE_NOWHERE
		return netlink.RouteDel(r)
	}
	r.Protocol = netlink.RouteProtocol(s.Protocol)
	if s.Scope == "link" {
		r.Scope = netlink.SCOPE_LINK
	}
	if s.Onlink {
		r.Flags |= int(netlink.FLAG_ONLINK)
	}
	return netlink.RouteReplace(r)
}

func rule(s step) error {
	r := netlink.NewRule()
	r.Family = unix.AF_INET
	r.Priority = s.Priority
	r.Table = s.Table
	var err error
	if s.Src != "" {
		if _, r.Src, err = net.ParseCIDR(s.Src); err != nil {
			return err
		}
	}
	if s.Dst != "" {
		if _, r.Dst, err = net.ParseCIDR(s.Dst); err != nil {
			return err
		}
	}
	if s.Do == "rule-delete" {
		return netlink.RuleDel(r)
	}
	r.Protocol = uint8(s.Protocol)
	return netlink.RuleAdd(r)
}

func neighbour(s step) error {
	index, err := linkIndex(s.Dev)
	if err != nil {
		return err
	}
	mac, err := net.ParseMAC(s.LLAddr)
	if err != nil {
		return err
	}
	return netlink.NeighSet(&netlink.Neigh{LinkIndex: index, Family: unix.AF_INET, State: netlink.NUD_PERMANENT, IP: net.ParseIP(s.Dst), HardwareAddr: mac})
}

func proxy(s step) error {
	index, err := linkIndex(s.Dev)
	if err != nil {
		return err
	}
	if s.Do == "proxy-delete" {
		return netlink.NeighDel(&netlink.Neigh{LinkIndex: index, Family: unix.AF_INET, Flags: netlink.NTF_PROXY, IP: net.ParseIP(s.Dst)})
	}
	return proxyReplace(index, net.ParseIP(s.Dst).To4(), uint8(s.Protocol))
}

// writeSysctl writes /proc/sys/<path>. /proc/sys/net shows the namespace of
// the thread that opens it: the one this request entered.
func writeSysctl(path []string, value string) error {
	file := "/proc/sys/" + strings.Join(path, "/")
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("%s: %w (value %q)", file, err, value)
	}
	return err
}
