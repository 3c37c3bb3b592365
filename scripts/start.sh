#!/usr/bin/env bash
# What `npm start` runs: install what is missing, build (TypeScript and the BPF program), then the
# live demo on this machine's kernel, `bin/netpulse start` (flags pass through:
# `npm start -- --duration 60 --json`, `npm start -- --bus kafka`). The demo starts the servers it
# needs and stops them again; see README "The demo".
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
exec bin/netpulse start "$@"
