#!/usr/bin/env bash
# make demo: the story so far, in one command. Runs in its own sandbox folder,
# so a sandbox you started with `make sandbox-up` is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${DEMO_DIR:-${TMPDIR:-/tmp}/eni-operator-demo}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

controller_pid=
cleanup() {
  [[ -n $controller_pid ]] && kill "$controller_pid" 2>/dev/null && wait "$controller_pid" 2>/dev/null
  step "Tearing the sandbox down"
  node dist/e2e/sandbox/sandbox.js down --dir "$dir"
}
wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 1 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "demo: timed out waiting for $what; controller log:" >&2; tail -20 "$dir/controller.log" >&2; return 1
}

step "Starting a sandbox: control plane, cloud emulator with its VPC fabric, three Alibaba nodes"
trap cleanup EXIT
node dist/e2e/sandbox/sandbox.js up --dir "$dir" --nodes 3 --provider alibaba >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
export KUBECONFIG
echo "etcd, kube-apiserver (RBAC on), kube-controller-manager, kube-scheduler, the emulator and 3 kubelets:"
echo "API server ready after ${ENI_SANDBOX_APISERVER_READY_MS} ms, every node Ready after ${ENI_SANDBOX_READY_MS} ms"
run kubectl get nodes -L topology.kubernetes.io/zone,node.kubernetes.io/instance-type
kubectl get nodes -o custom-columns=NODE:.metadata.name,PROVIDER-ID:.spec.providerID,PODS:.status.capacity.pods

step "The cloud emulator: Alibaba and Tencent, as the official SDKs see them"
echo "endpoint $ENI_SANDBOX_CLOUDSIM (signatures verified, async ENI states, rate limits, fault injection)"
node -e '
  fetch(process.argv[1] + "/_admin/world").then((r) => r.json()).then((w) => {
    for (const r of w.regions) {
      console.log(`${r.provider} ${r.id}: ${r.zones.join(", ")}`);
      for (const s of r.subnets) console.log(`  subnet ${s.id.padEnd(22)} ${s.zone.padEnd(15)} ${s.cidr.padEnd(14)} ${String(s.availableIPs).padStart(5)} free`);
      for (const i of r.instances) { const t = r.instanceTypes.find((x) => x.type === i.type); console.log(`  instance ${i.id.padEnd(22)} ${i.type.padEnd(14)} ${i.zone.padEnd(15)} ${t.maxENIs} ENIs x ${t.ipsPerENI} IPs`); }
    }
  });
' "$ENI_SANDBOX_CLOUDSIM"
echo
echo "Each instance is a network namespace whose eth0 is its primary ENI, behind a VPC router ($ENI_SANDBOX_ROUTER_NETNS):"
run ip -n "$ENI_SANDBOX_NODE_1_NETNS" -br -4 addr show eth0

step "The API the operator adds"
run kubectl api-resources --api-group=network.eni-operator.io

step "Applying the sample NetworkModes (Alibaba and Tencent, veth and ipvlan)"
run kubectl apply -f config/samples/
run kubectl get networkmodes -o wide

step "An inconsistent NetworkMode is rejected at admission, with what to fix"
bad=$(mktemp)
cat >"$bad" <<'YAML'
apiVersion: network.eni-operator.io/v1alpha1
kind: NetworkMode
metadata:
  name: too-warm
spec:
  provider:
    type: alibaba
    region: cn-hangzhou
    credentialsSecretRef: {name: alibaba-credentials, namespace: eni-operator-system}
  subnets: [subnet-3x5lf5q0]
  securityGroups: [sg-bp1example0pods01]
  pool: {warmIPs: 40, maxIPs: 20, maxIdleIPs: 40}
YAML
if run kubectl apply -f "$bad"; then
  echo "demo: the invalid NetworkMode was accepted" >&2
  exit 1
fi
rm -f "$bad"

step "The controller on the emulated cloud: the nodes opt in by label and warm up their pools"
kubectl delete networkmodes --all >/dev/null
kubectl -n eni-operator-system create secret generic sim-alibaba \
  --from-literal=accessKeyId=LTAI5tSimulatorKey0001 --from-literal=accessKeySecret=sim-alibaba-secret-0001 >/dev/null
