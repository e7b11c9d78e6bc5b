//go:build tools

// Package tools records the cnitool command (the CNI project's reference
// runtime driver) built by 'make tools' to drive the eni-cni plugin in tests.
package tools

import _ "github.com/containernetworking/cni/cnitool"
