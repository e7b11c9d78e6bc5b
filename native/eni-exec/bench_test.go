package main

import (
	"fmt"
	"testing"
)

// A node namespace with 100 pods' worth of links, routes, rules and proxy entries.
func benchNode(b *testing.B) string {
	ns := newNetns(b)
	mustApply(b, ns, step{Do: "veth-add", Dev: "eth1", Peer: "vpc1"}, step{Do: "link-up", Dev: "eth1"})
	for i := 0; i < 100; i++ {
		host := fmt.Sprintf("eop%012d", i)
		pod := fmt.Sprintf("10.0.%d.%d", 16+i/200, i%200+10)
		mustApply(b, ns,
			step{Do: "veth-add", Dev: host, Peer: fmt.Sprintf("p%012d", i)},
			step{Do: "link-up", Dev: host},
			step{Do: "route-replace", Table: 254, Dst: pod + "/32", Dev: host, Scope: "link", Protocol: 229},
			step{Do: "rule-add", Priority: 2000, Dst: pod + "/32", Table: 254, Protocol: 229},
			step{Do: "rule-add", Priority: 2100, Src: pod + "/32", Table: 10003, Protocol: 229},
			step{Do: "proxy-replace", Dst: pod, Dev: "eth1", Protocol: 229},
		)
	}
	return ns
}

func BenchmarkReadNode100Pods(b *testing.B) {
	ns := benchNode(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := do(request{Op: "read", Netns: ns}); r.Error != "" {
			b.Fatal(r.Error)
		}
	}
}

func BenchmarkEmptyApply(b *testing.B) {
	ns := newNetns(b)
	for i := 0; i < b.N; i++ {
		apply(b, ns, false, step{Do: "link-up", Dev: "lo"})
	}
}

func BenchmarkEmptyApplyOwnNetns(b *testing.B) {
	for i := 0; i < b.N; i++ {
		apply(b, "", false, step{Do: "link-up", Dev: "lo"})
	}
}
