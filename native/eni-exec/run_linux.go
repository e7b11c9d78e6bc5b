package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// An `ip` stuck behind the kernel's rtnl lock must not hang a caller for ever.
const defaultTimeout = 30 * time.Second

// After the child is gone, how long Wait keeps reading output pipes that a
// grandchild may still hold open before giving up on them.
const pipeGrace = time.Second

// run starts one command and waits for it, in the namespace the calling
// goroutine entered (see enterNetns).
func run(req request) response {
	timeout := defaultTimeout
	if req.TimeoutMs > 0 {
		timeout = time.Duration(req.TimeoutMs) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, req.File, req.Args...)
	if cmd.Err != nil {
		return failed(req.ID, fmt.Sprintf("cannot run %s: %v", req.File, cmd.Err))
	}
	if req.Stdin != "" {
		cmd.Stdin = strings.NewReader(req.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so a timeout also kills what a `sh -c` started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var timedOut atomic.Bool
	cmd.Cancel = func() error {
		timedOut.Store(true)
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = pipeGrace

	if err := cmd.Start(); err != nil {
		return failed(req.ID, fmt.Sprintf("cannot run %s: %v", req.File, err))
	}
	err := cmd.Wait()
	if cmd.ProcessState == nil {
		return failed(req.ID, fmt.Sprintf("cannot wait for %s: %v", req.File, err))
	}
	var exitErr *exec.ExitError
	if timedOut.Load() {
		fmt.Fprintf(&stderr, "eni-exec: %s killed with SIGKILL after the %d ms timeout\n", req.File, timeout.Milliseconds())
	} else if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintf(&stderr, "eni-exec: %s: %v\n", req.File, err)
	}
	return response{ID: req.ID, Exec: &execResult{Code: exitCode(cmd.ProcessState.Sys().(syscall.WaitStatus)), Stdout: stdout.String(), Stderr: stderr.String()}}
}

// exitCode follows the shell: 128+signal for a command killed by a signal.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
