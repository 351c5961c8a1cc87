#!/bin/sh
# The single-node Kafka of compose.yaml, run inside the apache/kafka image (which has a JRE and
# therefore keytool, but no openssl and no bash). Two steps, one container each:
#
#   kafka.sh secrets DIR   once: a demo CA, the broker's TLS keystore (for the host name
#                          "kafka") and the demo SASL passwords, written to DIR (a volume that the
#                          broker reads and the forwarder mounts read-only as /run/secrets)
#   kafka.sh broker DIR    a KRaft broker and controller with a SASL_SSL listener on kafka:9092
#                          (PLAIN, user "forwarder"), started in the foreground
#
# The forwarder always uses TLS and verifies the broker's certificate, so even this demo broker
# needs a CA the forwarder trusts (DIR/kafka-ca.pem, its ca_file).
set -eu
step=$1
dir=$2
keytool=keytool
if ! command -v keytool >/dev/null 2>&1; then keytool="$JAVA_HOME/bin/keytool"; fi
# The store password only guards the keystore file inside the demo volume.
store_password=demo-store-password

secrets() {
  if [ -f "$dir/kafka.p12" ]; then
    echo "kafka.sh: secrets already in $dir"
    return
  fi
  mkdir -p "$dir"
  work=$(mktemp -d)
  "$keytool" -genkeypair -noprompt -alias ca -dname "CN=kafka-forwarder compose demo CA" \
    -keyalg EC -groupname secp256r1 -validity 3650 -ext bc:c \
    -keystore "$work/ca.p12" -storetype PKCS12 -storepass "$store_password"
  "$keytool" -exportcert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$store_password" \
    -file "$dir/kafka-ca.pem"
  "$keytool" -genkeypair -noprompt -alias kafka -dname "CN=kafka" \
    -keyalg EC -groupname secp256r1 -validity 3650 \
    -keystore "$dir/kafka.p12" -storetype PKCS12 -storepass "$store_password"
  "$keytool" -certreq -alias kafka -keystore "$dir/kafka.p12" -storepass "$store_password" \
    -file "$work/kafka.csr"
  # The forwarder checks the broker's host name against the certificate: "kafka" in compose,
  # "localhost" for clients on the host.
  "$keytool" -gencert -alias ca -keystore "$work/ca.p12" -storepass "$store_password" \
    -infile "$work/kafka.csr" -outfile "$work/kafka.pem" -rfc -validity 3650 \
    -ext SAN=dns:kafka,dns:localhost -ext KU=digitalSignature -ext EKU=serverAuth
  # The chain (CA, then the broker's certificate signed by it) replaces the self-signed one.
  "$keytool" -importcert -noprompt -alias ca -file "$dir/kafka-ca.pem" \
    -keystore "$dir/kafka.p12" -storepass "$store_password"
  "$keytool" -importcert -noprompt -alias kafka -file "$work/kafka.pem" \
    -keystore "$dir/kafka.p12" -storepass "$store_password"
  rm -rf "$work"
  # Demo credentials: the forwarder reads them as password_file and api_secret_file.
  printf '%s' "${KAFKA_PASSWORD:-forwarder-demo-password}" >"$dir/kafka_password"
  printf '%s' "${MP_API_SECRET:-demo-secret}" >"$dir/api_secret"
  # uid 1000 is both the broker's user in apache/kafka and the forwarder's in its image.
  chown -R 1000:1000 "$dir" 2>/dev/null || true
  chmod 0400 "$dir/kafka.p12" "$dir/kafka_password" "$dir/api_secret"
  chmod 0444 "$dir/kafka-ca.pem"
  echo "kafka.sh: secrets written to $dir"
}

broker() {
  password=$(cat "$dir/kafka_password")
  config=/tmp/server.properties
  logs=/tmp/kafka-logs
  cat >"$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
controller.listener.names=CONTROLLER
listeners=SASL_SSL://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093,INTERNAL://127.0.0.1:19092
advertised.listeners=SASL_SSL://kafka:9092,INTERNAL://127.0.0.1:19092
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT
inter.broker.listener.name=INTERNAL
log.dirs=$logs
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/kafka.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.client.auth=none
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_forwarder="$password";
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPERTIES
  /opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" --config "$config"
  # The demo topic, created once the broker answers (auto-creation is off, as in production).
  (
    until /opt/kafka/bin/kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --list >/dev/null 2>&1; do sleep 1; done
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --create --if-not-exists \
      --topic mparticle-events --partitions 3 --replication-factor 1
  ) &
  exec /opt/kafka/bin/kafka-server-start.sh "$config"
}

case "$step" in
  secrets) secrets ;;
  broker) broker ;;
  *)
    echo "usage: kafka.sh secrets|broker DIR" >&2
    exit 2
    ;;
esac
