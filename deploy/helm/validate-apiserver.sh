#!/usr/bin/env bash
# Checks the chart against a real Kubernetes API server on loopback: every object rendered with
# default and with Kafka+TLS values is accepted by `kubectl apply --dry-run=server` (schema,
# defaulting, admission; the server runs with --allow-privileged=false, so a privileged capture
# would be refused), then applied, and `kubectl auth can-i` proves each ServiceAccount's RBAC:
# get/list/watch on exactly its kinds, nothing else.
# kube-apiserver and etcd are built once from the Go module proxy into .netpulse/kube (about ten
# minutes on two cores; k8s.io/kubernetes cannot be `go install`ed: its go.mod has replace
# directives, so a module of our own requires it and pins the staging modules).
# Usage: deploy/helm/validate-apiserver.sh   (from the repository root; needs go, helm, kubectl, openssl)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
say() { printf 'validate-apiserver: %s\n' "$*"; }
k8s_version=v1.37.2 # k8s.io/kubernetes; its staging modules are v0.37.x
staging_version=v0.37.2
etcd_version=v3.7.0 # the etcd server k8s.io/kubernetes $k8s_version requires
kube=.netpulse/kube
helm=.netpulse/bin/helm
[ -x "$helm" ] || { say "no $helm: run scripts/install-deps.sh" >&2; exit 1; }

if [ ! -x "$kube/kube-apiserver" ] || [ ! -x "$kube/etcd" ] || [ "$(cat "$kube/.version" 2>/dev/null)" != "$k8s_version" ]; then
  say "building kube-apiserver $k8s_version and etcd into $kube"
  src="$kube/src"
  rm -rf "$src" && mkdir -p "$src/etcd"
  modfile=$(go mod download -json "k8s.io/kubernetes@$k8s_version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    printf 'module netpulse.local/kube\n\ngo 1.26.0\n\nrequire (\n'
    printf '\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\nreplace (\n' "$k8s_version" "$etcd_version"
    grep -E '=> ./staging' "$modfile" | awk -v v="$staging_version" '{ printf "\t%s => %s %s\n", $1, $1, v }'
    printf ')\n'
  } >"$src/go.mod"
  printf '//go:build tools\n\npackage kube\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >"$src/tools.go"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' \
    >"$src/etcd/main.go"
  (cd "$src" && go mod tidy &&
    go build -ldflags "-X k8s.io/component-base/version.gitVersion=$k8s_version" -o ../kube-apiserver \
      k8s.io/kubernetes/cmd/kube-apiserver &&
    go build -o ../etcd ./etcd)
  printf '%s\n' "$k8s_version" >"$kube/.version"
fi

run=$(mktemp -d)
pids=()
# kube-apiserver first (it waits for etcd while shutting down), then etcd; SIGKILL after 10 s.
cleanup() {
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$run"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

etcd_port=$(free_port)
peer_port=$(free_port)
api_port=$(free_port)
"$kube/etcd" --data-dir "$run/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" >"$run/etcd.log" 2>&1 &
pids+=($!)
openssl genrsa -out "$run/sa.key" 2048 2>/dev/null
token=$(openssl rand -hex 16)
printf '%s,admin,admin,"system:masters"\n' "$token" >"$run/tokens.csv"
"$kube/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
  --secure-port "$api_port" --cert-dir "$run/certs" --service-account-key-file "$run/sa.key" \
  --service-account-signing-key-file "$run/sa.key" --service-account-issuer https://kubernetes.default.svc \
  --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --token-auth-file "$run/tokens.csv" \
  --allow-privileged=false >"$run/apiserver.log" 2>&1 &
pids+=($!)
k() { kubectl --server "https://127.0.0.1:$api_port" --insecure-skip-tls-verify --token "$token" "$@"; }
for _ in $(seq 1 120); do
  k get --raw /readyz >/dev/null 2>&1 && break
  sleep 1
done
k get --raw /readyz >/dev/null || { tail -20 "$run/apiserver.log" >&2; say "kube-apiserver did not become ready" >&2; exit 1; }
say "kube-apiserver $(k version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1) ready on 127.0.0.1:$api_port"

k create namespace netpulse >/dev/null
cat >"$run/kafka.yaml" <<'VALUES'
bus:
  kind: kafka
  kafka:
    brokers: kafka-0.kafka:9093
    sasl: { mechanism: scram-sha-512, existingSecret: kafka-auth }
    tls: { enabled: true, existingSecret: kafka-ca }
VALUES
"$helm" template netpulse deploy/helm/netpulse -n netpulse >"$run/default.yaml"
"$helm" template netpulse deploy/helm/netpulse -n netpulse -f "$run/kafka.yaml" >"$run/kafka-rendered.yaml"
for f in default kafka-rendered; do
  k apply --dry-run=server -f "$run/$f.yaml" >"$run/$f.out"
  say "$f values: $(wc -l <"$run/$f.out") objects accepted by apply --dry-run=server"
done
# Control: the same capture made privileged is refused by this server, so the acceptance above means
# something.
sed 's/privileged: false/privileged: true/' "$run/default.yaml" >"$run/privileged.yaml"
if k apply --dry-run=server -f "$run/privileged.yaml" >"$run/privileged.out" 2>&1; then
  say "FAIL: a privileged capture was accepted: the server does not enforce --allow-privileged=false" >&2
  exit 1
fi
say "control: a privileged capture is refused ($(grep -o 'privileged: Forbidden[^"]*' "$run/privileged.out" | head -1))"
k apply -f "$run/default.yaml" >/dev/null

# RBAC, for real: what each ServiceAccount may and may not do.
fails=0
can() { # expect(yes|no) sa verb resource
  local got
  got=$(k auth can-i "$3" "$4" --all-namespaces --as "system:serviceaccount:netpulse:netpulse-$2" 2>/dev/null || true)
  if [ "$got" != "$1" ]; then
    say "FAIL: netpulse-$2 $3 $4: $got, expected $1"
    fails=$((fails + 1))
  fi
}
for v in get list watch; do
  for r in pods namespaces nodes services endpointslices.discovery.k8s.io replicasets.apps jobs.batch; do can yes enricher $v $r; done
  for r in pods namespaces networkpolicies.networking.k8s.io; do can yes detector $v $r; done
  for r in nodes services secrets configmaps; do can no detector $v $r; done
  for r in pods secrets; do can no capture $v $r; done
done
for v in create update patch delete; do
  for sa in enricher detector; do can no $sa $v pods; done
done
for sa in enricher detector; do can no $sa get secrets; done
[ "$fails" -eq 0 ] || { say "$fails RBAC checks failed"; exit 1; }
say "RBAC: enricher and detector get/list/watch exactly their kinds; no writes, no secrets; capture none"
