# shellcheck shell=bash
# A 3-node NATS cluster with JetStream for `scripts/services.sh up --cluster nats`: node <i> serves
# clients on 4230+i, routes on 6230+i (loopback, cluster name netpulse-local), monitoring on
# 8230+i, stream data in .netpulse/cluster/nats-<i>/js. NETPULSE_NATS_CLUSTER_PORT_<i>,
# NETPULSE_NATS_CLUSTER_ROUTE_PORT_<i> and NETPULSE_NATS_CLUSTER_MONITOR_PORT_<i> move a node (tests
# run a private cluster on free ports). Sourced.

nats_cluster_port() { local v="NETPULSE_NATS_CLUSTER_PORT_$1"; echo "${!v:-$((4230 + $1))}"; }
nats_cluster_route_port() { local v="NETPULSE_NATS_CLUSTER_ROUTE_PORT_$1"; echo "${!v:-$((6230 + $1))}"; }
nats_cluster_monitor_port() { local v="NETPULSE_NATS_CLUSTER_MONITOR_PORT_$1"; echo "${!v:-$((8230 + $1))}"; }

nats_cluster_ports() {
  echo "$(nats_cluster_port "$1"):client" "$(nats_cluster_route_port "$1"):route" "$(nats_cluster_monitor_port "$1"):monitoring"
}
nats_cluster_url() { echo "nats://127.0.0.1:$(nats_cluster_port "$1")"; }
nats_cluster_log() { echo "$NP_STATE/$(np_cluster_node nats "$1")/nats-server.log"; }
nats_cluster_timeout() { echo 30; }
nats_cluster_prepare() { command -v nats-server >/dev/null || { np_err "nats-server not installed; run scripts/install-deps.sh"; return 1; }; }

nats_cluster_spawn() {
  local i=$1 j routes=() dir
  dir="$NP_STATE/$(np_cluster_node nats "$i")"
  mkdir -p "$dir/js"
  for j in "${NP_CLUSTER_NODES[@]}"; do
    [ "$j" = "$i" ] || routes+=("nats://127.0.0.1:$(nats_cluster_route_port "$j")")
  done
  local IFS=,
  np_spawn "$(np_cluster_node nats "$i")" "$(nats_cluster_log "$i")" nats-server -n "nats-$i" -a 127.0.0.1 \
    -p "$(nats_cluster_port "$i")" -m "$(nats_cluster_monitor_port "$i")" -js -sd "$dir/js" \
    --cluster_name netpulse-local --cluster "nats://127.0.0.1:$(nats_cluster_route_port "$i")" --routes "${routes[*]}"
}

# Serving, routed to both other nodes, and JetStream current with the meta leader (/healthz).
nats_cluster_ready() {
  local i=$NP_CLUSTER_NODE mon
  mon="http://127.0.0.1:$(nats_cluster_monitor_port "$i")"
  np_port_owned_by "$(nats_cluster_port "$i")" "$1" &&
    curl -sf --max-time 2 "$mon/healthz" | grep -q '"ok"' &&
    [ "$(curl -sf --max-time 2 "$mon/routez" | sed -n 's/.*"num_routes": *\([0-9]*\).*/\1/p')" -ge 2 ] 2>/dev/null &&
    curl -sf --max-time 2 "$mon/jsz" | grep -q '"leader"'
}
