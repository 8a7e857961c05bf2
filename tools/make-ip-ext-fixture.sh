#!/usr/bin/env bash
# Re-creates fixtures/ip-ext-linux.pcap (run from the project root) (see test/wire/ip-corpus.ts for what each frame is). Needs root, iproute2,
# tcpdump and python3; uses only 198.18.0.0/15 and 2001:db8::/32 inside two throwaway network namespaces,
# removed on exit. Timings, IP identifications and the number of MLD reports before the first UDP frame
# (so the frame numbers) differ from run to run; the committed file is one such run.
set -euo pipefail
out=${1:-fixtures/ip-ext-linux.pcap}
A=sa-ipl-a
B=sa-ipl-b
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add sa-ipl-va netns "$A" type veth peer name sa-ipl-vb netns "$B"
ip -n "$A" link set sa-ipl-va address 02:00:00:00:00:01 mtu 1280
ip -n "$B" link set sa-ipl-vb address 02:00:00:00:00:02 mtu 1280
ip netns exec "$A" sysctl -qw net.ipv6.conf.sa-ipl-va.keep_addr_on_down=1 net.ipv6.conf.sa-ipl-va.accept_dad=0 net.ipv6.conf.sa-ipl-va.router_solicitations=0
ip netns exec "$B" sysctl -qw net.ipv6.conf.sa-ipl-vb.accept_dad=0 net.ipv6.conf.sa-ipl-vb.router_solicitations=0
ip -n "$A" addr add 198.18.0.1/24 dev sa-ipl-va
ip -n "$B" addr add 198.18.0.2/24 dev sa-ipl-vb
ip -n "$A" addr add 2001:db8::1/64 dev sa-ipl-va nodad
ip -n "$B" addr add 2001:db8::2/64 dev sa-ipl-vb nodad
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$B" link set sa-ipl-vb up

ip netns exec "$B" tcpdump --immediate-mode -U -s 0 -i sa-ipl-vb -w "$out" &
tp=$!
sleep 1.5
ip -n "$A" link set sa-ipl-va up
sleep 1
ip netns exec "$A" python3 - <<'EOF'
import socket, time
A4, B4 = '198.18.0.1', '198.18.0.2'
A6, B6 = '2001:db8::1', '2001:db8::2'
def pat(n, k): return bytes((i * k + 1) & 0xff for i in range(n))
def u4(opts, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((A4, 40000))
    if opts: s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, opts)
    s.sendto(payload, (B4, 9)); s.close(); time.sleep(0.05)
def u6(setup, payload):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((A6, 40000))
    for name, val in setup: s.setsockopt(socket.IPPROTO_IPV6, name, val)
    s.sendto(payload, (B6, 9)); s.close(); time.sleep(0.05)
u4(bytes([1, 7, 7, 4, 0, 0, 0, 0]), b'synack ipv4 nop+rr')
u4(bytes([7, 7, 4, 0, 0, 0, 0]), b'synack ipv4 rr+eol')
u4(bytes([68, 12, 5, 0]) + bytes(8), b'synack ipv4 ts')
u4(bytes([7, 7, 4, 0, 0, 0, 0]), pat(1400, 7))
u4(b'', pat(1400, 5))
u6([], pat(1400, 11))
HBH = bytes([0, 0, 0x1e, 2, 0xab, 0xcd, 1, 0])
DST = bytes([0, 1, 0, 0x1e, 3, 1, 2, 3, 1, 6, 0, 0, 0, 0, 0, 0])
SRH = bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, B6)
u6([(socket.IPV6_HOPOPTS, HBH)], b'synack ipv6 hbh')
u6([(socket.IPV6_DSTOPTS, DST)], b'synack ipv6 dstopts')
u6([(socket.IPV6_HOPOPTS, HBH), (socket.IPV6_DSTOPTS, DST)], pat(1400, 13))
u6([(socket.IPV6_RTHDR, SRH)], b'synack ipv6 srh')
u6([(socket.IPV6_RTHDR, SRH)], pat(1400, 3))
EOF
sleep 2
kill "$tp"
wait "$tp" || true
