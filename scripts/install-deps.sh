#!/usr/bin/env bash
# Installs what netpulse needs on a Debian 12 machine, and only what is missing: Debian packages
# (servers, BPF toolchain, traffic tools), node_modules (npm ci), the Kafka broker jars (Maven,
# cached in .netpulse/kafka/libs), helm (built from the Go module proxy) and chdb. Safe to run
# again; prints one line per step.
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
