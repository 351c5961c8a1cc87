#!/usr/bin/env bash
# Runs one Kafka broker and makes sure it never outlives its owner.
#
#   watchdog.sh OWNER_PID PIDFILE -- java ...
#
# Starts the command in the background, writes its pid to PIDFILE, and polls: when OWNER_PID
# (the test runner, or 0 for "no owner" as with `npm run kafka:up`) has gone — even through
# SIGKILL, which no handler sees — the broker gets SIGTERM, then SIGKILL after a grace period.
# SIGTERM/SIGINT/SIGHUP sent to the watchdog are forwarded to the broker.
set -u
owner="$1"
pidfile="$2"
shift 3

"$@" &
child=$!
echo "$child" >"$pidfile"

forward() { kill -TERM "$child" 2>/dev/null; }
trap forward TERM INT HUP

stop_child() {
  kill -TERM "$child" 2>/dev/null
  for _ in $(seq 1 40); do
    kill -0 "$child" 2>/dev/null || return
    sleep 0.25
  done
  kill -KILL "$child" 2>/dev/null
}

while kill -0 "$child" 2>/dev/null; do
  if [ "$owner" != 0 ] && ! kill -0 "$owner" 2>/dev/null; then
    stop_child
    break
  fi
  # `wait` on a background sleep lets the traps run at once instead of after the sleep.
  sleep 0.5 &
  wait $! 2>/dev/null
done
wait "$child" 2>/dev/null
status=$?
# Only our own pid: a restart may already have started the next broker, whose watchdog wrote its
# pid here; removing that would make the running broker look dead to the harness.
if [ "$(cat "$pidfile" 2>/dev/null)" = "$child" ]; then rm -f "$pidfile"; fi
exit "$status"
