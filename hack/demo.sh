#!/usr/bin/env bash
# make demo: the story so far, in one command. Runs in its own sandbox folder,
# so a sandbox you started with `make sandbox-up` is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${DEMO_DIR:-${TMPDIR:-/tmp}/eni-operator-demo}
sandbox() { node dist/e2e/sandbox/sandbox.js "$1" --dir "$dir"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

controller_pid=
cleanup() {
  [[ -n $controller_pid ]] && kill "$controller_pid" 2>/dev/null && wait "$controller_pid" 2>/dev/null
  step "Tearing the sandbox down"
  sandbox down
}

step "Starting a sandbox: etcd and kube-apiserver on loopback, RBAC on, CRDs installed"
trap cleanup EXIT
sandbox up >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
export KUBECONFIG
echo "API server $ENI_SANDBOX_APISERVER answered /readyz ${ENI_SANDBOX_READY_MS} ms after launch"

step "The cloud emulator: Alibaba and Tencent, as the official SDKs see them"
echo "endpoint $ENI_SANDBOX_CLOUDSIM (signatures verified, async ENI states, rate limits, fault injection)"
node -e '
  fetch(process.argv[1] + "/_admin/world").then((r) => r.json()).then((w) => {
    for (const r of w.regions) {
      console.log(`${r.provider} ${r.id}: ${r.zones.join(", ")}`);
      for (const s of r.subnets) console.log(`  subnet ${s.id.padEnd(22)} ${s.zone.padEnd(15)} ${s.cidr.padEnd(14)} ${String(s.availableIPs).padStart(5)} free`);
      for (const i of r.instances) { const t = r.instanceTypes.find((x) => x.type === i.type); console.log(`  instance ${i.id.padEnd(20)} ${i.type.padEnd(14)} ${i.zone.padEnd(15)} ${t.maxENIs} ENIs x ${t.ipsPerENI} IPs`); }
    }
  });
' "$ENI_SANDBOX_CLOUDSIM"

step "The API the operator adds"
run kubectl api-resources --api-group=network.eni-operator.io

step "Applying the sample NetworkModes (Alibaba and Tencent, veth and ipvlan)"
run kubectl apply -f config/samples/

step "What every node has and why"
run kubectl get networkmodes,enipools,nodenetworks -o wide

step "Defaults filled in by the API server"
run kubectl get networkmode tencent-veth -o jsonpath='{.spec.pool}{"\n"}{.spec.provider.rateLimit}{"\n"}'

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

step "The controller on the emulated cloud: three Alibaba nodes warm up their pools"
kubectl delete networkmodes --all >/dev/null
emulator=${ENI_SANDBOX_CLOUDSIM#http://}
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
    endpoint: "$emulator"
    allowInsecureHTTP: true
  subnets: [vsw-bp1simpodsi000001, vsw-bp1simpodsj000001]
  securityGroups: [sg-bp1simpods00000001]
  exclusive: {enabled: true}
  pool: {warmIPs: 4, maxIdleIPs: 8, cooldown: 5s}
YAML
for i in 1 2 3; do
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata: {name: demo-$i, labels: {eni-operator.io/network: demo}}
spec: {providerID: cn-hangzhou.i-bp1simnode00000000$i}
YAML
done
node dist/src/cmd/eni-operator.js controller --kubeconfig "$ENI_SANDBOX_KUBECONFIG_CONTROLLER" --cluster-id demo \
  --listen 127.0.0.1:0 --log-level warn >"$dir/controller.log" 2>&1 &
controller_pid=$!
wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 1 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "demo: timed out waiting for $what; controller log:" >&2; tail -20 "$dir/controller.log" >&2; return 1
}
warm() { [[ $(kubectl get enipools -o jsonpath='{range .items[*]}{.status.counts.freeIPs}{"\n"}{end}' | awk '$1 >= 4' | wc -l) -eq 3 ]]; }
wait_for "warm pools" warm
run kubectl get networkmodes,enipools

step "Pods bound to the nodes get VPC addresses; one asks for an ENI of its own"
kubectl create namespace demo >/dev/null
kubectl -n demo create serviceaccount default >/dev/null 2>&1 || true
for i in $(seq 1 9); do
  kubectl -n demo apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web-$i}
spec: {nodeName: demo-$(( (i % 3) + 1 )), containers: [{name: web, image: example.invalid/web}]}
YAML
done
kubectl -n demo apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: db-0, annotations: {network.eni-operator.io/eni-mode: exclusive}}
spec: {nodeName: demo-1, containers: [{name: db, image: example.invalid/db}]}
YAML
planned() { [[ $(kubectl get nodenetworks -o jsonpath='{range .items[*]}{range .spec.attachments[*]}{.name}{"\n"}{end}{end}' | grep -c .) -eq 10 ]]; }
wait_for "10 planned pods" planned
run kubectl get enipools,nodenetworks
echo
echo "The plan each node agent will apply (pod, mode, address, ENI):"
kubectl get nodenetworks -o jsonpath='{range .items[*]}{range .spec.attachments[*]}{.namespace}/{.name}{"\t"}{.mode}{"\t"}{.ip}{"\t"}{.eniID}{"\n"}{end}{end}' | sort | column -t
echo
kubectl -n demo get events --field-selector reason=Allocated -o custom-columns=POD:.involvedObject.name,MESSAGE:.message --no-headers | sort | head -4
step "Done"
