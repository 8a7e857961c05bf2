"""Scenario refused: connect to a port nobody listens on. The server's kernel
answers the SYN with RST/ACK and connect() fails with ECONNREFUSED.

usage: refused.py SERVER_ADDR CLIENT_ADDR
"""

import sys

from fxlib import bound_socket, log

PORT = 81  # nothing listens here in the server namespace


def main(srv: str, src: str) -> None:
    s = bound_socket(src, 40001)
    s.settimeout(5)
    try:
        s.connect((srv, PORT))
    except ConnectionRefusedError as e:
        log("client", f"connect {src}:40001 -> {srv}:{PORT}: {e.strerror} (as expected)")
    else:
        raise RuntimeError("connect to a closed port succeeded")
    finally:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
