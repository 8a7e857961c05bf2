"""Scenario rst-abort-reuse: the client aborts a connection with RST
(SO_LINGER {on, 0 s} then close()), then binds the same source address and port
again (SO_REUSEADDR) and connects to the same server port, so the new
connection has the same 4-tuple. The second connection completes normally: the
server replies and closes first, the client closes after EOF.

usage: rst_reuse.py server SERVER_ADDR READY_FILE
       rst_reuse.py client SERVER_ADDR CLIENT_ADDR
"""

import socket
import struct
import sys

from fxlib import bound_socket, endpoint, expect_eof, log, recv_line, show, step, touch

PORT = 80
SRC_PORT = 40001


def server(addr: str, ready: str) -> None:
    ls = bound_socket(addr, PORT, reuse=True)
    ls.listen(8)
    ls.settimeout(10)
    touch(ready)
    log("server", f"listening on {addr}:{PORT}")

    c, _ = ls.accept()
    line = recv_line(c)
    c.sendall(b"HTTP/1.1 200 OK\r\n")
    log("server", f"#1 {endpoint(c, peer=True)}: {show(line)!r} -> 'HTTP/1.1 200 OK', keeping it open")
    try:
        data = c.recv(4096)
    except ConnectionResetError as e:
        log("server", f"#1 recv: {e.strerror} (as expected)")
    else:
        raise RuntimeError(f"#1 expected a reset, got {data!r}")
    c.close()

    c, _ = ls.accept()
    line = recv_line(c)
    c.sendall(b"HTTP/1.0 200 OK\r\n")
    log("server", f"#2 {endpoint(c, peer=True)}: {show(line)!r} -> 'HTTP/1.0 200 OK', closing first")
    c.close()
    ls.close()


def client(srv: str, src: str) -> None:
    s = bound_socket(src, SRC_PORT, reuse=True)
    s.settimeout(5)
    s.connect((srv, PORT))
    log("client", f"#1 connected {endpoint(s)} -> {endpoint(s, peer=True)}")
    step()
    s.sendall(b"GET /first HTTP/1.1\r\n")
    log("client", f"#1 'GET /first HTTP/1.1' -> {show(recv_line(s))!r}")
    step()
    # struct linger {int l_onoff; int l_linger;}: on with a zero timeout makes
    # close() discard the connection with RST instead of FIN (tcp_close).
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    log("client", "#1 aborted: SO_LINGER 0 then close() (RST)")
    step(3)

    s = bound_socket(src, SRC_PORT, reuse=True)
    s.settimeout(5)
    s.connect((srv, PORT))
    log("client", f"#2 connected {endpoint(s)} -> {endpoint(s, peer=True)} (same 4-tuple)")
    step()
    s.sendall(b"GET /second HTTP/1.0\r\n")
    log("client", f"#2 'GET /second HTTP/1.0' -> {show(recv_line(s))!r}")
    expect_eof(s)
    s.close()
    log("client", "#2 server closed first; closed after EOF")


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3])
    else:
        client(sys.argv[2], sys.argv[3])
