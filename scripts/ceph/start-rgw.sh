#!/usr/bin/env bash
# Starts a throwaway single-node Ceph cluster on loopback for Forge's remote tests and benchmark:
# one monitor, one memstore OSD (data in RAM, no block device) and the RADOS Gateway (S3) on
# 127.0.0.1:$RGW_PORT, all under $FORGE_RGW_DIR. Installs the Debian packages first if missing.
# Writes $FORGE_RGW_DIR/env (endpoint and S3 keys, shell syntax) for the tests to read.
#
#   scripts/ceph/start-rgw.sh        # as root
#   scripts/ceph/stop-rgw.sh
#
# Knobs: FORGE_RGW_DIR (default /tmp/forge-rgw), RGW_PORT (7480), CEPH_MON_PORT (13300),
# CEPH_MEM_BYTES (memstore size, default 4 GiB; only what is stored uses RAM), FORGE_RGW_NO_INSTALL=1.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${FORGE_RGW_DIR:-/tmp/forge-rgw}"
RUN="$DIR/run"
RGW_PORT="${RGW_PORT:-7480}"
MON_PORT="${CEPH_MON_PORT:-13300}"
MEM_BYTES="${CEPH_MEM_BYTES:-4294967296}"
START=$SECONDS

say() { printf '[start-rgw +%ss] %s\n' "$((SECONDS - START))" "$*"; }
fail() { say "error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and starts the Ceph daemons)"

# --- packages: ask apt only for what is missing (naming an installed package would upgrade it)
want=(ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl)
missing=()
for p in "${want[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "${FORGE_RGW_NO_INSTALL:-0}" = 1 ] && fail "missing packages: ${missing[*]} (FORGE_RGW_NO_INSTALL=1)"
  mkdir -p "$DIR"
  say "apt-get install ${missing[*]}"
  apt-get update -qq >"$DIR/apt.log" 2>&1 || { tail -20 "$DIR/apt.log"; fail "apt-get update failed"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$DIR/apt.log" 2>&1 \
    || { tail -20 "$DIR/apt.log"; fail "apt-get install failed"; }
fi

# --- one cluster per directory: refuse if ours still runs, else clear the leftovers
if [ -d "$RUN/pid" ]; then
  for f in "$RUN"/pid/*.pid; do
    [ -f "$f" ] || continue
    case "$(basename "$(readlink "/proc/$(cat "$f")/exe" 2>/dev/null || true)")" in
      ceph-mon|ceph-osd|radosgw) fail "a cluster from $DIR is still running ($f); run scripts/ceph/stop-rgw.sh";;
    esac
  done
fi
rm -rf "$RUN" "$DIR/env"
for port in "$RGW_PORT" "$MON_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "127.0.0.1:$port is taken (set RGW_PORT / CEPH_MON_PORT)"; fi
done

ok=0
cleanup() { [ "$ok" = 1 ] || { say "start failed; logs in $RUN/log" >&2; FORGE_RGW_KEEP_RUN=1 bash "$HERE/stop-rgw.sh" >&2 || true; }; }
trap cleanup EXIT

mkdir -p "$RUN"/{pid,log,asok,mon.a,osd.0,rgw.a}
CONF="$RUN/ceph.conf"
FSID=$(uuidgen)
export CEPH_CONF="$CONF" CEPH_ARGS="--conf $CONF"   # never /etc/ceph

cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.1/32
cluster network = 127.0.0.1/32
ms bind ipv6 = false
ms bind msgr1 = false
ms bind port min = 16800
ms bind port max = 16900
# loopback-only test cluster: no cephx
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
keyring = $RUN/keyring
# one OSD: no replication, few placement groups
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon max pg per osd = 1000
mon allow pool delete = true
# the default 1 s paxos batching makes each of RGW's pool creations take seconds
paxos propose interval = 0.05
paxos min wait = 0.01
# full CI disks must not stop the monitor
mon data avail warn = 1
mon data avail crit = 0
run dir = $RUN/asok
admin socket = $RUN/asok/\$name.asok
pid file = $RUN/pid/\$name.pid
log file = $RUN/log/\$name.log
mon cluster log file = default=$RUN/log/cluster.\$channel.log cluster=$RUN/log/cluster.log
log to stderr = false
crash dir = $RUN/log
mon data = $RUN/mon.\$id
osd data = $RUN/osd.\$id
rgw data = $RUN/rgw.\$id
debug ms = 0

[osd]
osd objectstore = memstore
memstore device bytes = $MEM_BYTES

[client.rgw.a]
# tcp_nodelay: small responses otherwise wait ~40 ms (Nagle + delayed ACK)
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
# radosgw defaults to cephx and a "secure" mon session; without these it waits rgw_init_timeout
auth client required = none
ms mon client mode = crc
rgw init timeout = 120
rgw thread pool size = 64
CONF

ceph_() { timeout 60 ceph --connect-timeout 30 "$@"; }

say "monitor"
monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$RUN/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$RUN/monmap" >"$RUN/log/mon.mkfs" 2>&1 || { cat "$RUN/log/mon.mkfs"; fail "ceph-mon --mkfs"; }
ceph-mon -i a 2>"$RUN/log/mon.stderr" || { cat "$RUN/log/mon.stderr"; fail "ceph-mon did not start"; }
for i in $(seq 120); do ceph_ mon stat >/dev/null 2>&1 && break; [ "$i" = 120 ] && fail "monitor does not answer"; sleep 0.25; done

say "osd (memstore)"
OSD_UUID=$(uuidgen)
[ "$(ceph_ osd new "$OSD_UUID")" = 0 ] || fail "osd new did not return id 0"
ceph-osd -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$RUN/log/osd.mkfs" 2>&1 || { cat "$RUN/log/osd.mkfs"; fail "ceph-osd --mkfs"; }
ceph-osd -i 0 2>"$RUN/log/osd.stderr" || { cat "$RUN/log/osd.stderr"; fail "ceph-osd did not start"; }
for i in $(seq 240); do
  [[ "$(ceph_ osd dump 2>/dev/null || true)" == *$'\nosd.0 up'* ]] && break
  [ "$i" = 240 ] && fail "osd.0 not up"
  sleep 0.25
done

say "radosgw on 127.0.0.1:$RGW_PORT"
# in the foreground until it has joined the cluster, then it daemonizes
timeout 150 radosgw -n client.rgw.a 2>"$RUN/log/rgw.stderr" || { cat "$RUN/log/rgw.stderr"; fail "radosgw did not start"; }
for i in $(seq 480); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$RGW_PORT/" || true)" = 200 ] && break
  [ "$i" = 480 ] && fail "S3 endpoint silent"
  sleep 0.25
done

# --- an S3 user; tr|head under pipefail would die of SIGPIPE, so cut with bash instead
r=$(head -c 2048 /dev/urandom | tr -dc 'A-Z0-9'); ACCESS="${FORGE_RGW_ACCESS_KEY:-${r:0:20}}"
r=$(head -c 4096 /dev/urandom | tr -dc 'A-Za-z0-9'); SECRET="${FORGE_RGW_SECRET_KEY:-${r:0:40}}"
timeout 60 radosgw-admin user create --uid=forge --display-name="Forge tests" \
  --access-key="$ACCESS" --secret-key="$SECRET" >"$RUN/user.json" 2>"$RUN/log/user.err" \
  || { cat "$RUN/log/user.err"; fail "radosgw-admin user create"; }
# wait until RGW accepts the new keys (curl does not send x-amz-content-sha256 itself; RGW needs it)
for i in $(seq 80); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$ACCESS:$SECRET" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "http://127.0.0.1:$RGW_PORT/" || true)
  [ "$code" = 200 ] && break
  [ "$i" = 80 ] && fail "signed requests still get HTTP $code"
  sleep 0.25
done

cat >"$DIR/env" <<ENV
export AWS_ACCESS_KEY_ID=$ACCESS
export AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_REGION=us-east-1
export FORGE_RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
export FORGE_RGW_PID_FILE=$RUN/pid/client.rgw.a.pid
ENV
ok=1
say "ready: S3 on http://127.0.0.1:$RGW_PORT (path-style, us-east-1); keys in $DIR/env"
