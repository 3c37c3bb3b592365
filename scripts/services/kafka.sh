# shellcheck shell=bash
# Kafka 3.9 single-node KRaft for scripts/services.sh: broker 127.0.0.1:9092, controller :9093,
# jars in .netpulse/kafka/libs (scripts/install-deps.sh), log segments in .netpulse/kafka/data.
# Storage is formatted once (data/meta.properties marks it); later starts reuse the cluster. Sourced.

KAFKA_PORT=${NETPULSE_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${NETPULSE_KAFKA_CONTROLLER_PORT:-9093}
# The jars are shared by every state dir: install-deps.sh resolves them once per checkout.
KAFKA_LIBS="$NP_ROOT/.netpulse/kafka/libs"
# The machine has 2 cores shared with everything else: small heap, few GC threads.
KAFKA_JVM_OPTS=(-Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:ParallelGCThreads=2
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)

kafka_ports() { echo "$KAFKA_PORT:broker" "$KAFKA_CONTROLLER_PORT:controller"; }
kafka_installed() { command -v java >/dev/null && [ -f "$KAFKA_LIBS/.complete" ] && [ -d "$NP_ROOT/node_modules/kafkajs" ]; }
kafka_url() { echo "127.0.0.1:$KAFKA_PORT"; }

# A real metadata round trip (kafkajs admin listTopics), tried only once the port is ours.
kafka_ready() {
  np_port_owned_by "$KAFKA_PORT" "$1" &&
    node "$NP_ROOT/scripts/services/kafka-ready.js" "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1
}

kafka_start() {
  local dir="$NP_STATE/kafka" libs=$KAFKA_LIBS id
  local java_log=(-Dkafka.logs.dir="$dir" -Dlog4j.configuration="file:$dir/log4j.properties")
  command -v java >/dev/null || { np_err "java not installed; run scripts/install-deps.sh"; return 1; }
  [ -f "$libs/.complete" ] || { np_err "Kafka jars missing in $libs; run scripts/install-deps.sh"; return 1; }
  [ -d "$NP_ROOT/node_modules/kafkajs" ] || { np_err "node_modules missing (kafka readiness check needs kafkajs); run scripts/install-deps.sh"; return 1; }
  mkdir -p "$dir/data"
  sed -e "s#@DATA_DIR@#$dir/data#g" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$NP_ROOT/scripts/kafka/server.properties" >"$dir/server.properties"
  cp "$NP_ROOT/scripts/kafka/log4j.properties" "$dir/log4j.properties"
  if [ ! -f "$dir/data/meta.properties" ]; then
    if ! id=$(java "${java_log[@]}" -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>>"$dir/format.log") ||
      ! java "${java_log[@]}" -cp "$libs/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
        >>"$dir/format.log" 2>&1; then
      np_err "formatting Kafka storage failed; see $dir/format.log"
      return 1
    fi
    np_say "kafka storage formatted (cluster id $id)"
  fi
  np_spawn kafka "$dir/stdout.log" java "${KAFKA_JVM_OPTS[@]}" "${java_log[@]}" -cp "$libs/*" \
    kafka.Kafka "$dir/server.properties"
  np_wait_ready kafka 120 "$dir/server.log" kafka_ready
}
