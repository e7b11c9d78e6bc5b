// eni-exec carries out the node agent's kernel work. The agent is a large
// Node.js process: every spawn() forks its whole address space on the event
// loop (4-6 ms), and an `ip` process per change costs milliseconds more. This
// small helper writes and reads the network namespaces through netlink
// (github.com/vishvananda/netlink, what the reference CNI plugins use) in
// microseconds, enters pod namespaces with setns, and still starts the rare
// command the agent needs (forking with CLONE_VFORK|CLONE_VM in well under a
// millisecond).
//
// Protocol: one JSON request per line on stdin, one JSON response per line on
// stdout, matched by id (protocol.go); requests run concurrently, so answers
// come back in any order. The helper exits when stdin closes, after answering
// what is in flight.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

func main() {
	// Die with the agent even if it is killed before it can close our stdin.
	// (The signal follows the thread that spawned us: Node spawns from its main thread.)
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		fmt.Fprintf(os.Stderr, "eni-exec: prctl(PR_SET_PDEATHSIG): %v\n", errno)
	}
	out := &responder{out: os.Stdout}
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	var inFlight sync.WaitGroup
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			inFlight.Add(1)
			go func() {
				defer inFlight.Done()
				answer(line, out)
			}()
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(os.Stderr, "eni-exec: reading requests: %v\n", err)
			}
			break
		}
	}
	inFlight.Wait()
}

// answer runs one request on its own goroutine (see enterNetns).
func answer(line []byte, out *responder) {
	req, err := parseRequest(line)
	var resp response
	if err != nil {
		resp = failed(req.ID, "bad request: "+err.Error())
	} else {
		resp = handle(req)
	}
	if err := out.send(resp); err != nil {
		// Nobody reads our answers any more: the agent is gone.
		fmt.Fprintf(os.Stderr, "eni-exec: writing response: %v\n", err)
		os.Exit(1)
	}
}

func handle(req request) response {
	if req.Op == "probe" {
		return response{ID: req.ID, Probe: probeLinkKind(req.Kind)}
	}
	if req.Netns != "" {
		leave, err := enterNetns(req.Netns)
		if err != nil {
			return failed(req.ID, err.Error())
		}
		defer leave()
	}
	switch req.Op {
	case "read":
		snap, err := readSnapshot()
		if err != nil {
			return failed(req.ID, describeNetns(req.Netns)+": "+err.Error())
		}
		return response{ID: req.ID, Snapshot: snap}
	case "apply":
		return response{ID: req.ID, Applied: &applied{Failures: applySteps(req.Steps, req.KeepGoing)}}
	}
	return run(req)
}

func describeNetns(path string) string {
	if path == "" {
		return "the helper's namespace"
	}
	return "netns " + path
}