kubectl apply -f - <<YAML
apiVersion: network.eni-operator.io/v1alpha1
kind: NetworkMode
metadata: {name: demo}
spec:
  nodeSelector: {matchLabels: {eni-operator.io/network: demo}}
  provider:
    type: alibaba
    region: cn-hangzhou
    credentialsSecretRef: {name: sim-alibaba, namespace: eni-operator-system}
    endpoint: "${ENI_SANDBOX_CLOUDSIM#http://}"
    allowInsecureHTTP: true
  subnets: [vsw-bp1simpodsi000001, vsw-bp1simpodsj000001]
  securityGroups: [sg-bp1simpods00000001]
  exclusive: {enabled: true}
  pool: {warmIPs: 4, maxIdleIPs: 8, cooldown: 5s}
YAML
run kubectl label nodes --all eni-operator.io/network=demo
node dist/src/cmd/eni-operator.js controller --kubeconfig "$ENI_SANDBOX_KUBECONFIG_CONTROLLER" --cluster-id demo \
  --listen 127.0.0.1:0 --log-level warn >"$dir/controller.log" 2>&1 &
controller_pid=$!
warm() { [[ $(kubectl get enipools -o jsonpath='{range .items[*]}{.status.counts.freeIPs}{"\n"}{end}' | awk '$1 >= 4' | wc -l) -eq 3 ]]; }
wait_for "warm pools" warm
run kubectl get networkmodes,enipools
echo
echo "Once attached (the emulator takes 2 s, like the cloud), an ENI is a NIC in its node, as on a real VM:"
nics() { for i in 1 2 3; do v="ENI_SANDBOX_NODE_${i}_NETNS"; ip -n "${!v}" link show eth1 || return 1; done; }
wait_for "the ENIs to attach" nics
run ip -n "$ENI_SANDBOX_NODE_1_NETNS" -br link show
echo "(eth1 carries the ENI's MAC and stays unconfigured: bringing it up is the node agent's job)"

step "A workload: the scheduler spreads it over the nodes, the kubelets run it, the controller plans VPC addresses"
kubectl create namespace demo >/dev/null
wait_for "the default ServiceAccount" kubectl -n demo get serviceaccount default
kubectl -n demo create deployment web --image=example.invalid/web --replicas=9 --port=8080 >/dev/null
kubectl -n demo apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: db-0, annotations: {network.eni-operator.io/eni-mode: exclusive}}
spec: {containers: [{name: db, image: example.invalid/db, ports: [{containerPort: 5432}]}]}
YAML
running() { [[ $(kubectl -n demo get pods --field-selector=status.phase=Running -o name | wc -l) -eq 10 ]]; }
planned() { [[ $(kubectl get nodenetworks -o jsonpath='{range .items[*]}{range .spec.attachments[*]}{.name}{"\n"}{end}{end}' | grep -c .) -eq 10 ]]; }
wait_for "10 running pods" running
wait_for "10 planned pods" planned
run kubectl -n demo get pods -o wide
echo
echo "Until the node agent and eni-cni take over (next issue), pods sit on a node-local bridge (10.244.<n>.0/24)."
echo "The plan the agent will apply instead (pod, mode, VPC address, ENI):"
kubectl get nodenetworks -o jsonpath='{range .items[*]}{range .spec.attachments[*]}{.namespace}/{.name}{"\t"}{.mode}{"\t"}{.ip}{"\t"}{.eniID}{"\n"}{end}{end}' | sort | column -t
run kubectl get enipools,nodenetworks

step "Pods answer: a web pod probes another on the same node (echo over TCP)"
# name node uid ip of two web pods sharing a node
pair=$(kubectl -n demo get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.metadata.uid} {.status.podIP}{"\n"}{end}' |
  sort -k2 | awk '$2 == last {print prev; print; exit} {last = $2; prev = $0}')
read -r src node uid _ <<<"$(sed -n 1p <<<"$pair")"
read -r dst _ _ dst_ip <<<"$(sed -n 2p <<<"$pair")"
prefix_var="ENI_SANDBOX_NODE_${node#node-}_POD_NETNS_PREFIX"
netns="${!prefix_var}-$(tr -d - <<<"$uid" | cut -c1-12)"
echo "$src -> $dst ($dst_ip) on $node, from the pod's network namespace $netns:"
ip netns exec "$netns" node dist/e2e/kubelet/echo-client.js --tcp "$dst_ip:8080" --timeout-ms 3000
step "Done"
