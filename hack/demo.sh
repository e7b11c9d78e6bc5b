#!/usr/bin/env bash
# make demo: the whole story in one command. A sandbox of three Alibaba nodes
# runs the operator as deployed (a controller, an agent per node, eni-cni as
# the nodes' CNI); a NetworkMode is applied, pools warm up, shared and
# exclusive pods get VPC addresses from ENIs and talk across nodes; then the
# sandbox goes. Runs in its own folder, so a sandbox you started with
# `make sandbox-up` is left alone. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Node (24) first, as `make` has it.
[[ -d .tools/node/bin ]] && PATH=$PWD/.tools/node/bin:$PWD/.tools/bin:$PATH
dir=${DEMO_DIR:-${TMPDIR:-/tmp}/eni-operator-demo}
tools=dist/e2e/sandbox/demo-tools.js
began=$(date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
step() { printf '\n\033[1m== %s\033[0m  (%ss)\n' "$1" "$(($(ms_since "$began") / 1000))"; }
run() { printf '$ %s\n' "$*"; "$@"; }

failed_step=
cleanup() {
  local rc=$?
  if ((rc != 0)); then
    echo "demo: FAILED${failed_step:+ at: $failed_step} (exit $rc); the last lines of the operator's logs:" >&2
    for log in "$dir/controller.log" "$dir"/nodes/*/agent.log; do
      [[ -f $log ]] && { echo "--- $log" >&2; tail -8 "$log" >&2; }
    done
  fi
  step "Tearing the sandbox down"
  if ! node dist/e2e/sandbox/sandbox.js down --dir "$dir"; then
    if ((rc == 0)); then rc=1; fi
  fi
  printf '\ndemo %s in %s s\n' "$( ((rc == 0)) && echo finished || echo FAILED)" "$(($(ms_since "$began") / 1000))"
  exit "$rc"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  local t0; t0=$(date +%s%N)
  for _ in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then echo "($what after $(ms_since "$t0") ms)"; return 0; fi
    sleep 0.2
  done
  failed_step="waiting ${secs}s for $what"
  return 1
}
# name node uid ip, one line per pod of the demo namespace
pod_table() { kubectl -n demo get pods -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.metadata.uid} {.status.podIP}{"\n"}{end}'; }
netns_of() { # node uid -> the pod's network namespace, as the sandbox's kubelets name it
  local prefix_var="ENI_SANDBOX_NODE_${1#node-}_POD_NETNS_PREFIX"
  echo "${!prefix_var}-$(tr -d - <<<"$2" | cut -c1-12)"
}
node_ip() { local v="ENI_SANDBOX_NODE_${1#node-}_IP"; echo "${!v}"; }

step "Starting a sandbox: control plane, cloud emulator with its VPC fabric, three Alibaba nodes, the operator"
trap cleanup EXIT
t0=$(date +%s%N)
failed_step="sandbox up"
node dist/e2e/sandbox/sandbox.js up --dir "$dir" --nodes 3 --provider alibaba --cni eni >/dev/null
up_ms=$(ms_since "$t0")
failed_step=
# shellcheck disable=SC1091
source "$dir/env"
export KUBECONFIG
echo "etcd, kube-apiserver (RBAC on), kube-controller-manager, kube-scheduler, the cloud emulator, 3 kubelets,"
echo "the eni-operator controller and 3 node agents: up in ${up_ms} ms (API server ready after ${ENI_SANDBOX_APISERVER_READY_MS} ms)"
run kubectl get nodes -L topology.kubernetes.io/zone,node.kubernetes.io/instance-type,eni-operator.io/sandbox

step "The emulated cloud and its VPC fabric"
echo "Alibaba's wire protocol at $ENI_SANDBOX_CLOUDSIM (signatures checked, async ENI states, rate limits):"
node "$tools" world "$ENI_SANDBOX_CLOUDSIM" alibaba
echo "Each instance is a network namespace whose eth0 is its primary ENI, behind a VPC router that forwards only to assigned IPs:"
run ip -n "$ENI_SANDBOX_NODE_1_NETNS" -br -4 addr show eth0

step "The operator as deployed: one controller, an agent per node, eni-cni as every node's CNI"
echo "controller: $ENI_SANDBOX_CONTROLLER_HEALTH -> $(node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t.trim()))' "$ENI_SANDBOX_CONTROLLER_HEALTH")"
for n in $ENI_SANDBOX_NODES; do
  v="ENI_SANDBOX_NODE_${n#node-}_AGENT_HEALTH"
  echo "agent of $n: ${!v} -> $(node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t.trim()))' "${!v}")"
done
run cat "$ENI_SANDBOX_NODE_1_CNI_CONF_DIR/10-sandbox.conflist"

step "An inconsistent NetworkMode is rejected at admission, with what to fix"
bad=$(mktemp)
cat >"$bad" <<'YAML'
apiVersion: network.eni-operator.io/v1alpha1
kind: NetworkMode
metadata: {name: too-warm}
spec:
  provider:
    type: alibaba
    region: cn-hangzhou
    credentialsSecretRef: {name: alibaba-credentials, namespace: eni-operator-system}
  subnets: [vsw-bp1simpodsi000001]
  securityGroups: [sg-bp1simpods00000001]
  pool: {warmIPs: 40, maxIPs: 20, maxIdleIPs: 40}
YAML
if run kubectl apply -f "$bad"; then
  failed_step="the invalid NetworkMode was accepted"
  exit 1
fi
rm -f "$bad"

step "Applying the sandbox's NetworkMode (the sandbox made its credentials Secret, $ENI_SANDBOX_CREDENTIALS_SECRET)"
grep -v '^#' "$ENI_SANDBOX_NETWORKMODE"
run kubectl apply -f "$ENI_SANDBOX_NETWORKMODE"
# Warm: at least warmIPs (4) free IPs and one spare exclusive ENI attached (InUse, no pod) on each of the 3 nodes.
warm() {
  kubectl get enipools -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.counts.freeIPs}{range .status.enis[*]}{" "}{.role}/{.cloudState}/{.pod}{end}{"\n"}{end}' |
    awk '{spare = 0; for (i = 3; i <= NF; i++) if ($i == "exclusive/InUse/") spare++} $2 >= 4 && spare >= 1 {n++} END {exit n == 3 ? 0 : 1}'
}
wait_for "every node's warm pool (4 free IPs, 1 spare exclusive ENI)" 60 warm
run kubectl get networkmodes,enipools
echo "An attached ENI is a NIC in its node, as on a real VM (the agent brings it up when a pod needs it):"
run ip -n "$ENI_SANDBOX_NODE_1_NETNS" -br link show

step "A workload: 6 shared pods (a Deployment, spread by the scheduler) and 2 with an exclusive ENI each"
kubectl create namespace demo >/dev/null
wait_for "the default ServiceAccount" 30 kubectl -n demo get serviceaccount default
echo_ports='[{containerPort: 8080, protocol: TCP}, {containerPort: 8080, protocol: UDP}]'
kubectl -n demo apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {terminationGracePeriodSeconds: 1, containers: [{name: echo, image: sim/echo, ports: $echo_ports}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, labels: {app: db}, annotations: {network.eni-operator.io/eni-mode: exclusive}}
spec: {terminationGracePeriodSeconds: 1, containers: [{name: db, image: sim/echo, ports: $echo_ports}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, labels: {app: db}, annotations: {network.eni-operator.io/eni-mode: exclusive}}
spec: {terminationGracePeriodSeconds: 1, containers: [{name: db, image: sim/echo, ports: $echo_ports}]}
---
# An echo server in each node's own namespace (host network), to show pod -> node.
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-echo}
spec:
  selector: {matchLabels: {app: node-echo}}
  template:
    metadata: {labels: {app: node-echo}}
    spec: {hostNetwork: true, terminationGracePeriodSeconds: 1, containers: [{name: echo, image: sim/echo, ports: [{containerPort: 9090, protocol: TCP}, {containerPort: 9090, protocol: UDP}]}]}
YAML
running() { [[ $(kubectl -n demo get pods --field-selector=status.phase=Running -o name | wc -l) -eq 11 ]]; }
wait_for "8 pods and 3 node servers Running" 90 running
run kubectl -n demo get pods -o wide
echo
echo "Every pod's address is in a pod subnet ($ENI_SANDBOX_POD_CIDRS):"
failed_step="pod addresses"
# shellcheck disable=SC2046
node "$tools" in-cidrs "$ENI_SANDBOX_POD_CIDRS" $(kubectl -n demo get pods -l 'app in (web,db)' -o jsonpath='{range .items[*]}{.metadata.name}={.status.podIP}{" "}{end}')
failed_step=
echo
echo "The controller's plan and the agents' status (pod, mode, address, ENI, state):"
kubectl get nodenetworks -o jsonpath='{range .items[*]}{range .status.attachments[*]}{.podUID} {.state}{"\n"}{end}{end}' >"$dir/states"
kubectl get nodenetworks -o jsonpath='{range .items[*]}{range .spec.attachments[*]}{.podUID} {.namespace}/{.name} {.mode} {.ip} {.eniID}{"\n"}{end}{end}' |
  awk 'NR == FNR {state[$1] = $2; next} {printf "  %-28s %-10s %-15s %-24s %s\n", $2, $3, $4, $5, ($1 in state) ? state[$1] : "-"}' "$dir/states" - | sort

step "Traffic: TCP and UDP echo between pods on different nodes and subnets, to exclusive pods, and to nodes"
table=$(pod_table)
read -r src src_node src_uid src_ip <<<"$(grep '^web-' <<<"$table" | head -1)"
targets=()
while read -r name node _ ip; do
  [[ $node != "$src_node" && ( $name == web-* || $name == db-* ) ]] && targets+=("$name@$node=$ip:8080")
done <<<"$table"
while read -r name node _ ip; do
  [[ $node == "$src_node" && $name == db-* ]] && targets+=("$name@$node=$ip:8080")
done <<<"$table"
for n in $ENI_SANDBOX_NODES; do targets+=("$n (host)=$(node_ip "$n"):9090"); done
echo "from $src on $src_node ($src_ip), inside its network namespace $(netns_of "$src_node" "$src_uid"):"
failed_step="traffic from $src"
node "$tools" probe "$(netns_of "$src_node" "$src_uid")" "${targets[@]}"
read -r db db_node db_uid db_ip <<<"$(grep '^db-' <<<"$table" | head -1)"
back=()
while read -r name node _ ip; do [[ $name == web-* && $node != "$db_node" ]] && back+=("$name@$node=$ip:8080"); done <<<"$table"
echo "from the exclusive pod $db on $db_node ($db_ip) to shared pods on other nodes:"
failed_step="traffic from $db"
node "$tools" probe "$(netns_of "$db_node" "$db_uid")" "${back[@]}"
failed_step=

step "Pool state, and what Prometheus would scrape"
run kubectl get networkmodes,enipools,nodenetworks
echo
echo "controller ($ENI_SANDBOX_CONTROLLER_METRICS), a few lines:"
node "$tools" metrics "$ENI_SANDBOX_CONTROLLER_METRICS" '^eni_operator_pool_(ips|enis)\{.*node="node-1"' \
  '^eni_operator_allocation_latency_seconds_(count|sum)' '^eni_operator_allocation_latency_seconds_bucket\{le="(0.1|1|5)"\}' \
  '^eni_operator_cloud_requests_total\{.*api="(CreateNetworkInterface|AttachNetworkInterface|AssignPrivateIpAddresses)"'
echo "agent of node-1 ($ENI_SANDBOX_NODE_1_AGENT_METRICS):"
node "$tools" metrics "$ENI_SANDBOX_NODE_1_AGENT_METRICS" '^eni_operator_cni_requests_total' '^eni_operator_cni_request_duration_seconds_(count|sum)'
