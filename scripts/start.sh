#!/usr/bin/env bash
# What `npm start` runs. For now: install what is missing, build, and start the local servers.
# The all-in-one demo (capture on this kernel → enrich → detect → ClickHouse) extends this later.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
echo "start: npx tsc -b"
npx tsc -b
if [ -f bpf/Makefile ]; then
  echo "start: make -C bpf"
  make -s -C bpf
fi
scripts/services.sh up
scripts/services.sh status
echo "start: the local servers are up; the live demo is not built yet (it lands with a later issue)."
echo "start: stop them with: bin/netpulse services down"
