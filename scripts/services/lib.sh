# shellcheck shell=bash
# Shared helpers for scripts/services.sh: pidfiles, port ownership, starting a server in the
# background and waiting until it really serves. Sourced, not executed.
# Every server netpulse starts lives in $NP_STATE/<name>/ with its pidfile and logs; a pidfile only
# counts when its process is alive AND its command line names that directory, so a recycled pid or
# another checkout's server is never mistaken for ours.

np_say() { printf 'netpulse services: %s\n' "$*"; }
np_err() { printf 'netpulse services: %s\n' "$*" >&2; }

# Seconds since $1 (an $EPOCHREALTIME), one decimal.
np_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# Prints the pid of our running server <name>, or fails.
np_pid() {
  local name=$1 file="$NP_STATE/$1/pid" pid cmd
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *"$NP_STATE/$name"* ]] || return 1
  printf '%s\n' "$pid"
}

# Prints "pid N (command)" of whatever listens on TCP port $1 (any address), or nothing.
np_port_listener() {
  local line
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1)
  [ -n "$line" ] || return 0
  if [[ $line =~ \(\(\"([^\"]*)\",pid=([0-9]+) ]]; then
    printf 'pid %s (%s)\n' "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
  else
    printf 'an unknown process\n'
  fi
}

# True when TCP port $1 is listened on by pid $2.
np_port_owned_by() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2,"
}

# Fails with one line naming the port when something that is not ours already listens on it.
# Args: name, then "port:label" pairs.
np_require_free_ports() {
  local name=$1 spec port label who
  shift
  for spec in "$@"; do
    port=${spec%%:*} label=${spec#*:}
    who=$(np_port_listener "$port")
    if [ -n "$who" ]; then
      np_err "cannot start $name: port $port ($label) is already in use by $who, not by netpulse; stop it or free the port"
      return 1
    fi
  done
}

# Starts "$@" detached (own session, no terminal, stdio to $log) and records its pid. Every other
# inherited descriptor is closed first: a server that lives on must not hold our lock files or
# the pipes of whoever ran us (npm, vitest workers), or they would wait on it forever.
np_spawn() {
  local name=$1 log=$2
  shift 2
  NP_SPAWN_LOG=$log
  printf '=== netpulse services: starting %s at %s\n' "$name" "$(date -u +%FT%TZ)" >>"$log"
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    exec setsid "$@"
  ) </dev/null >>"$log" 2>&1 &
  printf '%s\n' "$!" >"$NP_STATE/$name/pid"
}

# The last lines of a file written since the last start marker (all of it when unmarked), indented.
np_tail_since_start() {
  [ -f "$1" ] || return 0
  awk '/^=== netpulse services: starting/ { n = 0; delete l; next } { l[++n] = $0 }
       END { for (i = (n > 15 ? n - 14 : 1); i <= n; i++) print "  | " l[i] }' "$1"
}

# On stderr: the end of the server's log, then what the process itself printed, if anything (JVM
# and command-line errors land there, not in the log).
np_log_tail() {
  local own=""
  np_tail_since_start "$1" >&2
  if [ -n "${NP_SPAWN_LOG:-}" ] && [ "$NP_SPAWN_LOG" != "$1" ]; then own=$(np_tail_since_start "$NP_SPAWN_LOG"); fi
  if [ -n "$own" ]; then printf '  (%s)\n%s\n' "$NP_SPAWN_LOG" "$own" >&2; fi
}

# Polls "$check" (a command) until it succeeds. Fails when the server exits or $timeout seconds
# pass; then prints the reason, the log's tail, stops the half-started server and removes the pidfile.
np_wait_ready() {
  local name=$1 timeout=$2 log=$3 check=$4 started=$EPOCHREALTIME pid
  pid=$(<"$NP_STATE/$name/pid")
  # Right after the fork /proc/<pid>/cmdline is still this shell's, so only liveness counts here;
  # the ready check itself proves the pid owns the server's ports.
  while :; do
    if ! np_alive "$pid"; then
      np_err "$name exited during start; see $log"
      np_log_tail "$log"
      rm -f "$NP_STATE/$name/pid"
      return 1
    fi
    if $check "$pid"; then
      np_say "$name ready (pid $pid, $(np_elapsed "$started") s)"
      return 0
    fi
    if awk -v a="$started" -v b="$EPOCHREALTIME" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
      np_err "$name did not become ready within ${timeout}s; see $log"
      np_log_tail "$log"
      np_stop "$name" >/dev/null
      return 1
    fi
    sleep 0.2
  done
}

# True while pid $1 exists and is not a zombie (a server this shell started stays a zombie child
# until the shell exits).
np_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Stops our server <name>: TERM, wait up to 30 s, then KILL. Never touches anything else.
np_stop() {
  local name=$1 pid i
  if ! pid=$(np_pid "$name"); then
    rm -f "$NP_STATE/$name/pid"
    np_say "$name not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    np_alive "$pid" || break
    sleep 0.1
  done
  if np_alive "$pid"; then
    np_err "$name (pid $pid) ignored TERM for 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$NP_STATE/$name/pid"
  np_say "$name stopped (pid $pid)"
}
