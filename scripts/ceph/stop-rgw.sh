#!/usr/bin/env bash
# Stops the cluster scripts/ceph/start-rgw.sh started, by its pid files only, and removes its data.
#   scripts/ceph/stop-rgw.sh          # everything
#   scripts/ceph/stop-rgw.sh rgw      # only radosgw (tests simulate an outage; start it again with restart-rgw.sh)
set -uo pipefail
DIR="${FORGE_RGW_DIR:-/tmp/forge-rgw}"
RUN="$DIR/run"
[ -d "$RUN/pid" ] || { echo "[stop-rgw] nothing running under $DIR"; exit 0; }

# a pid file may outlive its process; only signal a live process running one of our programs
ours() {
  kill -0 "$1" 2>/dev/null || return 1
  case "$(basename "$(readlink "/proc/$1/exe" 2>/dev/null || true)")" in ceph-mon|ceph-osd|radosgw) return 0;; esac
  return 1
}
stop_one() {
  local f="$RUN/pid/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do ours "$pid" || return 0; sleep 0.1; done
  echo "[stop-rgw] $1 (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 50); do ours "$pid" || return 0; sleep 0.1; done
}

if [ "${1:-}" = rgw ]; then stop_one client.rgw.a; rm -f "$RUN/pid/client.rgw.a.pid"; echo "[stop-rgw] radosgw stopped"; exit 0; fi
# the gateway first, the monitor last
for d in client.rgw.a osd.0 mon.a; do stop_one "$d"; done
[ -n "${FORGE_RGW_KEEP_RUN:-}" ] || rm -rf "$RUN" "$DIR/env"
echo "[stop-rgw] stopped"
