package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// The tests make and read real network namespaces: they need root, as the
// agent does (make test runs as root).
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests create network namespaces: run them as root (make test does)")
	}
}

var nsCount int

// newNetns makes a named namespace (/run/netns/eoexgo-<pid>-<n>) removed when the test ends.
func newNetns(t testing.TB) string {
	t.Helper()
	needRoot(t)
	nsCount++
	name := fmt.Sprintf("eoexgo-%d-%d", os.Getpid(), nsCount)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := netns.Set(orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netns.DeleteNamed(name) })
	return "/run/netns/" + name
}

// do answers one request as the helper does: on a goroutine of its own.
func do(req request) response {
	out := make(chan response, 1)
	go func() { out <- handle(req) }()
	return <-out
}

// apply runs steps in ns and fails the test on a request-level error.
func apply(t testing.TB, ns string, keepGoing bool, steps ...step) []stepFailure {
	t.Helper()
	resp := do(request{Op: "apply", Netns: ns, Steps: steps, KeepGoing: keepGoing})
	if resp.Error != "" {
		t.Fatalf("apply: %s", resp.Error)
	}
	return resp.Applied.Failures
}

func mustApply(t testing.TB, ns string, steps ...step) {
	t.Helper()
	if f := apply(t, ns, false, steps...); len(f) > 0 {
		t.Fatalf("apply failed: %+v", f)
	}
}

func read(t testing.TB, ns string) *snapshot {
	t.Helper()
	resp := do(request{Op: "read", Netns: ns})
	if resp.Error != "" {
		t.Fatalf("read: %s", resp.Error)
	}
	return resp.Snapshot
}

// ip runs iproute2 in ns, for what the test checks independently of the helper.
func ip(t testing.TB, ns string, args ...string) string {
	t.Helper()
	name := strings.TrimPrefix(ns, "/run/netns/")
	out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func ptr[T any](v T) *T { return &v }
