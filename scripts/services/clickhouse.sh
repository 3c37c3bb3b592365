# shellcheck shell=bash
# ClickHouse 18.16 (Debian's clickhouse-server) for scripts/services.sh: HTTP 8123, native 9000,
# loopback only, config/users/data/logs under .netpulse/clickhouse. The system service and
# /etc/clickhouse-server are never used. Sourced.

CLICKHOUSE_HTTP_PORT=${NETPULSE_CLICKHOUSE_HTTP_PORT:-8123}
CLICKHOUSE_TCP_PORT=${NETPULSE_CLICKHOUSE_TCP_PORT:-9000}
# Loopback-only local server: the `netpulse` user exists so auth paths can be tested for real.
CLICKHOUSE_NETPULSE_PASSWORD=netpulse-local

clickhouse_ports() { echo "$CLICKHOUSE_HTTP_PORT:http" "$CLICKHOUSE_TCP_PORT:native"; }
clickhouse_installed() { command -v clickhouse-server >/dev/null && command -v curl >/dev/null; }
clickhouse_url() { echo "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"; }

clickhouse_ready() {
  np_port_owned_by "$CLICKHOUSE_HTTP_PORT" "$1" && np_port_owned_by "$CLICKHOUSE_TCP_PORT" "$1" &&
    [ "$(curl -s --max-time 2 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/ping")" = "Ok." ]
}

clickhouse_start() {
  local dir="$NP_STATE/clickhouse" tpl="$NP_ROOT/scripts/services/clickhouse" hash
  command -v clickhouse-server >/dev/null || { np_err "clickhouse-server not installed; run scripts/install-deps.sh"; return 1; }
  mkdir -p "$dir/data" "$dir/log"
  hash=$(printf '%s' "$CLICKHOUSE_NETPULSE_PASSWORD" | sha256sum | cut -d' ' -f1)
  sed -e "s#@DIR@#$dir#g" -e "s#@HTTP_PORT@#$CLICKHOUSE_HTTP_PORT#g" -e "s#@TCP_PORT@#$CLICKHOUSE_TCP_PORT#g" \
    "$tpl/config.xml" >"$dir/config.xml"
  sed -e "s#@PASSWORD_SHA256@#$hash#g" "$tpl/users.xml" >"$dir/users.xml"
  # Foreground mode (no --daemon) so the pid we record is the server's own.
  np_spawn clickhouse "$dir/log/stdout.log" clickhouse-server --config-file="$dir/config.xml"
  np_wait_ready clickhouse 30 "$dir/log/clickhouse-server.err.log" clickhouse_ready
}
