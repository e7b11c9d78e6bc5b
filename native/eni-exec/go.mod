module eni-operator/eni-exec

go 1.24.0

require (
	github.com/vishvananda/netlink v1.3.1
	golang.org/x/sys v0.40.0
)

require github.com/vishvananda/netns v0.0.5 // indirect
