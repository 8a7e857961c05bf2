#!/usr/bin/env bash
# Regenerate synack's own test fixtures: real captures of the real Linux kernel.
#
#   bash tools/make-fixtures.sh                  # every scenario
#   bash tools/make-fixtures.sh refused-v4 ...   # only these
#
# Each scenario gets two fresh network namespaces joined by one veth pair
# (server side synack-fx-srv/sfx-srv0, client side synack-fx-cli/sfx-cli0),
# addresses only from 198.18.0.0/15 and 2001:db8::/32, checksum offload and
# TSO/GSO/GRO off (so the captured checksums are the ones on the wire), small
# python3 programs from tools/fixture-apps/ as the applications, and tcpdump on
# the server-side veth writing classic pcap. Every capture is checked with
# tshark (tools/fixture-apps/check_capture.py) before it replaces the file in
# fixtures/; a failed scenario leaves the old file alone. Everything the script
# creates is removed by name on exit, also on failure. Needs root, iproute2,
# ethtool, tcpdump, tshark, python3 (and iptables for simultaneous-open).
# KEEP_WORK=1 keeps the work folder in /tmp (app logs, raw capture) to debug.
# See fixtures/MANIFEST.md for what each capture shows.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APPS=$ROOT/tools/fixture-apps
OUT=$ROOT/fixtures

ALL=(web-mail-v4 refused-v4 web-mail-v6 backlog-overflow-v4 syn-timeout-v4
     simultaneous-open-v4 listener-closed-v4 rst-abort-reuse-v4)

NS_SRV=synack-fx-srv
NS_CLI=synack-fx-cli
IF_SRV=sfx-srv0
IF_CLI=sfx-cli0
MAC_SRV=02:00:00:00:00:01
MAC_CLI=02:00:00:00:00:02
SRV4=198.18.0.1
CLI4=(198.18.0.11 198.18.0.12 198.18.0.13)
SRV6=2001:db8::1
CLI6=(2001:db8::11 2001:db8::12 2001:db8::13)
SILENT4=198.18.0.99          # syn-timeout: nobody owns it
SILENT_MAC=02:00:00:00:00:63 # ... and nobody owns this MAC either

BG_PIDS=()   # every background process we started; killed by pid on exit
WORK=""

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'make-fixtures: %s\n' "$*" >&2; exit 1; }

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# wait_bg PID: wait for one of our background processes and forget its pid,
# so that teardown never signals a pid that may since belong to someone else.
wait_bg() {
  local rc=0 p keep=()
  wait "$1" || rc=$?
  for p in "${BG_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
  return "$rc"
}

# Stop what we started (by pid), then remove both namespaces by name; deleting
# a namespace destroys the veth pair with it.
teardown() {
  local pid
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  BG_PIDS=()
  ip netns del "$NS_SRV" 2>/dev/null || true
  ip netns del "$NS_CLI" 2>/dev/null || true
}

on_exit() {
  local rc=$?
  teardown
  [[ -n $WORK && -z ${KEEP_WORK:-} ]] && rm -rf "$WORK"
  exit "$rc"
}

