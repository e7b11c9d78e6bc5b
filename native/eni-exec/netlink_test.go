package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

func findLink(s *snapshot, name string) *linkInfo {
	for i := range s.Links {
		if s.Links[i].Name == name {
			return &s.Links[i]
		}
	}
	return nil
}

func TestStepsWriteWhatTheReadReturns(t *testing.T) {
	node, pod := newNetns(t), newNetns(t)
	mustApply(t, node,
		step{Do: "veth-add", Dev: "eth1", MAC: "02:e1:00:00:00:01", Peer: "vpc1"},
		step{Do: "link-up", Dev: "eth1"},
		step{Do: "veth-add", Dev: "eop0123456789ab", MAC: "02:aa:00:00:00:01", Peer: "eth0", PeerMAC: "02:bb:00:00:00:01", PeerNetns: pod},
		step{Do: "link-set", Dev: "eop0123456789ab", Alias: ptr("eni-operator pod=u1 container=c1")},
		step{Do: "link-up", Dev: "eop0123456789ab"},
		step{Do: "address-replace", Dev: "eth1", CIDR: "10.0.0.10/32", NoPrefixRoute: true},
		step{Do: "route-replace", Table: 254, Dst: "10.0.16.5/32", Dev: "eop0123456789ab", Scope: "link", Protocol: 229},
		step{Do: "route-replace", Table: 10003, Dst: "10.0.16.1/32", Dev: "eth1", Scope: "link", Protocol: 229},
		step{Do: "route-replace", Table: 10003, Dst: "0.0.0.0/0", Dev: "eth1", Gateway: "10.0.16.1", Protocol: 229},
		step{Do: "route-replace", Table: 10003, Dst: "172.16.0.0/12", Dev: "eth1", Gateway: "192.168.0.1", Onlink: true, Protocol: 229},
		step{Do: "rule-add", Priority: 2000, Dst: "10.0.16.5/32", Table: 254, Protocol: 229},
		step{Do: "rule-add", Priority: 2100, Src: "10.0.16.5/32", Table: 10003, Protocol: 229},
		step{Do: "proxy-replace", Dst: "10.0.16.5", Dev: "eth1", Protocol: 229},
		step{Do: "sysctl", Path: []string{"net", "ipv4", "conf", "eth1", "rp_filter"}, Value: "2"},
		step{Do: "sysctl", Path: []string{"net", "ipv4", "conf", "eth1", "forwarding"}, Value: "1"},
	)
	mustApply(t, pod,
		step{Do: "link-up", Dev: "eth0"},
		step{Do: "address-replace", Dev: "eth0", CIDR: "10.0.16.5/32"},
		step{Do: "neighbour-replace", Dst: "169.254.1.1", Dev: "eth0", LLAddr: "02:aa:00:00:00:01"},
		step{Do: "route-replace", Table: 254, Dst: "169.254.1.1/32", Dev: "eth0", Scope: "link", Protocol: 229},
		step{Do: "route-replace", Table: 254, Dst: "0.0.0.0/0", Dev: "eth0", Gateway: "169.254.1.1", Protocol: 229},
	)
	s := read(t, node)
	host, eni, peer := findLink(s, "eop0123456789ab"), findLink(s, "eth1"), findLink(s, "vpc1")
	if host == nil || eni == nil || peer == nil {
		t.Fatalf("links %+v", s.Links)
	}
	if *host.Kind != "veth" || host.MAC != "02:aa:00:00:00:01" || !host.Up || host.LinkName != nil || !host.LinkElsewhere || host.LinkIndex == nil || *host.Alias != "eni-operator pod=u1 container=c1" {
		t.Errorf("host veth %+v", *host)
	}
	if *eni.LinkName != "vpc1" || eni.LinkElsewhere || *peer.LinkName != "eth1" {
		t.Errorf("a pair in one namespace names its peer: %+v %+v", *eni, *peer)
	}
	if findLink(s, "lo").Kind != nil {
		t.Errorf("lo has a kind")
	}
	podSide := read(t, pod)
	podLink := findLink(podSide, "eth0")
	if *podLink.LinkIndex != host.Index || *host.LinkIndex != podLink.Index || podLink.MAC != "02:bb:00:00:00:01" {
		t.Errorf("the pair's ends name each other's index across namespaces: %+v %+v", *host, *podLink)
	}
	want := map[string]bool{
		`{"table":254,"dst":"10.0.16.5/32","dev":"eop0123456789ab","scope":253,"protocol":229,"type":1,"onlink":false}`:              false,
		`{"table":10003,"dst":"10.0.16.1/32","dev":"eth1","scope":253,"protocol":229,"type":1,"onlink":false}`:                       false,
		`{"table":10003,"dst":"0.0.0.0/0","gateway":"10.0.16.1","dev":"eth1","scope":0,"protocol":229,"type":1,"onlink":false}`:      false,
		`{"table":10003,"dst":"172.16.0.0/12","gateway":"192.168.0.1","dev":"eth1","scope":0,"protocol":229,"type":1,"onlink":true}`: false,
		`{"priority":2000,"dst":"10.0.16.5/32","table":254,"protocol":229}`:                                                          false,
		`{"priority":2100,"src":"10.0.16.5/32","table":10003,"protocol":229}`:                                                        false,
		`{"priority":0,"table":255,"protocol":2}`:                                                                                    false,
		`{"dst":"10.0.16.5","dev":"eth1","protocol":229}`:                                                                            false,
		`{"dev":"eth1","address":"10.0.0.10","prefix":32,"scope":0}`:                                                                 false,
		`{"dev":"eth1","forwarding":true,"rpFilter":2}`:                                                                              false,
	}
	var all []any
	for _, r := range s.Routes {
		all = append(all, r)
	}
	for _, r := range s.Rules {
		all = append(all, r)
	}
	for _, x := range []any{s.Proxies, s.Addresses, s.Netconf} {
		b, _ := json.Marshal(x)
		var items []json.RawMessage
		_ = json.Unmarshal(b, &items)
		for _, i := range items {
			all = append(all, i)
		}
	}
	for _, x := range all {
		b, _ := json.Marshal(x)
		if _, ok := want[string(b)]; ok {
			want[string(b)] = true
		}
	}
	for w, seen := range want {
		if !seen {
			t.Errorf("not read back: %s", w)
		}
	}
	// noprefixroute: no 10.0.0.10/32 prefix route was added for the address.
	if strings.Contains(ip(t, node, "route", "show", "table", "main"), "10.0.0.10") {
		t.Errorf("noprefixroute ignored")
	}
	ps := read(t, pod)
	if n := ps.Neighbours; len(n) != 1 || n[0].Dst != "169.254.1.1" || n[0].Dev != "eth0" || *n[0].LLAddr != "02:aa:00:00:00:01" || !n[0].Permanent {
		t.Errorf("neighbours %+v", ps.Neighbours)
	}
	// The namespace-wide settings are there too.
	seen := map[string]bool{}
	for _, c := range s.Netconf {
		seen[c.Dev] = true
	}
	if !seen["all"] || !seen["default"] || !seen["lo"] {
		t.Errorf("netconf %+v", s.Netconf)
	}
}

