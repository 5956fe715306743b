#!/usr/bin/env bash
# A throw-away Ceph cluster for the rbd tests: one monitor, one BlueStore OSD on a 3 GiB
# file, no manager, cephx on, everything on 127.0.0.1 only.
#
#   cluster.sh start DIR   creates DIR (must not exist), starts the daemons, creates pool
#                          `rbd` (size 1) and runs `rbd pool init`; DIR/ceph.conf names the
#                          monitor and DIR/keyring holds client.admin's key
#   cluster.sh stop DIR    kills the daemons (pid files in DIR/run) and removes DIR
#
# Clients: CEPH_CONF=DIR/ceph.conf (the conf names the keyring). The monitor's port is
# picked free at random, so two clusters (release and ASan test runs) never meet.
# No manager: nothing here needs one (rbd, pool create and `rbd encryption format` are
# monitor and OSD work), and it saves seconds and memory.
#
# Needs ceph-mon, ceph-osd, ceph-authtool, monmaptool, rbd and ceph_mon_command (this
# directory's mon_command.cpp; $CEPH_MON_COMMAND names it when it is not on PATH) in place
# of the Python `ceph` tool, so that it runs in the VM guest as well as on the host.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

stop() {
  local pid  # throw-away daemons: 2 s to stop, then SIGKILL
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
  done
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

free_port() {
  local port
  # The VM guest has no ss, and nothing else listens on its loopback.
  command -v ss >/dev/null || { echo $((20000 + RANDOM % 20000)); return; }
  while :; do
    port=$((20000 + RANDOM % 20000))
    ss -Hltn "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}

start() {
  if [ -e "$dir" ]; then
    echo "cluster.sh: $dir already exists" >&2
    exit 1
  fi
  local t0=$EPOCHREALTIME
  mkdir -p "$dir"/{mon,osd,run,log}
  created=1
  dir=$(cd "$dir" && pwd)
  local fsid port conf=$dir/ceph.conf keyring=$dir/keyring
  fsid=$(cat /proc/sys/kernel/random/uuid)
  port=$(free_port)
  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $keyring
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
client_mount_timeout = 15
# A client that dies keeps its watch on an image's header until this expires, and until then
# librbd counts it as the exclusive lock's live owner: the next client waits the whole time
# before it breaks the lock (30 s by default). Clients ping the watch far more often than this.
osd_client_watch_timeout = 10
[mon]
mon_data = $dir/mon
mon_initial_members = a
[osd]
osd_data = $dir/osd
osd_objectstore = bluestore
bluestore_block_path = $dir/osd-block
bluestore_block_size = 3221225472
bluestore_block_create = true
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
osd_memory_target = 939524096
bluestore_cache_autotune = false
bluestore_cache_size = 268435456
EOF
  ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  chmod 600 "$keyring"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$keyring"
  ceph-mon -c "$conf" -i a
  local osd_uuid
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  local mon_command=${CEPH_MON_COMMAND:-ceph_mon_command}
  [ "$(CEPH_CONF=$conf "$mon_command" "{\"prefix\": \"osd new\", \"uuid\": \"$osd_uuid\", \"id\": 0}")" = 0 ]
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" --keyring "$keyring" 2>>"$dir/log/mkfs.log"
  ceph-osd -c "$conf" -i 0 --keyring "$keyring" 2>>"$dir/log/osd-start.log"
  CEPH_CONF=$conf "$mon_command" '{"prefix": "osd pool create", "pool": "rbd", "pg_num": 8}' >/dev/null
  rbd -c "$conf" pool init rbd
  echo "cluster.sh: ceph cluster up in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s (mon v2:127.0.0.1:$port, conf $conf)"
}

case "$cmd" in
  start)
    # Not `if ! start`: errexit is off inside a condition, and every step must stop it.
    trap 'rc=$?; if [ $rc -ne 0 ]; then
            echo "cluster.sh: start failed; logs in $dir/log:" >&2
            tail -n 20 "$dir"/log/*.log >&2 2>/dev/null || true
            [ "$created" = 1 ] && stop
          fi' EXIT
    created=0
    start
    ;;
  stop) stop ;;
  *) usage ;;
esac
