#!/usr/bin/env bash
# What `npm test` runs: install what is missing, build (TypeScript, and BPF when bpf/Makefile exists),
# start the local servers, run vitest (extra arguments go to vitest: `npm test -- path/x.test.ts`),
# then stop the servers this run started. Servers that were already running stay up.
# Exits with vitest's code.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
echo "test: npx tsc -b"
npx tsc -b
if [ -f bpf/Makefile ]; then
  echo "test: make -C bpf"
  make -s -C bpf
fi

started=()
for s in nats kafka clickhouse; do
  scripts/services.sh status "$s" >/dev/null || started+=("$s")
done
stop_started() {
  local s
  for s in "${started[@]}"; do scripts/services.sh down "$s" || true; done
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
scripts/services.sh up

export NETPULSE_NATS_URL="${NETPULSE_NATS_URL:-nats://127.0.0.1:4222}"
export NETPULSE_KAFKA_BROKERS="${NETPULSE_KAFKA_BROKERS:-127.0.0.1:9092}"
export NETPULSE_CLICKHOUSE_URL="${NETPULSE_CLICKHOUSE_URL:-http://127.0.0.1:8123}"

rc=0
npx vitest run "$@" || rc=$?
exit "$rc"
