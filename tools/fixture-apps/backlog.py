"""Scenario backlog-overflow: a listener with backlog 1 (and
net.ipv4.tcp_syncookies=0, set by the script) that does not accept() for
ACCEPT_AFTER seconds while six clients connect. The kernel completes as many
handshakes as the accept queue holds and drops the other SYNs; the clients
retransmit them (1 s linear timeouts) until the server starts accepting.

Then, one connection at a time in accept order, the server sends "hello N",
the client answers "bye", the server closes first, the client closes after EOF.

usage: backlog.py server SERVER_ADDR READY_FILE
       backlog.py client SERVER_ADDR CLIENT1 CLIENT2 CLIENT3
"""

import select
import socket
import sys
import time

from fxlib import bound_socket, endpoint, expect_eof, log, recv_line, show, step, touch

PORT = 80
CLIENTS = 6
ACCEPT_AFTER = 3.5


def server(addr: str, ready: str) -> None:
    ls = bound_socket(addr, PORT, reuse=True)
    ls.listen(1)
    touch(ready)
    log("server", f"listening on {addr}:{PORT} with backlog 1; not accepting for {ACCEPT_AFTER} s")
    time.sleep(ACCEPT_AFTER)
    ls.settimeout(15)
    conns = []
    for i in range(1, CLIENTS + 1):
        c, _ = ls.accept()
        conns.append(c)
        log("server", f"accepted #{i} from {endpoint(c, peer=True)}")
    ls.close()
    # One connection at a time, in accept order, a pause between them, so the
    # frames of different connections never interleave in the capture.
    for i, c in enumerate(conns, 1):
        peer = endpoint(c, peer=True)
        c.sendall(f"hello {i}\r\n".encode())
        line = recv_line(c)
        c.close()
        log("server", f"#{i} {peer}: sent 'hello {i}', got {show(line)!r}, closed first")
        step()


def client(srv: str, *srcs: str) -> None:
    socks = []
    for n in range(1, CLIENTS + 1):
        src = srcs[(n - 1) % len(srcs)]
        s = bound_socket(src, 40000 + n)
        s.setblocking(False)
        rc = s.connect_ex((srv, PORT))
        log("client", f"#{n} connect {src}:{40000 + n} -> {srv}:{PORT} started (rc {rc})")
        socks.append(s)
        step(0.5)
    pending = set(range(CLIENTS))
    deadline = time.monotonic() + 15
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"connections {sorted(pending)} never completed")
        _, writable, _ = select.select([], [socks[i] for i in pending], [], left)
        for s in writable:
            i = socks.index(s)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, f"#{i + 1} connect failed")
            log("client", f"#{i + 1} connected")
            pending.discard(i)
    # The server greets one connection at a time in its accept order; answer
    # whichever socket has its greeting.
    todo = list(socks)
    while todo:
        ready, _, _ = select.select(todo, [], [], 10)
        if not ready:
            raise TimeoutError("no greeting")
        s = ready[0]
        n = socks.index(s) + 1
        s.setblocking(True)
        line = recv_line(s)
        s.sendall(b"bye\r\n")
        expect_eof(s)
        s.close()
        todo.remove(s)
        log("client", f"#{n} got {show(line)!r}, sent 'bye'; server closed first; closed after EOF")


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3])
    else:
        client(sys.argv[2], *sys.argv[3:])
