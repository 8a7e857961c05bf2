"""Scenario web-mail (IPv4 and IPv6): one server with a "web" listener on :80
and a "mail" listener on :25; three client addresses, nine connections.

One request line each way. Who closes first is decided by the request, the way
the protocols themselves decide it:
  web   "GET <path> HTTP/1.0"  -> "HTTP/1.0 200 OK", then the SERVER closes
  web   "GET <path> HTTP/1.1"  -> "HTTP/1.1 200 OK", stays open, the CLIENT closes
  mail  "QUIT"                 -> "221 ...",         then the SERVER closes
  mail  "HELO <name>"          -> "250 ...",         stays open, the CLIENT closes

usage: webmail.py server SERVER_ADDR READY_FILE
       webmail.py client SERVER_ADDR CLIENT1 CLIENT2 CLIENT3
"""

import selectors
import socket
import sys
import time

from fxlib import bound_socket, endpoint, expect_eof, log, recv_line, show, step, touch

WEB, MAIL = 80, 25
CONNECTIONS = 9


def reply_for(port: int, line: bytes) -> tuple[bytes, bool]:
    """The reply line and whether the server closes right after sending it."""
    text = show(line)
    if port == WEB:
        version = text.rsplit(" ", 1)[-1]
        return f"{version} 200 OK\r\n".encode(), version == "HTTP/1.0"
    if text == "QUIT":
        return b"221 mail.example closing\r\n", True
    return f"250 mail.example greets {text.split(' ', 1)[-1]}\r\n".encode(), False


def server(addr: str, ready: str) -> None:
    sel = selectors.DefaultSelector()
    for port in (WEB, MAIL):
        ls = bound_socket(addr, port, reuse=True)
        ls.listen(16)
        ls.setblocking(False)
        sel.register(ls, selectors.EVENT_READ, ("listener", port))
    touch(ready)
    log("server", f"listening on {addr} ports {WEB} and {MAIL}")
    done = 0
    deadline = time.monotonic() + 20
    while done < CONNECTIONS:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {done} connections finished")
        for key, _ in sel.select(timeout=0.5):
            role, port = key.data
            if role == "listener":
                conn, _ = key.fileobj.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, ("conn", port))
                log("server", f"accepted {endpoint(conn, peer=True)} on :{port}")
                continue
            conn = key.fileobj
            peer = endpoint(conn, peer=True)
            data = conn.recv(4096)
            if not data:
                log("server", f"EOF from {peer} on :{port}: client closed first, closing")
                sel.unregister(conn)
                conn.close()
                done += 1
                continue
            reply, close_now = reply_for(port, data)
            conn.sendall(reply)
            log("server", f"{peer} on :{port}: {show(data)!r} -> {show(reply)!r}")
            if close_now:
                log("server", f"closing {peer} on :{port} first")
                sel.unregister(conn)
                conn.close()
                done += 1
    log("server", "all connections finished")


def client(srv: str, c1: str, c2: str, c3: str) -> None:
    conns: dict[int, socket.socket] = {}
    plan = {1: (c1, WEB), 2: (c2, WEB), 3: (c3, WEB),
            4: (c1, MAIL), 5: (c2, MAIL), 6: (c3, MAIL),
            7: (c1, WEB), 8: (c2, WEB), 9: (c3, WEB)}

    def open_(n: int) -> None:
        src, port = plan[n]
        # Fixed source ports (40000 + connection number) keep the 4-tuples
        # identical from one regeneration to the next.
        s = bound_socket(src, 40000 + n)
        s.settimeout(5)
        s.connect((srv, port))
        conns[n] = s
        log("client", f"#{n} connected {endpoint(s)} -> {endpoint(s, peer=True)}")

    def ask(n: int, line: str, server_closes: bool) -> None:
        s = conns[n]
        s.sendall(line.encode() + b"\r\n")
        reply = recv_line(s)
        log("client", f"#{n} {line!r} -> {show(reply)!r}")
        if server_closes:
            expect_eof(s)
            s.close()
            del conns[n]
            log("client", f"#{n} server closed first; closed after EOF")

    def close(n: int) -> None:
        conns.pop(n).close()
        log("client", f"#{n} client closes first")

    actions = [
        # Round 1: three web connections open at once, so three accepted
        # sockets share local port 80.
        lambda: open_(1), lambda: open_(2), lambda: open_(3),
        lambda: ask(1, "GET /index.html HTTP/1.1", False),
        lambda: ask(2, "GET /about.html HTTP/1.0", True),
        lambda: ask(3, "GET /news.html HTTP/1.1", False),
        lambda: close(1),
        # Round 2: the mail connections and the second web connection of each
        # client, all open together with #3 (four sockets on port 80).
        lambda: open_(4), lambda: open_(5), lambda: open_(6),
        lambda: open_(7), lambda: open_(8), lambda: open_(9),
        lambda: ask(4, "QUIT", True),
        lambda: ask(7, "GET /logo.png HTTP/1.0", True),
        lambda: ask(5, "HELO client12.example", False),
        lambda: ask(8, "GET /style.css HTTP/1.1", False),
        lambda: close(3),
        lambda: ask(6, "QUIT", True),
        lambda: ask(9, "GET /feed.xml HTTP/1.0", True),
        lambda: close(5),
        lambda: close(8),
    ]
    for act in actions:
        act()
        step()
    assert not conns, conns


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3])
    else:
        client(*sys.argv[2:6])