func TestALinkMovesRenamedAndMarkedInOneRequest(t *testing.T) {
	node, pod := newNetns(t), newNetns(t)
	mustApply(t, node, step{Do: "veth-add", Dev: "eth2", MAC: "02:e2:00:00:00:02", Peer: "vpc2"}, step{Do: "veth-add", Dev: "eth3", Peer: "vpc3"})
	mustApply(t, pod, step{Do: "veth-add", Dev: "eth0", Peer: "x0"})
	move := step{Do: "link-set", Dev: "eth2", Alias: ptr("eni-operator exclusive pod=u2 orig=eth2"), To: pod, Rename: "eth0"}
	// The kernel moves first (keeping the name when it is free there), then
	// renames, then sets the alias: with eth0 taken in the pod the link lands
	// as eth2, unmarked, and the step fails as "exists".
	f := apply(t, node, false, move)
	if len(f) != 1 || f[0].Kind != "exists" || !strings.Contains(f[0].Message, "link set dev eth2") {
		t.Fatalf("failures %+v", f)
	}
	if l := findLink(read(t, pod), "eth2"); l == nil || l.Alias != nil {
		t.Fatalf("eth2 after the failed rename: %+v", l)
	}
	mustApply(t, pod, step{Do: "link-delete", Dev: "eth0"}, step{Do: "link-set", Dev: "eth2", To: node})
	mustApply(t, node, move)
	if findLink(read(t, node), "eth2") != nil {
		t.Errorf("eth2 still in the node")
	}
	moved := findLink(read(t, pod), "eth0")
	if moved == nil || moved.MAC != "02:e2:00:00:00:02" || *moved.Alias != "eni-operator exclusive pod=u2 orig=eth2" {
		t.Fatalf("in the pod: %+v", moved)
	}
	// A name taken where the link goes, with the link's own name taken too: the new name is
	// used for the move itself, so the move fails before anything changed.
	mustApply(t, node, step{Do: "link-set", Dev: "eth3", Rename: "eth0"}, step{Do: "veth-add", Dev: "eth3", Peer: "vpc4"})
	f = apply(t, pod, false, step{Do: "link-set", Dev: "eth0", Alias: ptr(""), To: node, Rename: "eth3"})
	if len(f) != 1 || f[0].Kind != "exists" || findLink(read(t, pod), "eth0") == nil {
		t.Fatalf("a move into taken names: %+v", f)
	}
	// Back under a free name, the alias cleared: an empty alias removes it; the move takes it down.
	mustApply(t, pod, step{Do: "link-up", Dev: "eth0"}, step{Do: "address-replace", Dev: "eth0", CIDR: "10.0.32.7/20"}, step{Do: "address-flush", Dev: "eth0"},
		step{Do: "link-set", Dev: "eth0", Alias: ptr(""), To: node, Rename: "eth2"})
	back := findLink(read(t, node), "eth2")
	if back == nil || back.Alias != nil || back.Up {
		t.Fatalf("back in the node: %+v", back)
	}
}

