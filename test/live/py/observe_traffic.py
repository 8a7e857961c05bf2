"""Kernel TCP traffic for test/live/observe.test.ts (run inside a namespace with `ip netns exec`).

usage: observe_traffic.py servers ADDR PORT...
         echo servers on ADDR:PORT (each connection: send back what arrives until end of stream, then
         close; a reset is fine); prints "ready" once all listen, then serves until killed.
       observe_traffic.py clients ADDR ECHO1 ECHO2 REFUSED PAUSE
         in this order: three echo connections to ECHO1 and two to ECHO2 (send, shutdown, read the echo
         to end of stream, close), one to REFUSED (nothing listens: the kernel answers RST), one to
         ECHO1 aborted after its echo (SO_LINGER 0, close: the client sends RST); then "paused" and
         PAUSE seconds of silence; then one to ECHO2 that stays open (its echo read). Prints one JSON
         line, the connections as [{"kind", "port", "local": "ADDR:PORT"}], then "holding", and keeps
         the open one until killed.
"""
import json
import socket
import struct
import sys
import threading
import time


def serve(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)

    def one(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=one, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def local(s):
    a, p = s.getsockname()[:2]
    return '%s:%d' % (a, p)


def echo(addr, port, i):
    s = socket.create_connection((addr, port), timeout=10)
    me = local(s)
    data = ('echo %d ' % i).encode() * (i + 1)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    if got != data:
        raise SystemExit('echo %d: got %r' % (i, got))
    return me


def read_echo(s, n):
    got = b''
    while len(got) < n:
        d = s.recv(65536)
        if not d:
            raise SystemExit('end of stream after %d of %d octets' % (len(got), n))
        got += d


def main():
    mode, addr = sys.argv[1], sys.argv[2]
    if mode == 'servers':
        ports = [int(p) for p in sys.argv[3:]]
        for p in ports:
            serve(addr, p)
        print('ready', flush=True)
        while True:
            time.sleep(3600)
    e1, e2, refused = [int(p) for p in sys.argv[3:6]]
    pause = float(sys.argv[6])
    conns = []
    for i, port in enumerate([e1, e1, e1, e2, e2]):
        conns.append({'kind': 'echo', 'port': port, 'local': echo(addr, port, i)})
        time.sleep(0.02)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((addr, refused))
        raise SystemExit('port %d accepted a connection' % refused)
    except ConnectionRefusedError:
        pass
    conns.append({'kind': 'refused', 'port': refused, 'local': local(s)})
    s.close()
    time.sleep(0.02)
    s = socket.create_connection((addr, e1), timeout=10)
    s.sendall(b'then a reset')
    read_echo(s, 12)
    conns.append({'kind': 'reset', 'port': e1, 'local': local(s)})
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
    print('paused', flush=True)
    time.sleep(pause)
    held = socket.create_connection((addr, e2), timeout=10)
    held.sendall(b'still open')
    read_echo(held, 10)
    conns.append({'kind': 'open', 'port': e2, 'local': local(held)})
    print(json.dumps(conns), flush=True)
    print('holding', flush=True)
    while True:
        time.sleep(3600)


main()
