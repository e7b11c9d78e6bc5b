package main

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// probeLinkKind creates a veth and a link of kind on top of it in a throwaway
// network namespace, gone with the thread that made it. Creating the link also
// makes the kernel load the module, so "unsupported" means the kernel really
// cannot, not that the module was not loaded yet.
func probeLinkKind(kind string) *probeResult {
	// Never unlocked: the thread dies with this goroutine and its namespace with it.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return &probeResult{Detail: fmt.Sprintf("cannot make a scratch namespace: %v", err)}
	}
	veth := &netlink.Veth{LinkAttrs: netlink.NewLinkAttrs(), PeerName: "probe1"}
	veth.Name = "probe0"
	if err := netlink.LinkAdd(veth); err != nil {
		return &probeResult{Detail: fmt.Sprintf("cannot create a veth in a scratch namespace: %v", err)}
	}
	parent, err := netlink.LinkByName("probe0")
	if err != nil {
		return &probeResult{Detail: err.Error()}
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "probe2"
	attrs.ParentIndex = parent.Attrs().Index
	var link netlink.Link = &netlink.Macvlan{LinkAttrs: attrs, Mode: netlink.MACVLAN_MODE_BRIDGE}
	if kind == "ipvlan" {
		link = &netlink.IPVlan{LinkAttrs: attrs, Mode: netlink.IPVLAN_MODE_L2}
	}
	if err := netlink.LinkAdd(link); err != nil {
		return &probeResult{Detail: fmt.Sprintf("%s link creation failed: %v", kind, err)}
	}
	return &probeResult{Supported: true, Detail: kind + " link created in a scratch namespace"}
}
