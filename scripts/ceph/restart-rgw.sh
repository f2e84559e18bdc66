#!/usr/bin/env bash
# Starts radosgw again after `stop-rgw.sh rgw` (the monitor and OSD kept running), and waits for S3.
set -euo pipefail
DIR="${FORGE_RGW_DIR:-/tmp/forge-rgw}"
RUN="$DIR/run"
RGW_PORT="${RGW_PORT:-7480}"
export CEPH_CONF="$RUN/ceph.conf" CEPH_ARGS="--conf $RUN/ceph.conf"
[ -f "$CEPH_CONF" ] || { echo "[restart-rgw] no cluster under $DIR; run start-rgw.sh" >&2; exit 1; }
timeout 150 radosgw -n client.rgw.a 2>>"$RUN/log/rgw.stderr"
for i in $(seq 480); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$RGW_PORT/" || true)" = 200 ] && exit 0
  sleep 0.25
done
echo "[restart-rgw] S3 endpoint silent" >&2; exit 1