wait_file() { # FILE [SECONDS]
  local i
  for ((i = 0; i < ${2:-10} * 100; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.01
  done
  die "timed out waiting for $1"
}

# setup 4|6: fresh namespaces, the veth pair, addresses of one family only.
setup() {
  local fam=$1 ns a
  teardown
  ip netns add "$NS_SRV"
  ip netns add "$NS_CLI"
  for ns in "$NS_SRV" "$NS_CLI"; do
    ip netns exec "$ns" ip link set lo up
    # 'default' is what the veth inherits when it is created below.
    if [[ $fam == 4 ]]; then
      ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    else
      # No DAD (not even for the link-local address), no router
      # solicitations; MLD reports repeat within 10 ms, before the capture.
      ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0 \
        net.ipv6.conf.default.mldv1_unsolicited_report_interval=10 \
        net.ipv6.conf.default.mldv2_unsolicited_report_interval=10
    fi
  done
  ip link add "$IF_SRV" netns "$NS_SRV" address "$MAC_SRV" type veth \
    peer name "$IF_CLI" netns "$NS_CLI" address "$MAC_CLI"
  in_srv ethtool -K "$IF_SRV" tx off rx off tso off gso off gro off >/dev/null
  in_cli ethtool -K "$IF_CLI" tx off rx off tso off gso off gro off >/dev/null
  if [[ $fam == 4 ]]; then
    in_srv ip addr add "$SRV4/24" dev "$IF_SRV"
    for a in "${CLI4[@]}"; do in_cli ip addr add "$a/24" dev "$IF_CLI"; done
  else
    in_srv ip addr add "$SRV6/64" dev "$IF_SRV" nodad
    for a in "${CLI6[@]}"; do in_cli ip addr add "$a/64" dev "$IF_CLI" nodad; done
  fi
  in_srv ip link set "$IF_SRV" up
  in_cli ip link set "$IF_CLI" up
  local i
  for ((i = 0; i < 300; i++)); do
    links_ready "$fam" && break
    sleep 0.01
  done
  links_ready "$fam" || die "the veth pair did not come up"
  # Let link-up chatter (IPv6 MLD reports) finish before the capture starts.
  if [[ $fam == 6 ]]; then sleep 0.3; else sleep 0.05; fi
}

# The side brought up first has no carrier yet; its qdisc stays noop (dropping
# everything) and IPv6 stays unconfigured until linkwatch handles the carrier
# event, which it may delay by up to a second. Ready means: both sides have
# their noqueue qdisc and operstate UP, and for IPv6 every address has joined
# its solicited-node group (else neighbour solicitations go unanswered).
links_ready() {
  local out a
  out=$(in_srv ip -o link show dev "$IF_SRV")
  [[ $out == *"qdisc noqueue"*"state UP"* ]] || return 1
  out=$(in_cli ip -o link show dev "$IF_CLI")
  [[ $out == *"qdisc noqueue"*"state UP"* ]] || return 1
  [[ $1 == 4 ]] && return 0
  out=$(in_srv ip -6 maddr show dev "$IF_SRV")
  [[ $out =~ ff02::1:ff00:${SRV6##*:}([^0-9a-f:]|$) ]] || return 1
  out=$(in_cli ip -6 maddr show dev "$IF_CLI")
  for a in "${CLI6[@]}"; do
    [[ $out =~ ff02::1:ff00:${a##*:}([^0-9a-f:]|$) ]] || return 1
  done
}

# bg_srv|bg_cli APP ARGS...: start a fixture app in a namespace; its pid is in
# $!. A plain command (not a shell function) so that the background child execs
# ip, which execs python: the pid we kill and wait for is the app itself.
bg_srv() { ip netns exec "$NS_SRV" "$PY" "$APPS/$1" "${@:2}" 2>>"$APPLOG" & BG_PIDS+=("$!"); }
bg_cli() { ip netns exec "$NS_CLI" "$PY" "$APPS/$1" "${@:2}" 2>>"$APPLOG" & BG_PIDS+=("$!"); }
run_cli() { timeout 30 ip netns exec "$NS_CLI" "$PY" "$APPS/$1" "${@:2}" 2>>"$APPLOG"; }

start_capture() {
  # -s 0: whole frames; -U: write each frame as it comes; --immediate-mode:
  # hand each frame over at once (with TPACKET_V3 block buffering the last
  # frames are lost when tcpdump is stopped); classic pcap (-w).
  ip netns exec "$NS_SRV" tcpdump -i "$IF_SRV" -w "$PCAP" -s 0 -U --immediate-mode -n -Z root 2>"$WORK/tcpdump.log" &
  CAP_PID=$!
  BG_PIDS+=("$CAP_PID")
  local i
  for ((i = 0; i < 500; i++)); do
    grep -q 'listening on' "$WORK/tcpdump.log" 2>/dev/null && return 0
    sleep 0.01
  done
  die "tcpdump did not start: $(cat "$WORK/tcpdump.log")"
}

stop_capture() {
  sleep 0.3 # let the last frames (final ACKs) land
  kill -INT "$CAP_PID"
  wait_bg "$CAP_PID" || true
  grep -q '^0 packets dropped by kernel' "$WORK/tcpdump.log" ||
    die "tcpdump dropped packets: $(cat "$WORK/tcpdump.log")"
}

# ---------------------------------------------------------------- scenarios

web_mail() { # 4|6
  local fam=$1 srv clients
  if [[ $fam == 4 ]]; then srv=$SRV4 clients=("${CLI4[@]}"); else srv=$SRV6 clients=("${CLI6[@]}"); fi
  setup "$fam"
  start_capture
  bg_srv webmail.py server "$srv" "$WORK/ready"
  local server=$!
  wait_file "$WORK/ready"
  run_cli webmail.py client "$srv" "${clients[@]}"
  wait_bg "$server"
  stop_capture
}
scenario_web_mail_v4() { web_mail 4; }
scenario_web_mail_v6() { web_mail 6; }

scenario_refused_v4() {
  setup 4
  start_capture
  run_cli refused.py "$SRV4" "${CLI4[0]}"
  stop_capture
}

scenario_backlog_overflow_v4() {
  setup 4
  # Without syncookies a full queue means the SYN is dropped (tcp_conn_request).
  in_srv sysctl -qw net.ipv4.tcp_syncookies=0
  start_capture
  bg_srv backlog.py server "$SRV4" "$WORK/ready"
  local server=$!
  wait_file "$WORK/ready"
  run_cli backlog.py client "$SRV4" "${CLI4[@]}"
  wait_bg "$server"
  stop_capture
}

scenario_syn_timeout_v4() {
  setup 4
  # Linux 6.18 gives up on a SYN-SENT socket after tcp_syn_retries +
  # tcp_syn_linear_timeouts (default 4) retransmissions, or once
  # (2 << tcp_syn_retries) - 1 seconds have passed; the first 5 timeouts stay
  # at 1 s, then they double. 3 shows both phases and ends at about 19 s.
  in_cli sysctl -qw net.ipv4.tcp_syn_retries=3
  # A permanent neighbour entry with a MAC nobody has: the SYNs leave on the
  # veth, the server namespace drops them (not its MAC, not its address).
  in_cli ip neigh replace "$SILENT4" lladdr "$SILENT_MAC" dev "$IF_CLI" nud permanent
  start_capture
  run_cli syn_timeout.py "$SILENT4" "${CLI4[0]}"
  stop_capture
}

scenario_simultaneous_open_v4() {
  command -v iptables >/dev/null || need_iptables
  local a=$SRV4 b=${CLI4[0]} pa=5001 pb=5002
  setup 4
  # Queue each side's incoming SYN (and SYN-ACK) to nfq_hold.py; the holders
  # let them in only once both SYNs are on the wire. --queue-bypass: once a
  # holder is gone, packets pass untouched.
  in_srv iptables -w -A INPUT -i "$IF_SRV" -p tcp -s "$b" --sport "$pb" -d "$a" --dport "$pa" \
    --tcp-flags SYN SYN -j NFQUEUE --queue-num 0 --queue-bypass
  in_cli iptables -w -A INPUT -i "$IF_CLI" -p tcp -s "$a" --sport "$pa" -d "$b" --dport "$pb" \
    --tcp-flags SYN SYN -j NFQUEUE --queue-num 0 --queue-bypass
  bg_srv nfq_hold.py hold-A 0 "$WORK/hold-srv.ready" "$WORK/held-srv" "$WORK/release-srv" 2
  local hold_srv=$!
  bg_cli nfq_hold.py hold-B 0 "$WORK/hold-cli.ready" "$WORK/held-cli" "$WORK/release-cli" 2
  local hold_cli=$!
  wait_file "$WORK/hold-srv.ready"
  wait_file "$WORK/hold-cli.ready"
  start_capture
  bg_srv simopen.py a "$a" "$pa" "$b" "$pb" "$WORK/a.ready"
  local peer_a=$!
  wait_file "$WORK/held-cli" 5 # A's SYN is on the wire, held at B
  bg_cli simopen.py b "$b" "$pb" "$a" "$pa" "$WORK/b.ready"
  local peer_b=$!
  wait_file "$WORK/held-srv" 5 # B's SYN is on the wire, held at A
  # A first: A (SYN-SENT) takes B's SYN and answers SYN-ACK, which queues at B
  # behind A's SYN; then B gets both in that order. So the capture always
  # reads SYN A, SYN B, SYN-ACK A, SYN-ACK B.
  touch "$WORK/release-srv"
  wait_file "$WORK/release-srv.done" 5
  sleep 0.05
  touch "$WORK/release-cli"
  wait_bg "$peer_a"
  wait_bg "$peer_b"
  wait_bg "$hold_srv"
  wait_bg "$hold_cli"
  stop_capture
}

scenario_listener_closed_v4() {
  setup 4
  start_capture
  bg_srv listener_closed.py server "$SRV4" "$WORK/ready" "$WORK/sent"
  local server=$!
  wait_file "$WORK/ready"
  run_cli listener_closed.py client "$SRV4" "$WORK/sent" "${CLI4[@]}"
  wait_bg "$server"
  stop_capture
}

scenario_rst_abort_reuse_v4() {
  setup 4
  start_capture
  bg_srv rst_reuse.py server "$SRV4" "$WORK/ready"
  local server=$!
  wait_file "$WORK/ready"
  run_cli rst_reuse.py client "$SRV4" "${CLI4[0]}"
  wait_bg "$server"
  stop_capture
}

need_iptables() {
  log "simultaneous-open needs iptables (NFQUEUE); installing it with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables >/dev/null ||
    die "could not install iptables: run 'apt-get update && apt-get install -y iptables'"
}

# --------------------------------------------------------------------- main

run_scenario() {
  local name=$1 t0=$SECONDS
  local fn="scenario_${name//-/_}"
  rm -rf "${WORK:?}"/*
  PCAP=$WORK/$name.pcap
  APPLOG=$WORK/$name.log
  : >"$APPLOG"
  FX_T0=$(date +%s.%N) # the apps' log clock starts here
  export FX_T0
  log "$name"
  "$fn"
  teardown
  sed 's/^/   /' "$APPLOG" >&2
  "$PY" "$APPS/check_capture.py" "$name" "$PCAP" | tee "$WORK/check.txt" ||
    die "$name: the capture does not show what it should; fixtures/$name.pcap left as it was"
  cp "$PCAP" "$OUT/.$name.pcap.tmp"
  mv -f "$OUT/.$name.pcap.tmp" "$OUT/$name.pcap"
  log "$name: wrote fixtures/$name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes, $((SECONDS - t0)) s)"
}

main() {
  [[ $(id -u) == 0 ]] || die "needs root (network namespaces, tcpdump)"
  local tool s
  for s in "$@"; do
    declare -F "scenario_${s//-/_}" >/dev/null || die "unknown scenario '$s' (known: ${ALL[*]})"
  done
  for tool in ip ethtool tcpdump tshark python3 timeout; do
    command -v "$tool" >/dev/null || die "needs $tool"
  done
  # The real interpreter, not a version-manager shim, inside the namespaces.
  PY=$(python3 -c 'import sys; print(sys.executable)')
  export PYTHONDONTWRITEBYTECODE=1 # keep tools/fixture-apps free of __pycache__
  local scenarios=("$@")
  ((${#scenarios[@]})) || scenarios=("${ALL[@]}")
  WORK=$(mktemp -d /tmp/synack-fixtures.XXXXXX)
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$OUT"
  for s in "${scenarios[@]}"; do run_scenario "$s"; done
}

main "$@"