func TestFailuresAreClassifiedAndKeepGoingCarriesOn(t *testing.T) {
	ns := newNetns(t)
	steps := []step{
		{Do: "link-delete", Dev: "nope0"},
		{Do: "route-delete", Table: 254, Dst: "10.9.9.9/32", Dev: "lo"},
		{Do: "rule-delete", Priority: 2100, Src: "10.9.9.9/32", Table: 10001},
		{Do: "proxy-delete", Dst: "10.9.9.9", Dev: "lo"},
		{Do: "address-delete", Dev: "lo", CIDR: "10.9.9.9/32"},
		{Do: "veth-add", Dev: "a0", Peer: "a1"},
		{Do: "veth-add", Dev: "a0", Peer: "a2"},
		{Do: "sysctl", Path: []string{"net", "ipv4", "conf", "a0", "forwarding"}, Value: "yes"},
	}
	f := apply(t, ns, true, steps...)
	kinds := []string{}
	for _, x := range f {
		kinds = append(kinds, fmt.Sprintf("%d:%s", x.Step, x.Kind))
	}
	if got := strings.Join(kinds, " "); got != "0:gone 1:gone 2:gone 3:gone 4:gone 6:exists 7:other" {
		t.Errorf("failures %s (%+v)", got, f)
	}
	// Without keepGoing the first failure stops the rest.
	f = apply(t, ns, false, step{Do: "link-up", Dev: "nope0"}, step{Do: "veth-add", Dev: "b0", Peer: "b1"})
	if len(f) != 1 || f[0].Step != 0 || findLink(read(t, ns), "b0") != nil {
		t.Errorf("did not stop: %+v", f)
	}
}

