#!/usr/bin/env bash
# The local servers for `netpulse start`, shared with `npm test` (scripts/test.sh) by the same
# bookkeeping under .netpulse/test-runs/: `join PID NAME...` records which servers were stopped
# (this run starts them) and registers PID as a user, then starts them; `leave PID` unregisters PID
# and, once no live user is left, stops what the users started. A run killed with -9 leaves a dead
# PID, which the next `leave` drops, so its servers are still stopped in the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
cd "$root"
runs=.netpulse/test-runs
mkdir -p "$runs"
exec 8>"$runs/.lock"
action=$1
pid=$2
shift 2
case $action in
  join)
    flock 8
    for s in "$@"; do
      scripts/services.sh status "$s" >/dev/null || echo "$s" >>"$runs/owned"
    done
    echo "$pid" >"$runs/$pid"
    flock -u 8
    for s in "$@"; do scripts/services.sh up "$s" >&2 || exit 1; done
    ;;
  leave)
    flock 8
    rm -f "$runs/$pid"
    others=()
    for f in "$runs"/[0-9]*; do
      [ -e "$f" ] || continue
      if kill -0 "${f##*/}" 2>/dev/null; then others+=("${f##*/}"); else rm -f "$f"; fi
    done
    if [ ${#others[@]} -gt 0 ]; then
      echo "start: leaving the servers up for the run(s) still using them (pid ${others[*]})" >&2
    elif [ -f "$runs/owned" ]; then
      mapfile -t owned < <(sort -u "$runs/owned")
      for s in "${owned[@]}"; do scripts/services.sh down "$s" >&2 || true; done
      rm -f "$runs/owned"
    fi
    flock -u 8
    ;;
  *)
    echo "usage: servers.sh join|leave PID [NAME...]" >&2
    exit 2
    ;;
esac
