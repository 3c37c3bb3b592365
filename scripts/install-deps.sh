#!/usr/bin/env bash
# Installs what netpulse needs on a Debian 12 machine, and only what is missing: Debian packages
# (servers, BPF toolchain, traffic tools), node_modules (npm ci), the Kafka broker jars (Maven,
# cached in .netpulse/kafka/libs), helm and a Kubernetes API server (kube-apiserver, etcd and
# kubectl, all built from the Go module proxy) and chdb. Safe to run again; prints one line per step.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf 'install-deps: %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
# Java and Maven run the Kafka broker and resolve its jars; curl and iproute2 (ss) are used by
# scripts/services.sh for readiness and port checks; python3 runs the capture tests' TCP peers;
# openssl makes the throwaway CA of the NATS TLS test; python3-venv holds chdb (below).
packages=(
  nats-server clickhouse-server clickhouse-client
  openjdk-17-jre-headless maven curl
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev make pkg-config
  nftables iproute2 ethtool wrk python3 python3-venv openssl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages: all ${#packages[@]} present"
else
  [ "$(id -u)" -eq 0 ] || { say "missing Debian packages (${missing[*]}); run this script as root" >&2; exit 1; }
  say "Debian packages: installing ${missing[*]}"
  # Package scripts must not start system services (clickhouse-server's would take ports 8123/9000):
  # netpulse runs its own servers. policy-rc.d exit 101 = "action forbidden", honoured by invoke-rc.d
  # and deb-systemd-invoke.
  policy=/usr/sbin/policy-rc.d
  added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
  fi
  trap 'if [ -n "$added_policy" ]; then rm -f "$policy"; fi' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "Debian packages: installed ${#missing[@]}"
fi

# --- npm -------------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install; older than package-lock.json means
# the lock file changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "node_modules: npm ci"
  # The lock holds every platform's optional packages (rollup's native builds included), so the
  # exact locked tree installs everywhere; a lock npm ci refuses is a bug to fix, not to work around.
  log=$(mktemp)
  if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    cat "$log" >&2
    say "node_modules: npm ci refused the lock file (above); regenerate it with npm install and commit it"
    exit 1
  fi
  rm -f "$log"
else
  say "node_modules: up to date"
fi

# --- Kafka broker jars -----------------------------------------------------------------------
# .complete holds the hash of the pom the jars were resolved from: a new pin re-resolves.
libs=.netpulse/kafka/libs
want=$(sha256sum scripts/kafka/pom.xml | cut -d' ' -f1)
if [ -f "$libs/.complete" ] && [ "$(<"$libs/.complete")" = "$want" ]; then
  say "Kafka jars: cached in $libs ($(find "$libs" -name '*.jar' | wc -l) jars)"
else
  say "Kafka jars: resolving with Maven into $libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  # Maven 3.8 prints ANSI resets even when quiet; strip them so CI logs stay readable.
  mvn -q -B -Dstyle.color=never -f scripts/kafka/pom.xml dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$root/$libs" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
  printf '%s\n' "$want" >"$libs/.complete"
  say "Kafka jars: $(find "$libs" -name '*.jar' | wc -l) jars"
fi

# --- helm (Go module proxy) ------------------------------------------------------------------
# test/helm-chart.test.ts lints and renders deploy/helm/netpulse with it. Built from source with the
# Go toolchain (no release download); cached in .netpulse/bin, rebuilt only when the pin changes.
helm_version=v4.3.2
helm_bin=.netpulse/bin/helm
if [ -x "$helm_bin" ] && [ "$(cat .netpulse/bin/.helm-version 2>/dev/null)" = "$helm_version" ]; then
  say "helm: $helm_version cached in $helm_bin"
else
  command -v go >/dev/null || { say "helm: needs the Go toolchain (go 1.26 or later, as helm $helm_version's go.mod asks) on PATH" >&2; exit 1; }
  say "helm: building helm.sh/helm/v4/cmd/helm@$helm_version into .netpulse/bin (a few minutes once)"
  mkdir -p .netpulse/bin
  # -X: without it `helm version` says only the minor version (v4.3).
  GOBIN="$root/.netpulse/bin" go install -ldflags "-X helm.sh/helm/v4/internal/version.version=$helm_version" \
    "helm.sh/helm/v4/cmd/helm@$helm_version"
  printf '%s\n' "$helm_version" >.netpulse/bin/.helm-version
  say "helm: $("$helm_bin" version --short 2>/dev/null || echo "$helm_version")"
fi

# --- kube-apiserver, etcd and kubectl (Go module proxy) -------------------------------------
# A real Kubernetes API server on loopback for the chart check (deploy/helm/validate-apiserver.sh)
# and the enricher's and detector's informer tests (test/support/kubeApiserver.ts). Built from
# source into .netpulse/kube: k8s.io/kubernetes cannot be `go install`ed (its go.mod has replace
# directives), so a module of our own requires it, pins each staging module at the matching
# v0.x, and takes etcd at the version kubernetes itself requires. With cold Go caches about 570
# CPU-seconds (some ten minutes on two cores, longer when they are shared; 2.5 GB of memory at
# most), with a warm Go build cache under a minute (the links); rebuilt only when the pin changes.
kube_version=v1.37.2
kube=.netpulse/kube
if [ -x "$kube/kube-apiserver" ] && [ -x "$kube/etcd" ] && [ -x "$kube/kubectl" ] &&
  [ "$(cat "$kube/.version" 2>/dev/null)" = "$kube_version" ]; then
  say "kube-apiserver, etcd, kubectl: $kube_version cached in $kube"
else
  command -v go >/dev/null || { say "kube-apiserver: needs the Go toolchain (go 1.26 or later) on PATH" >&2; exit 1; }
  say "kube-apiserver, etcd, kubectl: building $kube_version into $kube (about ten minutes once)"
  started=$SECONDS
  src="$kube/src"
  rm -rf "$src" "$kube/.version" && mkdir -p "$src/etcd"
  modfile=$(go mod download -json "k8s.io/kubernetes@$kube_version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$modfile" ] || { say "kube-apiserver: k8s.io/kubernetes@$kube_version has no go.mod in the module cache" >&2; exit 1; }
  etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2 }' "$modfile")
  staging_version="v0.${kube_version#v1.}"
  {
    printf 'module netpulse.local/kube\n\ngo 1.26.0\n\nrequire (\n'
    printf '\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\nreplace (\n' "$kube_version" "$etcd_version"
    grep -E '=> ./staging' "$modfile" | awk -v v="$staging_version" '{ printf "\t%s => %s %s\n", $1, $1, v }'
    printf ')\n'
  } >"$src/go.mod"
  printf '//go:build tools\n\npackage kube\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' \
    >"$src/tools.go"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' \
    >"$src/etcd/main.go"
  # One build of the three commands shares the packages they have in common. -X sets the version
  # kubectl reads from the server (without it: a parse warning). -s -w: no symbol tables.
  # tidy says "go: downloading" for each of some 300 modules: kept in a log, shown when it fails.
  (cd "$src" && { go mod tidy >tidy.log 2>&1 || { cat tidy.log >&2; exit 1; }; } &&
    go build -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$kube_version" -o ../ \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl ./etcd)
  rm -rf "$src"
  printf '%s\n' "$kube_version" >"$kube/.version"
  say "kube-apiserver, etcd $etcd_version, kubectl: built in $((SECONDS - started)) s"
fi

# --- chdb (embedded modern ClickHouse, PyPI) ------------------------------------------------
# The sink's modern DDL and the SQL cookbook are checked against it (test/sink-chdb.test.ts).
# A venv of our own: Debian's python refuses pip installs into the system (PEP 668).
py=.netpulse/py
if [ -x "$py/bin/python" ] && "$py/bin/python" -c "import chdb" 2>/dev/null; then
  say "chdb: present in $py"
else
  say "chdb: installing into $py"
  python3 -m venv "$py"
  "$py/bin/python" -m pip install -q --disable-pip-version-check chdb
  say "chdb: $("$py/bin/python" -c 'import chdb; print(chdb.__version__)')"
fi
