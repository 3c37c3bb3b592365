#!/usr/bin/env bash
# Local servers for development and tests: `scripts/services.sh up|down|status [nats|kafka|clickhouse]`
# (no name = all three); with `--cluster [nats|kafka]` a 3-node NATS and/or a 3-broker Kafka cluster
# instead (scripts/services/cluster.sh: nodes under .netpulse/cluster/<name>-<i>/, own ports). Each runs on 127.0.0.1 with config, data, pidfile and logs under
# .netpulse/<name>/ in the repo. `up` runs scripts/install-deps.sh first when a server is not
# installed, and returns once each really serves; `down` stops only servers this script started
# (pidfile); `status` prints one line per server and exits 3 if any is stopped.
set -euo pipefail

NP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# NETPULSE_SERVICES_DIR and NETPULSE_<NAME>_PORT run a second, isolated set (test/services.test.ts).
NP_STATE="${NETPULSE_SERVICES_DIR:-$NP_ROOT/.netpulse}"
NP_ALL=(nats kafka clickhouse)

# shellcheck source=scripts/services/lib.sh
source "$NP_ROOT/scripts/services/lib.sh"
for s in "${NP_ALL[@]}" cluster nats-cluster kafka-cluster; do
  # shellcheck source=/dev/null
  source "$NP_ROOT/scripts/services/$s.sh"
done

usage() {
  echo "usage: scripts/services.sh up|down|status [nats|kafka|clickhouse]" >&2
  echo "       scripts/services.sh up|down|status --cluster [nats|kafka]" >&2
  exit 2
}

cluster=0
args=()
for a in "$@"; do
  if [ "$a" = --cluster ]; then cluster=1; else args+=("$a"); fi
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then usage; fi
action=${args[0]}
case $action in up | down | status) ;; *) usage ;; esac
if [ "$cluster" -eq 1 ]; then
  if [ ${#args[@]} -eq 2 ]; then
    case ${args[1]} in nats | kafka) names=("${args[1]}") ;; *) usage ;; esac
  else
    names=(nats kafka)
  fi
elif [ ${#args[@]} -eq 2 ]; then
  case ${args[1]} in nats | kafka | clickhouse) names=("${args[1]}") ;; *) usage ;; esac
else
  names=("${NP_ALL[@]}")
fi
mkdir -p "$NP_STATE"

up_one() {
  local name=$1 pid ports
  if pid=$(np_pid "$name"); then
    np_say "$name already running (pid $pid)"
    return 0
  fi
  read -ra ports <<<"$("${name}_ports")"
  np_require_free_ports "$name" "${ports[@]}" || return 1
  "${name}_start"
}

status_one() {
  local name=$1 pid ports spec who
  if pid=$(np_pid "$name"); then
    printf '%-11s running  pid %-7s %-22s data %s\n' "$name" "$pid" "$("${name}_url")" "${NP_STATE#"$NP_ROOT"/}/$name/"
    return 0
  fi
  read -ra ports <<<"$("${name}_ports")"
  for spec in "${ports[@]}"; do
    who=$(np_port_listener "${spec%%:*}")
    if [ -n "$who" ]; then
      printf '%-11s stopped  (port %s is taken by %s, not by netpulse)\n' "$name" "${spec%%:*}" "$who"
      return 1
    fi
  done
  printf '%-11s stopped\n' "$name"
  return 1
}

case $action in
  status)
    rc=0
    for n in "${names[@]}"; do
      if [ "$cluster" -eq 1 ]; then np_cluster_status "$n" || rc=3; else status_one "$n" || rc=3; fi
    done
    exit "$rc"
    ;;
  up | down)
    if [ "$action" = up ]; then
      for n in "${names[@]}"; do
        if ! "${n}_installed"; then
          np_say "$n is not installed yet: running scripts/install-deps.sh"
          "$NP_ROOT/scripts/install-deps.sh" || exit 1
          break
        fi
      done
    fi
    # One `up`/`down` at a time per checkout: concurrent test runs must not start a server twice.
    exec 9>"$NP_STATE/.services.lock"
    flock -w 300 9 || { np_err "another services.sh holds $NP_STATE/.services.lock"; exit 1; }
    rc=0
    for n in "${names[@]}"; do
      if [ "$cluster" -eq 1 ]; then
        if [ "$action" = up ]; then np_cluster_up "$n" || rc=1; else np_cluster_down "$n"; fi
      elif [ "$action" = up ]; then
        up_one "$n" || rc=1
      else
        np_stop "$n"
      fi
    done
    exit "$rc"
    ;;
esac
