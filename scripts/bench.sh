#!/usr/bin/env bash
# Benchmarks. `scripts/bench.sh` (`npm run bench`) runs, in one go, the sections issue 19 names:
#   e2e, detector, replay, bus, sink, capture (its latency overhead and memory per flow),
# with a progress line per section, then merges every bench/results/<section>.json into
# bench/results/latest.json and prints one table: key, value, goal, met/missed (bench/aggregate.ts).
# A section that fails is reported and the others still run; the exit status is 1 if any failed.
# `scripts/bench.sh <section>...` runs only those (then the table); `scripts/bench.sh table` only
# merges and prints; `scripts/bench.sh every` runs every packages/*/bench/*.bench.ts and
# services/*/bench/*.bench.ts. BENCH_SKIP=replay,capture leaves sections out of the default run.
# Sections that need the shared servers start them with scripts/services.sh and stop again only the
# ones they started; e2e and replay run servers of their own. Each bench prints its own figures
# with ratios against a baseline measured in the same run. See docs/bench.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

started=()
need() {
  local s
  for s in "$@"; do
    if ! scripts/services.sh status "$s" >/dev/null; then
      scripts/services.sh up "$s" || return 1
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
  echo "-- $1"
  node --expose-gc --import tsx "$1"
}
# From the sources, as the CLI and the services run (tsconfig.eslint.json paths).
run_src() {
  TSX_TSCONFIG_PATH=tsconfig.eslint.json run "$1"
}
nats_binary() { command -v nats-server >/dev/null || scripts/install-deps.sh; }

section() {
  case $1 in
    e2e)
      # Servers of its own (NATS, Kafka, ClickHouse through scripts/services.sh with its own ports
      # and state dir, deleted afterwards): E2E_BENCH_FLOWS (300000) per run, E2E_BENCH_BUSES.
      nats_binary
      E2E_BENCH_FLOWS=${E2E_BENCH_FLOWS:-300000} run_src bench/e2e/e2e.bench.ts
      ;;
    detector)
      # Its latency part runs a nats-server of its own (a shared one's rule versions and backlog
      # would skew it): the binary must be installed, no server started.
      nats_binary
      run services/detector/bench/detector.bench.ts
      ;;
    replay)
      # Brokers of its own, so the shared ones are not filled with its flows.
      nats_binary
      run_src services/detector/bench/replay.bench.ts
      ;;
    bus)
      need nats kafka
      run packages/runtime/bench/bus.bench.ts
      ;;
    sink)
      need clickhouse
      run services/sink/bench/sink.bench.ts
      ;;
    capture)
      # Root and the real kernel; one capture bench at a time on the machine (the lock).
      # CAPTURE_PAIRS (4 here, the bench's own default 8) off/on pairs keep it to ~5 min.
      flock /tmp/netpulse-bench.lock env PAIRS="${CAPTURE_PAIRS:-4}" \
        node --expose-gc --import tsx services/capture/bench/latency.bench.ts
      run services/capture/bench/memory.bench.ts
      ;;
    every)
      need nats kafka clickhouse
      shopt -s nullglob
      for f in packages/*/bench/*.bench.ts services/*/bench/*.bench.ts; do run "$f"; done
      ;;
    table) ;;
    *)
      echo "scripts/bench.sh: unknown section \"$1\" (e2e|detector|replay|bus|sink|capture|every|table)" >&2
      exit 2
      ;;
  esac
}

if (($# == 0)); then
  set -- e2e detector replay bus sink capture
  if [[ -n ${BENCH_SKIP:-} ]]; then
    keep=()
    for s in "$@"; do [[ ,$BENCH_SKIP, == *,$s,* ]] || keep+=("$s"); done
    set -- "${keep[@]}"
  fi
fi
for s in "$@"; do
  case $s in e2e | detector | replay | bus | sink | capture | every | table) ;; *) section "$s" ;; esac
done

export BENCH_RUN_STARTED=$(($(date +%s) * 1000))
t0=$SECONDS
failed=()
summary=()
i=0
for s in "$@"; do
  i=$((i + 1))
  [[ $s == table ]] && continue
  echo
  echo "== [$i/$#] $s (at $((SECONDS - t0)) s; load $(cut -d' ' -f1-3 /proc/loadavg))"
  ts=$SECONDS
  # shared servers are started here, not in the section's subshell, so the exit trap stops them
  rc=0
  case $s in
    bus) need nats kafka || rc=$? ;;
    sink) need clickhouse || rc=$? ;;
    every) need nats kafka clickhouse || rc=$? ;;
  esac
  if ((rc == 0)); then
    # a subshell outside any `if`, so `set -e` still ends the section at its first failure
    set +e
    (section "$s")
    rc=$?
    set -e
  fi
  if ((rc == 0)); then
    summary+=("$s ok $((SECONDS - ts)) s")
  else
    failed+=("$s")
    summary+=("$s FAILED (exit $rc) $((SECONDS - ts)) s")
  fi
  echo "== $s done in $((SECONDS - ts)) s (total $((SECONDS - t0)) s)"
done

echo
echo "== sections: ${summary[*]:-none}; total $((SECONDS - t0)) s"
node --import tsx bench/aggregate.ts
if ((${#failed[@]} > 0)); then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
