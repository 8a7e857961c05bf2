"""Check one fixture capture with tshark and print what it shows.

Fails (exit 1) unless: the file is classic pcap, Ethernet, snaplen 262144 and
under 1 MB; every IPv4, TCP and ICMPv6 checksum verifies (tshark with
tcp.check_checksum and ip.check_checksum on); every address is a documentation
(198.18.0.0/15, 2001:db8::/32), link-local or multicast one; and the scenario's
own story is in the frames (see the check_* functions).

usage: check_capture.py SCENARIO FILE
"""

import ipaddress
import os
import struct
import subprocess
import sys
from dataclasses import dataclass, field

FIELDS = [
    "frame.number", "frame.time_relative", "eth.src", "eth.dst", "_ws.col.Protocol",
    "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.checksum.status",
    "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
    "tcp.len", "tcp.checksum.status", "icmpv6.checksum.status", "icmpv6.type",
]
GOOD = "1"  # PROTO_CHECKSUM_E_GOOD
SYN, RST, ACK, FIN = 0x02, 0x04, 0x10, 0x01
ALLOWED = [ipaddress.ip_network(n) for n in
           ("198.18.0.0/15", "2001:db8::/32", "fe80::/10", "ff02::/16", "::/128")]


@dataclass
class Frame:
    no: int
    t: float
    eth_src: str
    eth_dst: str
    proto: str
    src: str
    dst: str
    stream: int | None
    sport: int
    dport: int
    flags: int
    seq: int
    ack: int
    len: int


@dataclass
class Conn:
    """One TCP connection, seen from the server side veth."""
    stream: int
    client: str = ""
    server: str = ""
    frames: list[Frame] = field(default_factory=list)

    def from_client(self, f: Frame) -> bool:
        return f"{f.src}:{f.sport}" == self.client

    def count(self, flag_set: int, flag_clear: int = 0, client: bool | None = None) -> int:
        return sum(1 for f in self.frames
                   if f.flags & flag_set == flag_set and not f.flags & flag_clear
                   and (client is None or self.from_client(f) == client))

    def data(self, client: bool) -> int:
        return sum(1 for f in self.frames if f.len > 0 and self.from_client(f) == client)

    def first(self, flag: int) -> str:
        for f in self.frames:
            if f.flags & flag:
                return "client" if self.from_client(f) else "server"
        return "-"

    def span(self) -> tuple[float, float]:
        return self.frames[0].t, self.frames[-1].t


def fail(msg: str) -> None:
    print(f"FAIL: {msg}")
    sys.exit(1)


def expect(cond: bool, msg: str) -> None:
    if not cond:
        fail(msg)


def read(path: str) -> tuple[list[Frame], dict[int, Conn]]:
    with open(path, "rb") as fh:
        head = fh.read(24)
    expect(len(head) == 24, "short file")
    magic = struct.unpack("<I", head[:4])[0]
    expect(magic == 0xA1B2C3D4, f"not little-endian microsecond pcap (magic {magic:#x})")
    snaplen, linktype = struct.unpack("<II", head[16:24])
    expect(linktype == 1, f"linktype {linktype}, want 1 (Ethernet)")
    expect(snaplen == 262144, f"snaplen {snaplen}, want 262144 (-s 0)")
    size = os.path.getsize(path)
    expect(size < 1_000_000, f"{size} bytes, want well under 1 MB")

    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
         "-o", "tcp.analyze_sequence_numbers:TRUE", "-T", "fields", "-E", "separator=\t",
         *sum((["-e", f] for f in FIELDS), [])],
        check=True, capture_output=True, text=True).stdout
    frames: list[Frame] = []
    conns: dict[int, Conn] = {}
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        no = int(v["frame.number"])
        if v["ip.src"]:
            expect(v["ip.checksum.status"] == GOOD, f"frame {no}: IPv4 checksum not good")
        if v["tcp.stream"]:
            expect(v["tcp.checksum.status"] == GOOD, f"frame {no}: TCP checksum not good")
        if v["icmpv6.type"]:
            expect(v["icmpv6.checksum.status"] == GOOD, f"frame {no}: ICMPv6 checksum not good")
        src = v["ip.src"] or v["ipv6.src"]
        dst = v["ip.dst"] or v["ipv6.dst"]
        for a in (src, dst):
            if a:
                ip = ipaddress.ip_address(a)
                expect(any(ip in n for n in ALLOWED), f"frame {no}: address {a} outside the allowed ranges")
        f = Frame(no, float(v["frame.time_relative"]), v["eth.src"], v["eth.dst"], v["_ws.col.Protocol"],
                  src, dst, int(v["tcp.stream"]) if v["tcp.stream"] else None,
                  int(v["tcp.srcport"] or 0), int(v["tcp.dstport"] or 0), int(v["tcp.flags"] or "0", 16),
                  int(v["tcp.seq_raw"] or 0), int(v["tcp.ack_raw"] or 0), int(v["tcp.len"] or 0))
        frames.append(f)
        if f.stream is None:
            continue
        c = conns.setdefault(f.stream, Conn(f.stream))
        if not c.client:
            # The first frame of every connection here is the client's SYN,
            # except in simultaneous open where "client" is simply side A.
            c.client, c.server = f"{f.src}:{f.sport}", f"{f.dst}:{f.dport}"
        c.frames.append(f)
    return frames, conns


