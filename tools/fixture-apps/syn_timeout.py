"""Scenario syn-timeout: connect to an address that never answers. The script
gives the client a static neighbour entry for it with a MAC nobody owns, so the
SYNs go out on the veth and the server namespace drops them unseen (wrong
destination MAC). With net.ipv4.tcp_syn_retries=3 in the client namespace,
Linux 6.18 sends the SYN and 3 + tcp_syn_linear_timeouts (4) = 7
retransmissions (1 s apart five times, then 2 s, 4 s) and connect() fails
ETIMEDOUT about 19 s after it started.

usage: syn_timeout.py SILENT_ADDR CLIENT_ADDR
"""

import sys
import time

from fxlib import bound_socket, log

PORT = 80


def main(dst: str, src: str) -> None:
    s = bound_socket(src, 40001)
    s.settimeout(None)  # blocking: the kernel's own SYN timeout ends connect()
    t = time.monotonic()
    try:
        s.connect((dst, PORT))
    except TimeoutError as e:
        log("client", f"connect {src}:40001 -> {dst}:{PORT}: {e.strerror} after "
                      f"{time.monotonic() - t:.2f} s (as expected)")
    else:
        raise RuntimeError("connect to a silent address succeeded")
    finally:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
