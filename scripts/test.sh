#!/usr/bin/env bash
# What `npm test` runs: install what is missing, build (TypeScript, and BPF when bpf/Makefile exists),
# start the local servers, run vitest (extra arguments go to vitest: `npm test -- path/x.test.ts`),
# then stop the servers test runs started. Servers that were already running stay up, and while
# another `npm test` in this checkout still runs, nothing is stopped: the last run out stops them.
# Exits with vitest's code.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
echo "test: npx tsc -b (and the tests themselves, which vitest runs without type checking)"
npx tsc -b
npx tsc --noEmit -p tsconfig.eslint.json
if [ -f bpf/Makefile ]; then
  echo "test: make -C bpf"
  make -s -C bpf
fi

# .netpulse/test-runs/<pid> marks a live run; `owned` lists servers a test run started.
runs=.netpulse/test-runs
mkdir -p "$runs"
exec 8>"$runs/.lock"
flock 8
for s in nats kafka clickhouse; do
  scripts/services.sh status "$s" >/dev/null || echo "$s" >>"$runs/owned"
done
echo $$ >"$runs/$$"
flock -u 8

leave() {
  local f others=() owned=()
  flock 8
  rm -f "$runs/$$"
  for f in "$runs"/[0-9]*; do
    [ -e "$f" ] || continue
    if kill -0 "${f##*/}" 2>/dev/null; then others+=("${f##*/}"); else rm -f "$f"; fi
  done
  if [ ${#others[@]} -gt 0 ]; then
    echo "test: leaving the servers up for the test run(s) still going (pid ${others[*]})"
  elif [ -f "$runs/owned" ]; then
    mapfile -t owned < <(sort -u "$runs/owned")
    for f in "${owned[@]}"; do scripts/services.sh down "$f" || true; done
    rm -f "$runs/owned"
  fi
  flock -u 8
}
trap leave EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
scripts/services.sh up

export NETPULSE_NATS_URL="${NETPULSE_NATS_URL:-nats://127.0.0.1:4222}"
export NETPULSE_KAFKA_BROKERS="${NETPULSE_KAFKA_BROKERS:-127.0.0.1:9092}"
export NETPULSE_CLICKHOUSE_URL="${NETPULSE_CLICKHOUSE_URL:-http://127.0.0.1:8123}"
export NETPULSE_PYTHON="${NETPULSE_PYTHON:-$root/.netpulse/py/bin/python}"  # has chdb (install-deps.sh)

# vitest's own summary is not a line CI reads; the JSON report gives one plain closing line.
report=.netpulse/vitest-report.json
rm -f "$report"
rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || rc=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$report"
else
  # e.g. the watchdog (test/support/watchdog.ts) killed a test process whose event loop had stopped
  echo "tests: vitest ended without its report (exit $rc); the reason is above"
fi
exit "$rc"
