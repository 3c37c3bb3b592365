# shellcheck shell=bash
# A 3-broker Kafka 3.9 KRaft cluster for `scripts/services.sh up --cluster kafka`: three nodes, each
# broker and controller (the three are the controller quorum), broker i on 127.0.0.1:9190+i,
# controller on 9290+i, config scripts/kafka/cluster.properties (internal topics at RF 3, min.insync
# 2), log segments in .netpulse/cluster/kafka-<i>/data. One cluster id (.netpulse/cluster/kafka.id)
# formats every node's storage once. NETPULSE_KAFKA_CLUSTER_PORT_<i> and
# NETPULSE_KAFKA_CLUSTER_CONTROLLER_PORT_<i> move a node. Sourced after kafka.sh (jars, JVM options).

kafka_cluster_port() { local v="NETPULSE_KAFKA_CLUSTER_PORT_$1"; echo "${!v:-$((9190 + $1))}"; }
kafka_cluster_controller_port() { local v="NETPULSE_KAFKA_CLUSTER_CONTROLLER_PORT_$1"; echo "${!v:-$((9290 + $1))}"; }

kafka_cluster_ports() { echo "$(kafka_cluster_port "$1"):broker" "$(kafka_cluster_controller_port "$1"):controller"; }
kafka_cluster_url() { echo "127.0.0.1:$(kafka_cluster_port "$1")"; }
kafka_cluster_log() { echo "$NP_STATE/$(np_cluster_node kafka "$1")/server.log"; }
kafka_cluster_timeout() { echo 150; }

kafka_cluster_java_log() {
  local dir=$1
  echo "-Dkafka.logs.dir=$dir" "-Dlog4j.configuration=file:$dir/log4j.properties"
}

# Renders each node's config and formats the storage of those never formatted (in parallel: one
# short JVM each). The cluster id is 16 random bytes in Kafka's Uuid text form (base64url).
kafka_cluster_prepare() {
  local i j dir voters=() id_file="$NP_STATE/cluster/kafka.id" id pids=() failed=0 java_log
  command -v java >/dev/null || { np_err "java not installed; run scripts/install-deps.sh"; return 1; }
  [ -f "$KAFKA_LIBS/.complete" ] || { np_err "Kafka jars missing in $KAFKA_LIBS; run scripts/install-deps.sh"; return 1; }
  [ -d "$NP_ROOT/node_modules/kafkajs" ] || { np_err "node_modules missing (kafka readiness check needs kafkajs); run scripts/install-deps.sh"; return 1; }
  if [ ! -s "$id_file" ]; then
    id=-
    while [[ $id == -* ]]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); done
    echo "$id" >"$id_file"
  fi
  id=$(<"$id_file")
  for j in "${NP_CLUSTER_NODES[@]}"; do voters+=("$j@127.0.0.1:$(kafka_cluster_controller_port "$j")"); done
  for i in "$@"; do
    dir="$NP_STATE/$(np_cluster_node kafka "$i")"
    mkdir -p "$dir/data"
    sed -e "s#@DATA_DIR@#$dir/data#g" -e "s#@NODE_ID@#$i#g" -e "s#@PORT@#$(kafka_cluster_port "$i")#g" \
      -e "s#@CONTROLLER_PORT@#$(kafka_cluster_controller_port "$i")#g" -e "s#@VOTERS@#$(IFS=,; echo "${voters[*]}")#g" \
      "$NP_ROOT/scripts/kafka/cluster.properties" >"$dir/server.properties"
    cp "$NP_ROOT/scripts/kafka/log4j.properties" "$dir/log4j.properties"
    if [ ! -f "$dir/data/meta.properties" ]; then
      read -ra java_log <<<"$(kafka_cluster_java_log "$dir")"
      java -Xmx256m "${java_log[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$id" \
        -c "$dir/server.properties" >>"$dir/format.log" 2>&1 &
      pids+=("$!:$i")
    fi
  done
  for j in "${pids[@]}"; do
    if ! wait "${j%%:*}"; then
      np_err "formatting the storage of kafka-${j#*:} failed; see $NP_STATE/$(np_cluster_node kafka "${j#*:}")/format.log"
      failed=1
    fi
  done
  [ "$failed" -eq 0 ] || return 1
  [ ${#pids[@]} -eq 0 ] || np_say "kafka cluster storage formatted for ${#pids[@]} node(s) (cluster id $id)"
}

kafka_cluster_spawn() {
  local i=$1 dir java_log
  dir="$NP_STATE/$(np_cluster_node kafka "$i")"
  read -ra java_log <<<"$(kafka_cluster_java_log "$dir")"
  np_spawn "$(np_cluster_node kafka "$i")" "$dir/stdout.log" java "${KAFKA_JVM_OPTS[@]}" "${java_log[@]}" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
}

# A metadata round trip on this broker that lists all three brokers (registered and unfenced).
kafka_cluster_ready() {
  local i=$NP_CLUSTER_NODE
  np_port_owned_by "$(kafka_cluster_port "$i")" "$1" &&
    node "$NP_ROOT/scripts/services/kafka-ready.js" "127.0.0.1:$(kafka_cluster_port "$i")" "${#NP_CLUSTER_NODES[@]}" \
      >/dev/null 2>&1
}
