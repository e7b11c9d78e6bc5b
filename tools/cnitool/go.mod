// Pinned cnitool (containernetworking/cni), built from its Go module by 'make tools'.
module eni-operator.local/tools/cnitool

go 1.26.0

require github.com/containernetworking/cni v1.3.1

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/cobra v1.9.1 // indirect
	github.com/spf13/pflag v1.0.6 // indirect
	go.opentelemetry.io/otel v1.29.0 // indirect
	go.opentelemetry.io/otel/trace v1.29.0 // indirect
)