func TestARouteIsDeletedWhateverItsScope(t *testing.T) {
	ns := newNetns(t)
	mustApply(t, ns, step{Do: "veth-add", Dev: "eth1", Peer: "p1"}, step{Do: "link-up", Dev: "eth1"},
		step{Do: "route-replace", Table: 10003, Dst: "10.0.16.1/32", Dev: "eth1", Scope: "link", Protocol: 229},
		step{Do: "route-replace", Table: 10003, Dst: "0.0.0.0/0", Dev: "eth1", Gateway: "10.0.16.1", Protocol: 229})
	mustApply(t, ns, step{Do: "route-delete", Table: 10003, Dst: "0.0.0.0/0", Dev: "eth1", Gateway: "10.0.16.1"}, step{Do: "route-delete", Table: 10003, Dst: "10.0.16.1/32", Dev: "eth1"})
	if out := ip(t, ns, "route", "show", "table", "10003"); strings.TrimSpace(out) != "" {
		t.Errorf("left: %s", out)
	}
}

func TestBadStepsAreRefusedBeforeAnythingRuns(t *testing.T) {
	for _, s := range []step{
		{Do: "frobnicate"},
		{Do: "link-up"},
		{Do: "link-set", Dev: "eth0"},
		{Do: "veth-add", Dev: "this-name-is-too-long", Peer: "x"},
		{Do: "veth-add", Dev: "a", Peer: "b", MAC: "zz"},
		{Do: "address-replace", Dev: "eth0", CIDR: "10.0.0.1"},
		{Do: "route-replace", Table: 254, Dst: "10.0.0.0/8"},
		{Do: "route-replace", Table: 254, Dst: "10.0.0.0/8", Dev: "eth0", Scope: "host"},
		{Do: "rule-add", Table: 254},
		{Do: "neighbour-replace", Dev: "eth0", Dst: "1.2.3.4"},
		{Do: "sysctl", Path: []string{"net", "..", "x"}, Value: "1"},
		{Do: "link-set", Dev: "eth0", To: "relative/path"},
	} {
		line, _ := json.Marshal(request{ID: 1, Op: "apply", Steps: []step{{Do: "veth-add", Dev: "never0", Peer: "never1"}, s}})
		if _, err := parseRequest(line); err == nil {
			t.Errorf("accepted %+v", s)
		}
	}
	if _, err := parseRequest([]byte(`{"id":1,"op":"teleport"}`)); err == nil || !strings.Contains(err.Error(), `unknown op "teleport"`) {
		t.Errorf("unknown op: %v", err)
	}
}

func TestTheProbeSaysWhatTheKernelCanCreate(t *testing.T) {
	needRoot(t)
	mac := do(request{Op: "probe", Kind: "macvlan"}).Probe
	if !mac.Supported {
		t.Errorf("macvlan: %+v", mac)
	}
	ipvlan := do(request{Op: "probe", Kind: "ipvlan"}).Probe
	// Whatever the answer, it must be the kernel's: ipvlan support shows in /sys/module once loaded.
	_, loaded := os.Stat("/sys/module/ipvlan")
	if ipvlan.Supported != (loaded == nil) || ipvlan.Detail == "" {
		t.Errorf("ipvlan: %+v (module loaded: %v)", ipvlan, loaded == nil)
	}
}

func TestConcurrentRequestsEachSeeTheirOwnNamespace(t *testing.T) {
	a, b := newNetns(t), newNetns(t)
	mustApply(t, a, step{Do: "veth-add", Dev: "xa0", Peer: "xa1"})
	mustApply(t, b, step{Do: "veth-add", Dev: "xb0", Peer: "xb1"})
	var wg sync.WaitGroup
	errs := make(chan string, 300)
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ns := []string{a, b, ""}[i%3]
			var s *snapshot
			if i%2 == 0 {
				s = do(request{Op: "read", Netns: ns}).Snapshot
			} else {
				// A write to the namespace's own lo, then the read.
				resp := do(request{Op: "apply", Netns: ns, Steps: []step{{Do: "link-up", Dev: "lo"}}})
				if len(resp.Applied.Failures) > 0 {
					errs <- fmt.Sprintf("%d: %+v", i, resp.Applied.Failures)
				}
				s = do(request{Op: "read", Netns: ns}).Snapshot
			}
			hasA, hasB := findLink(s, "xa0") != nil, findLink(s, "xb0") != nil
			if hasA != (ns == a) || hasB != (ns == b) {
				errs <- fmt.Sprintf("request %d for %q saw xa0=%v xb0=%v", i, ns, hasA, hasB)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
