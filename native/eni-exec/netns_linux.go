package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// ownNetns is the helper's own network namespace (the agent's), opened at
// start: threads that entered another namespace for a request go back to it.
var ownNetns = func() int {
	fd, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}()

// enterNetns moves the calling goroutine's OS thread into the network
// namespace at path, so that netlink sockets it opens and /proc/sys/net it
// reads are that namespace's, and a child started next from this goroutine is
// born there (fork copies the forking thread's namespaces, not the process's).
// The thread stays locked to the goroutine until leave() has put it back;
// since Go 1.10 the runtime never clones new threads from a locked one.
//
// If the thread cannot be put back, it stays locked for good: a goroutine
// that exits while locked takes its thread with it, so the runtime never
// hands a thread that sits in a pod's namespace to another goroutine.
func enterNetns(path string) (leave func(), err error) {
	runtime.LockOSThread()
	stay := func() {}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return stay, fmt.Errorf("cannot open netns %s: %w", path, err)
	}
	defer syscall.Close(fd)
	if err := setns(fd); err != nil {
		runtime.UnlockOSThread()
		if errors.Is(err, syscall.EINVAL) {
			return stay, fmt.Errorf("cannot enter netns %s: not a network namespace file", path)
		}
		return stay, fmt.Errorf("cannot enter netns %s: setns: %w", path, err)
	}
	return func() {
		if ownNetns < 0 {
			return
		}
		if err := setns(ownNetns); err != nil {
			fmt.Fprintf(os.Stderr, "eni-exec: cannot return a thread from netns %s (%v); it is retired\n", path, err)
			return
		}
		runtime.UnlockOSThread()
	}, nil
}

func setns(fd int) error {
	if _, _, errno := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); errno != 0 {
		return errno
	}
	return nil
}
