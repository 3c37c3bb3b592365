# shellcheck shell=bash
# Local 3-node clusters for scripts/services.sh `--cluster`: up/down/status of the nodes of one
# cluster kind (nats or kafka, see nats-cluster.sh and kafka-cluster.sh). Node <i> of kind <k> lives
# in $NP_STATE/cluster/<k>-<i>/ (config, data, pidfile, logs), so the lib.sh helpers (np_pid,
# np_spawn, np_wait_ready, np_stop) work on it under the name "cluster/<k>-<i>". `up` starts only the
# nodes that are not running (after a kill -9 of one node, `up` brings back that one) and returns
# once each started node serves and sees the others. Sourced.

NP_CLUSTER_NODES=(1 2 3)
# The node the ready checks (<kind>_cluster_ready) are about: np_wait_ready passes only the pid.
export NP_CLUSTER_NODE=1

np_cluster_node() { echo "cluster/$1-$2"; }

# The NETPULSE_* variables a service (or a test) uses to reach cluster <k>.
np_cluster_env() {
  local kind=$1 i urls=()
  for i in "${NP_CLUSTER_NODES[@]}"; do urls+=("$("${kind}_cluster_url" "$i")"); done
  local IFS=,
  if [ "$kind" = nats ]; then
    echo "NETPULSE_BUS=nats NETPULSE_NATS_URL=${urls[*]} NETPULSE_BUS_REPLICAS=3"
  else
    echo "NETPULSE_BUS=kafka NETPULSE_KAFKA_BROKERS=${urls[*]} NETPULSE_BUS_REPLICAS=3"
  fi
}

np_cluster_up() {
  local kind=$1 i node pid ports start=() started=() rc=0
  mkdir -p "$NP_STATE/cluster"
  for i in "${NP_CLUSTER_NODES[@]}"; do
    node=$(np_cluster_node "$kind" "$i")
    if pid=$(np_pid "$node"); then
      np_say "$kind-$i already running (pid $pid)"
      continue
    fi
    read -ra ports <<<"$("${kind}_cluster_ports" "$i")"
    np_require_free_ports "$kind-$i" "${ports[@]}" || return 1
    start+=("$i")
  done
  if [ ${#start[@]} -gt 0 ]; then
    "${kind}_cluster_prepare" "${start[@]}" || return 1
    # All first, then wait: a node only becomes ready once it has found the others.
    for i in "${start[@]}"; do
      mkdir -p "$NP_STATE/$(np_cluster_node "$kind" "$i")"
      "${kind}_cluster_spawn" "$i"
      started+=("$i")
    done
    for i in "${started[@]}"; do
      NP_CLUSTER_NODE=$i
      node=$(np_cluster_node "$kind" "$i")
      if ! np_wait_ready "$node" "$("${kind}_cluster_timeout")" "$("${kind}_cluster_log" "$i")" "${kind}_cluster_ready"; then
        rc=1
        break
      fi
    done
    if [ "$rc" -ne 0 ]; then
      # Half a cluster is worse than none: stop what this call started.
      for i in "${started[@]}"; do np_stop "$(np_cluster_node "$kind" "$i")" >/dev/null; done
      return 1
    fi
  fi
  np_say "$kind cluster ready; use it with:"
  echo "  $(np_cluster_env "$kind")"
}

# All nodes at once: a Kafka node stopped last, alone, has no controller quorum left for its
# controlled shutdown and would wait out np_stop's 30 s.
np_cluster_down() {
  local kind=$1 i pids=()
  for i in "${NP_CLUSTER_NODES[@]}"; do
    np_stop "$(np_cluster_node "$kind" "$i")" &
    pids+=("$!")
  done
  wait "${pids[@]}"
}

# One line per node; fails when any node is stopped.
np_cluster_status() {
  local kind=$1 i node pid ports spec who rc=0 line
  for i in "${NP_CLUSTER_NODES[@]}"; do
    node=$(np_cluster_node "$kind" "$i")
    if pid=$(np_pid "$node"); then
      printf '%-11s running  pid %-7s %-22s data %s\n' "$kind-$i" "$pid" "$("${kind}_cluster_url" "$i")" \
        "${NP_STATE#"$NP_ROOT"/}/$node/"
      continue
    fi
    rc=1
    line=$(printf '%-11s stopped' "$kind-$i")
    read -ra ports <<<"$("${kind}_cluster_ports" "$i")"
    for spec in "${ports[@]}"; do
      who=$(np_port_listener "${spec%%:*}")
      if [ -n "$who" ]; then
        line+="  (port ${spec%%:*} is taken by $who, not by netpulse)"
        break
      fi
    done
    echo "$line"
  done
  echo "  $kind cluster env: $(np_cluster_env "$kind")"
  return "$rc"
}
