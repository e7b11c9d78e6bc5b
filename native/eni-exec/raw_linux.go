package main

import (
	"encoding/binary"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Requests the netlink library has no call for, built from its nl package.

// ndaProtocol is NDA_PROTOCOL (linux/neighbour.h, since 5.2), which x/sys/unix does not name.
const ndaProtocol = 12

// linkSet sends one RTM_NEWLINK with whichever of namespace, name and alias
// the step sets. The kernel moves the link first, keeping its name unless that
// is taken where it lands (then it takes the new name for the move, and fails
// with EEXIST before moving if that is taken too); then renames it, then sets
// the alias. So a rename that fails after a move leaves the link moved and
// unmarked.
func linkSet(s step) error {
	link, err := netlink.LinkByName(s.Dev)
	if err != nil {
		return err
	}
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(link.Attrs().Index)
	req.AddData(msg)
	if s.To != "" {
		fd, err := openNetns(s.To)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(fd))))
	}
	if s.Rename != "" {
		req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(s.Rename)))
	}
	if s.Alias != nil {
		// An empty alias clears it.
		req.AddData(nl.NewRtAttr(unix.IFLA_IFALIAS, []byte(*s.Alias)))
	}
	_, err = req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// proxyReplace adds or updates a proxy-ARP entry stamped with protocol (NDA_PROTOCOL).
func proxyReplace(index int, ip net.IP, protocol uint8) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE|unix.NLM_F_ACK)
	req.AddData(&netlink.Ndmsg{Family: unix.AF_INET, Index: uint32(index), State: netlink.NUD_PERMANENT, Flags: netlink.NTF_PROXY})
	req.AddData(nl.NewRtAttr(unix.NDA_DST, ip))
	if protocol != 0 {
		req.AddData(nl.NewRtAttr(ndaProtocol, []byte{protocol}))
	}
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

type rawProxy struct {
	index    int
	dst      net.IP
	protocol int
}

// listProxies dumps the IPv4 proxy-ARP entries with their protocol, which the library does not read.
func listProxies() ([]rawProxy, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETNEIGH, unix.NLM_F_DUMP)
	req.AddData(&netlink.Ndmsg{Family: unix.AF_INET, Flags: netlink.NTF_PROXY})
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWNEIGH)
	if err != nil {
		return nil, err
	}
	var out []rawProxy
	for _, m := range msgs {
		// struct ndmsg: family u8, pad u8, pad u16, ifindex s32, state u16, flags u8, type u8.
		if len(m) < 12 || m[0] != unix.AF_INET || m[10]&netlink.NTF_PROXY == 0 {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[12:])
		if err != nil {
			return nil, err
		}
		p := rawProxy{index: int(int32(binary.NativeEndian.Uint32(m[4:8])))}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.NDA_DST:
				p.dst = net.IP(a.Value)
			case ndaProtocol:
				if len(a.Value) > 0 {
					p.protocol = int(a.Value[0])
				}
			}
		}
		if p.dst != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// linux/netconf.h, which x/sys/unix does not name.
const (
	netconfaIfindex        = 1
	netconfaForwarding     = 2
	netconfaRPFilter       = 3
	netconfaIfindexAll     = -1
	netconfaIfindexDefault = -2
)

// netconfMsg is struct netconfmsg, padded to 4 bytes.
type netconfMsg struct{ family uint8 }

func (m *netconfMsg) Len() int          { return 4 }
func (m *netconfMsg) Serialize() []byte { return []byte{m.family, 0, 0, 0} }

type rawNetconf struct {
	// ifindex, or NETCONFA_IFINDEX_ALL (-1) / NETCONFA_IFINDEX_DEFAULT (-2).
	index      int
	forwarding bool
	rpFilter   int
}

// listNetconf dumps the IPv4 settings of every device, "all" and "default"
// (`ip netconf show`): one request instead of two files per device.
func listNetconf() ([]rawNetconf, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETNETCONF, unix.NLM_F_DUMP)
	req.AddData(&netconfMsg{family: unix.AF_INET})
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWNETCONF)
	if err != nil {
		return nil, err
	}
	var out []rawNetconf
	for _, m := range msgs {
		if len(m) < 4 || m[0] != unix.AF_INET {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[4:])
		if err != nil {
			return nil, err
		}
		c := rawNetconf{}
		found := false
		for _, a := range attrs {
			if len(a.Value) < 4 {
				continue
			}
			v := int(int32(binary.NativeEndian.Uint32(a.Value)))
			switch a.Attr.Type {
			case netconfaIfindex:
				c.index, found = v, true
			case netconfaForwarding:
				c.forwarding = v != 0
			case netconfaRPFilter:
				c.rpFilter = v
			}
		}
		if found {
			out = append(out, c)
		}
	}
	return out, nil
}

// rtextFilterSkipStats is RTEXT_FILTER_SKIP_STATS (linux/rtnetlink.h, since 4.19).
const rtextFilterSkipStats = 1 << 3

// listLinks is netlink.LinkList without the statistics: RTEXT_FILTER_SKIP_STATS
// spares the kernel filling (and us parsing) every link's counters, most of a
// dump's size on a node with a few hundred veths.
func listLinks() ([]netlink.Link, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(rtextFilterSkipStats)))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil {
		return nil, err
	}
	links := make([]netlink.Link, 0, len(msgs))
	for _, m := range msgs {
		link, err := netlink.LinkDeserialize(nil, m)
		if err != nil {
			return nil, err
		}
		links = append(links, link)
	}
	return links, nil
}
