# eni-operator: see README.md. Every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

NODE_VERSION := 24.21.0
# Built tools and Node.js are cached per machine (so fresh clones reuse them)
# and linked into the git-ignored .tools/ folder.
TOOLS_CACHE ?= $(HOME)/.cache/eni-operator
TOOLS := $(CURDIR)/.tools
NODE := $(TOOLS)/node/bin/node
export PATH := $(TOOLS)/node/bin:$(TOOLS)/bin:$(PATH)
export ENI_TOOLS_BIN := $(TOOLS)/bin
JEST := $(NODE) --no-warnings=ExperimentalWarning --experimental-vm-modules node_modules/jest/bin/jest.js

.PHONY: help deps tools build generate lint test test-go test-unit test-integration sandbox-up sandbox-down demo bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Debian packages, the pinned Node.js and npm packages (quick when present)
	@hack/deps.sh
	@hack/node.sh $(TOOLS_CACHE) $(NODE_VERSION)
	@mkdir -p $(TOOLS) && ln -sfn $(TOOLS_CACHE)/node-v$(NODE_VERSION) $(TOOLS)/node
	@$(MAKE) --no-print-directory node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

tools: deps ## Build etcd, kube-apiserver and kubectl at their pinned versions (once per pin)
	@hack/build-tools.sh $(TOOLS_CACHE)

build: deps ## Compile TypeScript to dist/, the eni-exec helper and the eni-cni plugin to dist/bin/
	@rm -rf dist
	@$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json
	@chmod +x dist/src/cmd/eni-operator.js
	@CGO_ENABLED=0 go build -C native/eni-exec -trimpath -o $(CURDIR)/dist/bin/eni-exec .
	@CGO_ENABLED=0 go build -C native/eni-cni -trimpath -ldflags='-s -w' -o $(CURDIR)/dist/bin/eni-cni .

generate: build ## Regenerate crds/, config/rbac and the chart's copies from src/api
	@$(NODE) dist/src/api/gen.js

lint: deps ## ESLint over src/ and e2e/
	@$(NODE) node_modules/eslint/bin/eslint.js --max-warnings=0 .

test: deps tools build lint test-go ## Everything CI runs: install, build, lint, unit and integration tests
	@$(JEST) --ci

GO_MODULES := native/eni-exec native/eni-cni
test-go: deps ## go vet and go test of the Go helpers (as root: they use network namespaces)
	@for m in $(GO_MODULES); do go vet -C $$m ./... && go test -C $$m -count=1 ./... || exit 1; done

test-unit: build ## Unit tests only (pure logic, no processes)
	@$(JEST) --ci --selectProjects unit

test-integration: tools build ## Integration tests against a real etcd + kube-apiserver
	@$(JEST) --ci --selectProjects integration

NODES ?= 3
PROVIDER ?= alibaba
CNI ?= eni
sandbox-up: tools build ## A cluster that stays up: control plane, cloud emulator + VPC fabric, NODES kubelets (3) on PROVIDER (alibaba), the operator (CNI=eni; bridge: without it); writes .sandbox/env
	@$(NODE) dist/e2e/sandbox/sandbox.js up --dir .sandbox --nodes $(NODES) --provider $(PROVIDER) --cni $(CNI)

sandbox-down: ## Stop the sandbox and check nothing is left behind
	@if [ -f dist/e2e/sandbox/sandbox.js ]; then $(NODE) dist/e2e/sandbox/sandbox.js down --dir .sandbox; else echo "no sandbox is up"; fi

demo: tools build ## One shot: 3-node sandbox running the operator, NetworkMode applied, shared + exclusive pods on VPC IPs talking across nodes, sandbox down
	@hack/demo.sh

bench: tools build ## Benchmarks; tables on stdout, JSON under bench/results/
	@$(NODE) dist/e2e/bench/control-plane-start.js
	@$(NODE) dist/e2e/bench/cloud-throughput.js
	@$(NODE) dist/e2e/bench/controller-allocation.js
	@$(NODE) dist/e2e/bench/cni-exec.js
	@$(NODE) dist/e2e/bench/agent-datapath.js
	@$(NODE) dist/e2e/bench/datapath-table.js

clean: ## Remove build output and the sandbox (keeps the tool cache)
	@$(MAKE) --no-print-directory sandbox-down
	rm -rf dist .tools node_modules
