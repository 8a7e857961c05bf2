"""Hold incoming packets in an NFQUEUE until a release file appears, then let
them through in arrival order (and any later ones at once).

Used by the simultaneous-open scenario: an iptables rule in each namespace
queues the peer's SYN (and SYN-ACK) here, so BOTH SYNs are on the wire before
either TCP sees the other's. Speaks nfnetlink_queue directly over a netlink
socket (include/uapi/linux/netfilter/nfnetlink_queue.h); no library needed.

usage: nfq_hold.py NAME QUEUE_NUM READY_FILE HELD_FILE RELEASE_FILE EXPECTED
  HELD_FILE is created when the first packet is held, RELEASE_FILE.done once
  the held packets are let through; the program exits after
  EXPECTED packets were let through (or 3 s after the release, whichever is
  first; the rule uses --queue-bypass so nothing is lost once it is gone).
"""

import os
import select
import socket
import struct
import sys
import time

from fxlib import log, touch

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_PAYLOAD = 1, 2, 10
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLA_TYPE_MASK = 0x3FFF


def nla(kind: int, payload: bytes) -> bytes:
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n % 4)


class Queue:
    def __init__(self, num: int) -> None:
        self.num = num
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        # struct nfqnl_msg_config_cmd {u8 command; u8 pad; be16 pf}
        self.request(NFQNL_MSG_CONFIG, nla(NFQA_CFG_CMD, struct.pack(">BxH", NFQNL_CFG_CMD_BIND, 0)))
        # struct nfqnl_msg_config_params {be32 copy_range; u8 copy_mode} (packed)
        self.request(NFQNL_MSG_CONFIG, nla(NFQA_CFG_PARAMS, struct.pack(">IB", 128, NFQNL_COPY_PACKET)))

    def send(self, kind: int, attrs: bytes, flags: int) -> None:
        self.seq += 1
        # struct nfgenmsg {u8 family; u8 version; be16 res_id}
        body = struct.pack(">BBH", socket.AF_UNSPEC, 0, self.num) + attrs
        hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, flags, self.seq, 0)
        self.sock.send(hdr + body)

    def request(self, kind: int, attrs: bytes) -> None:
        self.send(kind, attrs, NLM_F_REQUEST | NLM_F_ACK)
        reply = self.sock.recv(65536)
        _, mtype, _, _, _ = struct.unpack_from("=IHHII", reply)
        err = struct.unpack_from("=i", reply, 16)[0] if mtype == NLMSG_ERROR else 0
        if err:
            raise OSError(-err, f"nfqueue config failed: {os.strerror(-err)}")

    def verdict(self, packet_id: int) -> None:
        self.send(NFQNL_MSG_VERDICT, nla(NFQA_VERDICT_HDR, struct.pack(">II", NF_ACCEPT, packet_id)), NLM_F_REQUEST)

    def packets(self) -> list[tuple[int, bytes]]:
        data = self.sock.recv(65536)
        out = []
        off = 0
        while off + 16 <= len(data):
            mlen, mtype, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if mtype == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                pid, payload = None, b""
                a = off + 20
                while a + 4 <= off + mlen:
                    alen, akind = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    value = data[a + 4:a + alen]
                    if akind & NLA_TYPE_MASK == NFQA_PACKET_HDR:
                        pid = struct.unpack_from(">I", value)[0]
                    elif akind & NLA_TYPE_MASK == NFQA_PAYLOAD:
                        payload = value
                    a += (alen + 3) & ~3
                if pid is not None:
                    out.append((pid, payload))
            off += (mlen + 3) & ~3
        return out


def describe(ip: bytes) -> str:
    if len(ip) < 40 or ip[0] >> 4 != 4:
        return f"{len(ip)} bytes"
    ihl = (ip[0] & 15) * 4
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    sport, dport = struct.unpack_from(">HH", ip, ihl)
    flags = ip[ihl + 13]
    names = "".join(n for bit, n in ((2, "S"), (16, "A"), (4, "R"), (1, "F")) if flags & bit)
    return f"{src}:{sport} -> {dst}:{dport} [{names}]"


def main(name: str, num: str, ready: str, held_file: str, release: str, expected: str) -> None:
    q = Queue(int(num))
    touch(ready)
    held: list[int] = []
    passed = 0
    released_at = None
    deadline = time.monotonic() + 15
    while passed < int(expected) and time.monotonic() < deadline:
        if released_at is None and os.path.exists(release):
            released_at = time.monotonic()
            deadline = min(deadline, released_at + 3)
            for pid in held:
                q.verdict(pid)
            log(name, f"released {len(held)} held packet(s) in arrival order")
            passed += len(held)
            held.clear()
            touch(release + ".done")
        if select.select([q.sock], [], [], 0.005)[0]:
            for pid, payload in q.packets():
                if released_at is None:
                    held.append(pid)
                    log(name, f"holding {describe(payload)}")
                    if len(held) == 1:
                        touch(held_file)
                else:
                    q.verdict(pid)
                    passed += 1
                    log(name, f"passing {describe(payload)}")
    for pid in held:  # never leave a packet stuck in the queue
        q.verdict(pid)
    log(name, f"done: {passed} packet(s) let through")


if __name__ == "__main__":
    main(*sys.argv[1:7])
