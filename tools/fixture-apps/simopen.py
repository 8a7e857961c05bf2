"""Scenario simultaneous-open: two endpoints bind fixed ports and connect() to
each other; neither listens. The script holds each side's incoming SYN in an
NFQUEUE (nfq_hold.py) until both SYNs have been sent, so each TCP is in
SYN-SENT when the other's SYN reaches it (RFC 9293 section 3.5, figure 8):
both answer SYN-ACK and both reach ESTABLISHED.

Then A sends "hello from A", B answers "hello from B", A closes first and B
closes after EOF.

usage: simopen.py a|b LOCAL_ADDR LOCAL_PORT REMOTE_ADDR REMOTE_PORT READY_FILE
"""

import errno
import select
import socket
import sys

from fxlib import bound_socket, endpoint, expect_eof, log, recv_line, show, step, touch


def main(role: str, laddr: str, lport: str, raddr: str, rport: str, ready: str) -> None:
    who = role.upper()
    s = bound_socket(laddr, int(lport), reuse=True)
    s.setblocking(False)
    rc = s.connect_ex((raddr, int(rport)))
    if rc != errno.EINPROGRESS:
        raise OSError(rc, "connect did not start")
    touch(ready)
    log(who, f"connect {laddr}:{lport} -> {raddr}:{rport} in progress (SYN sent)")
    if not select.select([], [s], [], 10)[1]:
        raise TimeoutError("connect did not complete")
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        raise OSError(err, "connect failed")
    log(who, f"connected {endpoint(s)} <-> {endpoint(s, peer=True)}")
    s.setblocking(True)
    step(3)
    if role == "a":
        s.sendall(b"hello from A\r\n")
        log(who, f"sent 'hello from A', got {show(recv_line(s))!r}")
        step()
        s.close()
        log(who, "closed first")
    else:
        line = recv_line(s)
        s.sendall(b"hello from B\r\n")
        log(who, f"got {show(line)!r}, sent 'hello from B'")
        expect_eof(s)
        s.close()
        log(who, "closed after EOF")


if __name__ == "__main__":
    main(*sys.argv[1:7])
