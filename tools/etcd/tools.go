//go:build tools

// Package tools records the etcd server command built by 'make tools'.
package tools

import _ "go.etcd.io/etcd/server/v3"
