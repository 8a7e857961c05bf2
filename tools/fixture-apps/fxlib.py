"""Shared helpers for the fixture applications run by tools/make-fixtures.sh.

Every application is single-threaded and does its steps in a fixed order with
a fixed pause between them, so that the kernel's frames land in the capture in
a stable order from one run to the next. The script and the applications meet
through small marker files (ready, held, release) in the script's work folder.
"""

import os
import socket
import sys
import time

# Seconds in the log are counted from FX_T0 (set by the script for each
# scenario), so the lines of the server and client logs interleave correctly.
T0 = float(os.environ.get("FX_T0", time.time()))

# Pause between application steps: long enough for the kernel to finish the
# exchange a step starts (veth is instantaneous, delayed ACKs are 40 ms at
# most here), short enough to keep every scenario within a few seconds.
STEP = 0.1


def log(who: str, msg: str) -> None:
    # One write per line: server and client append to the same log file.
    sys.stderr.write(f"[{time.time() - T0:7.3f}] {who}: {msg}\n")
    sys.stderr.flush()


def step(n: float = 1.0) -> None:
    time.sleep(STEP * n)


def touch(path: str) -> None:
    with open(path, "w", encoding="ascii"):
        pass


def wait_for(path: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.01)


def family_of(addr: str) -> int:
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def bound_socket(addr: str, port: int = 0, reuse: bool = False) -> socket.socket:
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    return s


def endpoint(s: socket.socket, peer: bool = False) -> str:
    a = s.getpeername() if peer else s.getsockname()
    host, port = a[0], a[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def recv_line(s: socket.socket, timeout: float = 5.0) -> bytes:
    """Read up to and including the first LF. Each peer sends one line at a
    time and waits, so a line never shares a read with the next one."""
    s.settimeout(timeout)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError(f"EOF after {buf!r}")
        buf += chunk
    return buf


def expect_eof(s: socket.socket, timeout: float = 5.0) -> None:
    s.settimeout(timeout)
    data = s.recv(4096)
    if data:
        raise RuntimeError(f"expected EOF, got {data!r}")


def show(b: bytes) -> str:
    return b.decode("ascii").rstrip("\r\n")
