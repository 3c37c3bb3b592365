#!/usr/bin/env bash
# Benchmarks: `scripts/bench.sh` runs every packages/*/bench/*.bench.ts and services/*/bench/*.bench.ts;
# `scripts/bench.sh <section>` runs one section (bus, detector, replay). Sections that need local servers start
# them with scripts/services.sh and stop again only the ones they started. Each bench prints its own table with
# ratios against a baseline measured in the same run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

started=()
need() {
  local s
  for s in "$@"; do
    if ! scripts/services.sh status "$s" >/dev/null; then
      scripts/services.sh up "$s"
      started+=("$s")
    fi
  done
}
cleanup() {
  local s
  for s in "${started[@]}"; do scripts/services.sh down "$s" || true; done
}
trap cleanup EXIT

# --expose-gc: the memory benches force collections between measurements.
run() {
  echo "== $1"
  node --expose-gc --import tsx "$1"
}

section=${1:-all}
case $section in
  bus)
    need nats kafka
    run packages/runtime/bench/bus.bench.ts
    ;;
  detector)
    # Its latency part runs a nats-server of its own (a shared one's rule versions and backlog would
    # skew it): the binary must be installed, no server started.
    command -v nats-server >/dev/null || scripts/install-deps.sh
    run services/detector/bench/detector.bench.ts
    ;;
  replay)
    # Brokers of its own (scripts/services.sh with its own ports and state dir, deleted afterwards), so the
    # shared ones are not filled with its flows; run from the sources, as the CLI runs (tsconfig.eslint.json paths).
    command -v nats-server >/dev/null || scripts/install-deps.sh
    TSX_TSCONFIG_PATH=tsconfig.eslint.json run services/detector/bench/replay.bench.ts
    ;;
  all)
    need nats kafka clickhouse
    shopt -s nullglob
    for f in packages/*/bench/*.bench.ts services/*/bench/*.bench.ts; do run "$f"; done
    ;;
  *)
    echo "usage: scripts/bench.sh [bus|detector|replay]" >&2
    exit 2
    ;;
esac
