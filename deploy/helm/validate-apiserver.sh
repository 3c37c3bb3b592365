#!/usr/bin/env bash
# A real Kubernetes API server on loopback (etcd + kube-apiserver, built by scripts/install-deps.sh
# into .netpulse/kube), and the chart checked against it.
#
# validate (the default): every object rendered with default and with Kafka+TLS values is accepted
# by `kubectl apply --dry-run=server` (schema, defaulting, admission; the server runs with
# --allow-privileged=false, so a privileged capture would be refused), then applied, and
# `kubectl auth can-i` proves each ServiceAccount's RBAC: get/list/watch on exactly its kinds.
#
# serve DIR: only start the server, for tests (test/support/kubeApiserver.ts starts it this way, so
# the chart check and the informer tests share one starter). Everything lives in DIR: ports, keys,
# tokens, etcd's data, the logs, and two kubeconfigs: DIR/kubeconfig (user admin, system:masters)
# and DIR/kubeconfig-netpulse (user netpulse, no groups: it may do what RBAC grants it, and its
# requests are written to DIR/audit.log). Prints "validate-apiserver: ready on https://…" once
# /readyz answers; runs until SIGTERM/SIGINT or until its parent exits, then stops the server.
# Serving the same DIR again is the same cluster: same address, objects and resourceVersions.
#
# Usage: deploy/helm/validate-apiserver.sh [validate | serve DIR]   (needs openssl, python3; helm to validate)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
say() { printf 'validate-apiserver: %s\n' "$*"; }
kube=.netpulse/kube
for b in etcd kube-apiserver kubectl; do
  [ -x "$kube/$b" ] || { say "no $kube/$b: run scripts/install-deps.sh (it builds kube-apiserver, etcd and kubectl)" >&2; exit 1; }
done

pids=()
# kube-apiserver first (it waits for etcd while shutting down), then etcd; SIGKILL after 10 s.
stop_server() {
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  pids=()
}

# Starts etcd and kube-apiserver with their state in $1 (kept there for a restart) and waits for
# /readyz. Sets api_url.
start_server() {
  local dir=$1 etcd_port peer_port api_port token user
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # Three loopback ports, held at once so they differ; kept for a restart.
  [ -s "$dir/ports" ] || python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))' >"$dir/ports"
  read -r etcd_port peer_port api_port <"$dir/ports"
  [ -f "$dir/sa.key" ] || openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  if [ ! -f "$dir/tokens.csv" ]; then
    printf '%s,admin,admin,"system:masters"\n%s,netpulse,netpulse\n' "$(openssl rand -hex 16)" \
      "$(openssl rand -hex 16)" >"$dir/tokens.csv"
  fi
  # The netpulse user's requests only, as one JSON line each (verb, resource, URI, status).
  printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n    users: [netpulse]\n  - level: None\n' \
    >"$dir/audit-policy.yaml"
  api_url="https://127.0.0.1:$api_port"
  while IFS=, read -r token user _; do
    local config="$dir/kubeconfig"
    [ "$user" = admin ] || config="$dir/kubeconfig-$user"
    cat >"$config" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster: { server: "$api_url", insecure-skip-tls-verify: true }
users:
  - name: $user
    user: { token: "$token" }
contexts:
  - name: local
    context: { cluster: local, user: $user }
current-context: local
KUBECONFIG
  done <"$dir/tokens.csv"

  "$kube/etcd" --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" >>"$dir/etcd.log" 2>&1 &
  pids+=($!)
  # No controller manager, scheduler or kubelet: pods are created with a nodeName and get their IP
  # through the status subresource. Admission is trimmed to what needs no controller: without the
  # ServiceAccount plugin a pod needs no "default" ServiceAccount (a controller would make it), and
  # no webhooks, policies, quotas or limit ranges are configured. Open watches get 1 s at shutdown
  # (else the server waits on them until it is killed).
  "$kube/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
    --secure-port "$api_port" --cert-dir "$dir/certs" --service-account-key-file "$dir/sa.key" \
    --service-account-signing-key-file "$dir/sa.key" --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --token-auth-file "$dir/tokens.csv" \
    --disable-admission-plugins ServiceAccount,LimitRanger,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,MutatingAdmissionPolicy,ValidatingAdmissionPolicy \
    --endpoint-reconciler-type none --shutdown-watch-termination-grace-period 1s \
    --audit-policy-file "$dir/audit-policy.yaml" \
    --audit-log-path "$dir/audit.log" --allow-privileged=false >>"$dir/apiserver.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 240); do
    "$kube/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1 && return 0
    kill -0 "${pids[1]}" 2>/dev/null || break
    sleep 0.5
  done
  tail -20 "$dir/apiserver.log" >&2
  say "kube-apiserver did not become ready (log above, in $dir/apiserver.log)" >&2
  return 1
}

if [ "${1:-validate}" = serve ]; then
  [ $# -eq 2 ] || { say "usage: $0 serve DIR" >&2; exit 2; }
  trap 'stop_server; exit 0' TERM INT
  trap stop_server EXIT
  start_server "$2"
  say "ready on $api_url (kubeconfig $2/kubeconfig)"
  # Until told to stop; also when the parent (a test run) is gone or a server died.
  parent=$PPID
  while kill -0 "$parent" 2>/dev/null; do
    for p in "${pids[@]}"; do
      kill -0 "$p" 2>/dev/null || { say "a server process ($p) exited; logs in $2" >&2; exit 1; }
    done
    sleep 1 &
    wait $! || true
  done
  exit 0
fi
[ "${1:-validate}" = validate ] || { say "usage: $0 [validate | serve DIR]" >&2; exit 2; }

helm=.netpulse/bin/helm
[ -x "$helm" ] || { say "no $helm: run scripts/install-deps.sh" >&2; exit 1; }
run=$(mktemp -d)
trap 'stop_server; rm -rf "$run"' EXIT
trap 'exit 143' TERM INT # through the EXIT trap: no server left behind
start_server "$run/server"
k() { "$kube/kubectl" --kubeconfig "$run/server/kubeconfig" "$@"; }
say "kube-apiserver $(k version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1) ready on $api_url"

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
checks=0
can() { # expect(yes|no) sa verb resource
  local got
  checks=$((checks + 1))
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
[ "$fails" -eq 0 ] || { say "$fails of $checks RBAC checks failed"; exit 1; }
say "RBAC: enricher and detector get/list/watch exactly their kinds; no writes, no secrets; capture none ($checks auth can-i checks)"