def flags_text(flags: int) -> str:
    return "".join(n for bit, n in ((SYN, "S"), (ACK, "A"), (RST, "R"), (FIN, "F"), (0x08, "P")) if flags & bit) or "."


def summary(frames: list[Frame], conns: dict[int, Conn]) -> None:
    protos: dict[str, int] = {}
    for f in frames:
        protos[f.proto] = protos.get(f.proto, 0) + 1
    print(f"  frames {len(frames)}; " + ", ".join(f"{k} {n}" for k, n in sorted(protos.items())))
    print("  stream  client -> server                       SYN c/s  data c/s  FIN first  RST by")
    for c in conns.values():
        rst = ",".join(sorted({"client" if c.from_client(f) else "server" for f in c.frames if f.flags & RST})) or "-"
        print(f"  {c.stream:6d}  {c.client + ' -> ' + c.server:38s} {c.count(SYN, 0, True)}/{c.count(SYN, 0, False)}"
              f"      {c.data(True)}/{c.data(False)}       {c.first(FIN):9s}  {rst}")


def normal(c: Conn) -> None:
    """A connection that opens, carries one line each way and closes with FINs."""
    expect(c.count(SYN, ACK, True) == 1 and c.count(SYN | ACK, 0, False) == 1,
           f"stream {c.stream}: want one SYN and one SYN-ACK")
    expect(c.data(True) == 1 and c.data(False) == 1, f"stream {c.stream}: want one data segment each way")
    expect(c.count(FIN, 0, True) == 1 and c.count(FIN, 0, False) == 1, f"stream {c.stream}: want one FIN each way")
    expect(c.count(RST) == 0, f"stream {c.stream}: unexpected RST")


def check_web_mail(frames: list[Frame], conns: dict[int, Conn], v6: bool) -> None:
    expect(len(conns) == 9, f"{len(conns)} connections, want 9")
    srv = "2001:db8::1" if v6 else "198.18.0.1"
    clients = ["2001:db8::11", "2001:db8::12", "2001:db8::13"] if v6 else ["198.18.0.11", "198.18.0.12", "198.18.0.13"]
    client_first = {40001, 40003, 40005, 40008}
    ports = {}
    for c in conns.values():
        normal(c)
        caddr, cport = c.client.rsplit(":", 1)
        saddr, sport = c.server.rsplit(":", 1)
        expect(saddr == srv and caddr in clients, f"stream {c.stream}: {c.client} -> {c.server}")
        n = int(cport) - 40000
        want_port = 25 if n in (4, 5, 6) else 80
        expect(int(sport) == want_port and caddr == clients[(n - 1) % 3], f"stream {c.stream}: unexpected endpoints")
        want = "client" if int(cport) in client_first else "server"
        expect(c.first(FIN) == want, f"stream {c.stream}: {c.first(FIN)} closed first, want {want}")
        ports[int(sport)] = ports.get(int(sport), 0) + 1
    expect(ports == {80: 6, 25: 3}, f"ports {ports}")
    # Most connections to port 80 open at one instant (SYN .. last frame).
    spans = [c.span() for c in conns.values() if c.server.endswith(":80")]
    peak = max(sum(1 for a, b in spans if a <= t <= b) for t, _ in spans)
    expect(peak >= 3, f"at most {peak} port-80 connections at once, want >= 3")
    print(f"  checked: 9 connections from {len(set(c.client.rsplit(':', 1)[0] for c in conns.values()))} "
          f"client addresses, ports {ports}, up to {peak} port-80 connections open at once, "
          f"client closed first on ports {sorted(client_first)}")


