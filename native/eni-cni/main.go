// eni-cni is the CNI plugin the container runtime execs for every ADD, DEL,
// CHECK, STATUS, GC and VERSION. It checks what the runtime passed, forwards
// it to the node agent over its unix socket (src/cni/protocol.ts) and prints
// the agent's answer. It is on every pod's start path, so it is a small static
// program: the standard library only, no HTTP stack, one request.
package main

import (
	"io"
	"os"
)

func main() {
	out := runPlugin(pluginIO{
		env:       os.LookupEnv,
		readStdin: func() ([]byte, error) { return io.ReadAll(os.Stdin) },
		call:      postToAgent,
		warn:      func(msg string) { os.Stderr.WriteString(msg + "\n") },
	})
	if len(out.stdout) > 0 {
		os.Stdout.Write(append(out.stdout, '\n'))
	}
	os.Exit(out.exitCode)
}
