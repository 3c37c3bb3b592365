# shellcheck shell=bash
# NATS with JetStream for scripts/services.sh: client port 4222, monitoring port 8222 (its /healthz
# answers ok only once JetStream is up), stream data in .netpulse/nats/js. Sourced.

NATS_PORT=${NETPULSE_NATS_PORT:-4222}
NATS_MONITOR_PORT=${NETPULSE_NATS_MONITOR_PORT:-8222}

nats_ports() { echo "$NATS_PORT:client" "$NATS_MONITOR_PORT:monitoring"; }
nats_installed() { command -v nats-server >/dev/null && command -v curl >/dev/null; }
nats_url() { echo "nats://127.0.0.1:$NATS_PORT"; }

nats_ready() {
  np_port_owned_by "$NATS_PORT" "$1" &&
    curl -sf --max-time 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" | grep -q '"ok"'
}

nats_start() {
  local dir="$NP_STATE/nats"
  mkdir -p "$dir/js"
  command -v nats-server >/dev/null || { np_err "nats-server not installed; run scripts/install-deps.sh"; return 1; }
  np_spawn nats "$dir/nats-server.log" nats-server -n netpulse-local -a 127.0.0.1 -p "$NATS_PORT" \
    -m "$NATS_MONITOR_PORT" -js -sd "$dir/js"
  np_wait_ready nats 20 "$dir/nats-server.log" nats_ready
}