def check_refused(frames: list[Frame], conns: dict[int, Conn]) -> None:
    expect(len(conns) == 1, f"{len(conns)} connections, want 1")
    c = next(iter(conns.values()))
    tcp = [(c.from_client(f), f.flags) for f in c.frames]
    expect(tcp == [(True, SYN), (False, RST | ACK)], f"frames {tcp}, want SYN then RST/ACK")
    expect(c.frames[1].ack == c.frames[0].seq + 1 and c.frames[1].seq == 0, "RST/ACK must ack ISN+1 with seq 0")
    print(f"  checked: SYN {c.client} -> {c.server}, answered RST/ACK (seq 0, ack ISN+1)")


def check_backlog(frames: list[Frame], conns: dict[int, Conn]) -> None:
    expect(len(conns) == 6, f"{len(conns)} connections, want 6")
    retried = 0
    for c in conns.values():
        syns = c.count(SYN, ACK, True)
        retried += syns > 1
        expect(c.count(SYN | ACK, 0, False) >= 1, f"stream {c.stream}: never answered")
        expect(c.data(True) == 1 and c.data(False) == 1, f"stream {c.stream}: want one data segment each way")
        expect(c.first(FIN) == "server" and c.count(RST) == 0, f"stream {c.stream}: want a server-first FIN close")
    expect(retried >= 3, f"only {retried} connections needed SYN retransmissions")
    print(f"  checked: 6 connections, {retried} of them retransmitted their SYN (dropped while the "
          "accept queue was full), all completed, server closed first")


def check_syn_timeout(frames: list[Frame], conns: dict[int, Conn]) -> None:
    expect(len(conns) == 1, f"{len(conns)} connections, want 1")
    c = next(iter(conns.values()))
    expect(all(f.flags == SYN and c.from_client(f) for f in c.frames), "want client SYNs only")
    # tcp_syn_retries 3 + tcp_syn_linear_timeouts 4 = 7 retransmissions.
    expect(len(c.frames) == 8, f"{len(c.frames)} SYNs, want 8")
    expect(len({f.seq for f in c.frames}) == 1, "retransmissions must reuse the ISN")
    gaps = [round(b.t - a.t, 2) for a, b in zip(c.frames, c.frames[1:])]
    want = [1, 1, 1, 1, 1, 2, 4]  # linear while total_rto <= 4, then doubling
    expect(all(w - 0.1 < g < w + 0.4 for g, w in zip(gaps, want)), f"gaps {gaps}, want about {want} s")
    expect(all(f.eth_dst == "02:00:00:00:00:63" for f in c.frames), "SYNs must go to the unowned MAC")
    print(f"  checked: {len(c.frames)} SYNs {c.client} -> {c.server}, same ISN, gaps {gaps} s, no answer")


