package main

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// enterNetns moves the calling goroutine's OS thread into the network
// namespace at path, so that a child started next from this goroutine is born
// there (fork copies the forking thread's namespaces, not the process's).
//
// The thread is locked for good and never unlocked: a goroutine that exits
// while locked takes its thread with it, so the runtime never hands a thread
// that sits in a pod's namespace to another goroutine (which would then run
// `ip` against the wrong namespace). Callers must return when done.
func enterNetns(path string) error {
	runtime.LockOSThread()
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("cannot open netns %s: %w", path, err)
	}
	defer syscall.Close(fd)
	if _, _, errno := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); errno != 0 {
		if errors.Is(errno, syscall.EINVAL) {
			return fmt.Errorf("cannot enter netns %s: not a network namespace file", path)
		}
		return fmt.Errorf("cannot enter netns %s: setns: %w", path, errno)
	}
	return nil
}
