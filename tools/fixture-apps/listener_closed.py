"""Scenario listener-closed: three connections complete and wait in the accept
queue; two of them send a request line; then the server closes the listening
socket without ever calling accept(). The kernel (inet_csk_listen_stop) resets
every queued child: the clients see RST and recv() fails ECONNRESET.

usage: listener_closed.py server SERVER_ADDR READY_FILE SENT_FILE
       listener_closed.py client SERVER_ADDR SENT_FILE CLIENT1 CLIENT2 CLIENT3
"""

import sys

from fxlib import bound_socket, log, step, touch, wait_for

PORT = 80


def server(addr: str, ready: str, sent: str) -> None:
    ls = bound_socket(addr, PORT, reuse=True)
    ls.listen(8)
    touch(ready)
    log("server", f"listening on {addr}:{PORT}; never accepting")
    wait_for(sent)
    step()
    ls.close()
    log("server", "closed the listener with 3 connections in its accept queue")


def client(srv: str, sent: str, *srcs: str) -> None:
    socks = []
    for n, src in enumerate(srcs, 1):
        s = bound_socket(src, 40000 + n)
        s.settimeout(5)
        s.connect((srv, PORT))
        socks.append(s)
        log("client", f"#{n} connected {src}:{40000 + n} -> {srv}:{PORT}")
        step()
    for n in (1, 2):
        socks[n - 1].sendall(b"GET / HTTP/1.0\r\n")
        log("client", f"#{n} sent 'GET / HTTP/1.0' (never read by the server)")
        step()
    touch(sent)
    for n, s in enumerate(socks, 1):
        try:
            data = s.recv(4096)
        except ConnectionResetError as e:
            log("client", f"#{n} recv: {e.strerror} (as expected)")
        else:
            raise RuntimeError(f"#{n} expected a reset, got {data!r}")
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(*sys.argv[2:5])
    else:
        client(sys.argv[2], sys.argv[3], *sys.argv[4:])