def check_simultaneous_open(frames: list[Frame], conns: dict[int, Conn]) -> None:
    expect(len(conns) == 1, f"{len(conns)} connections, want 1")
    c = next(iter(conns.values()))
    a, b = c.frames[0], c.frames[1]
    expect(a.flags == SYN and b.flags == SYN and c.from_client(a) and not c.from_client(b),
           "first two TCP frames must be SYNs in opposite directions")
    sa = [f for f in c.frames if f.flags & (SYN | ACK) == SYN | ACK]
    expect(len(sa) == 2 and c.from_client(sa[0]) != c.from_client(sa[1]), "want one SYN-ACK from each side")
    for s in sa:
        own, peer = (a, b) if c.from_client(s) else (b, a)
        expect(s.seq == own.seq and s.ack == peer.seq + 1, f"frame {s.no}: SYN-ACK must repeat its ISN and ack the peer's")
    expect(c.frames[2] is sa[0] and c.frames[3] is sa[1] and c.from_client(sa[0]),
           "the two SYN-ACKs, A's first, must follow the two SYNs")
    expect(c.data(True) == 1 and c.data(False) == 1, "want one data segment each way")
    expect(c.first(FIN) == "client" and c.count(FIN, 0, False) == 1 and c.count(RST) == 0, "want A to close first")
    print(f"  checked: SYN {c.client} -> {c.server} (frame {a.no}) and SYN back (frame {b.no}) both sent "
          f"before either was answered; SYN-ACK from each side (frames {sa[0].no}, {sa[1].no}) repeating its "
          "own ISN and acking the other's; data each way; A closed first")


def check_listener_closed(frames: list[Frame], conns: dict[int, Conn]) -> None:
    expect(len(conns) == 3, f"{len(conns)} connections, want 3")
    data = []
    for c in conns.values():
        expect(c.count(SYN, ACK, True) == 1 and c.count(SYN | ACK, 0, False) == 1, f"stream {c.stream}: handshake")
        rsts = [f for f in c.frames if f.flags & RST]
        expect(len(rsts) == 1 and not c.from_client(rsts[0]), f"stream {c.stream}: want one RST from the server")
        expect(c.count(FIN) == 0 and c.data(False) == 0, f"stream {c.stream}: server must neither send data nor FIN")
        data.append(c.data(True))
    expect(data == [1, 1, 0], f"client data segments {data}, want [1, 1, 0]")
    print("  checked: 3 connections completed and queued, two sent a line, server reset all three "
          "when the listener closed (no FIN)")


def check_rst_reuse(frames: list[Frame], conns: dict[int, Conn]) -> None:
    tcp = [f for f in frames if f.stream is not None]
    tuples = {(f.src, f.sport, f.dst, f.dport) for f in tcp if f.dport == 80}
    expect(len(tuples) == 1, f"4-tuples {tuples}, want exactly one")
    syns = [f for f in tcp if f.flags == SYN]
    expect(len(syns) == 2 and syns[0].seq != syns[1].seq, "want two client SYNs with different ISNs")
    rst = [f for f in tcp if f.flags & RST]
    expect(len(rst) == 1 and rst[0].dport == 80 and syns[0].no < rst[0].no < syns[1].no,
           "want one client RST between the two SYNs")
    first = [f for f in tcp if f.no < rst[0].no]
    second = [f for f in tcp if f.no > rst[0].no]
    expect(not any(f.flags & FIN for f in first), "first connection must end by RST only")
    fins = [f for f in second if f.flags & FIN]
    expect(len(fins) == 2 and fins[0].sport == 80, "second connection: want FIN each way, server first")
    expect(sum(1 for f in second if f.len) == 2 and sum(1 for f in first if f.len) == 2,
           "want one data segment each way in each connection")
    src, sport, dst, dport = next(iter(tuples))
    print(f"  checked: {src}:{sport} -> {dst}:{dport} aborted by client RST (frame {rst[0].no}), "
          f"same 4-tuple reused with a new ISN (frame {syns[1].no}), second connection closed normally, server first")


def main(scenario: str, path: str) -> None:
    frames, conns = read(path)
    print(f"{os.path.basename(path)}: checksums good (IPv4, TCP, ICMPv6), addresses in documentation ranges")
    summary(frames, conns)
    checks = {
        "web-mail-v4": lambda: check_web_mail(frames, conns, False),
        "web-mail-v6": lambda: check_web_mail(frames, conns, True),
        "refused-v4": lambda: check_refused(frames, conns),
        "backlog-overflow-v4": lambda: check_backlog(frames, conns),
        "syn-timeout-v4": lambda: check_syn_timeout(frames, conns),
        "simultaneous-open-v4": lambda: check_simultaneous_open(frames, conns),
        "listener-closed-v4": lambda: check_listener_closed(frames, conns),
        "rst-abort-reuse-v4": lambda: check_rst_reuse(frames, conns),
    }
    checks[scenario]()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
