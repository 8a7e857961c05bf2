"""Kernel TCP clients for test/live (run inside a namespace with `ip netns exec`).

usage: echo_client.py ADDR PORT COUNT sequential|concurrent [shut|rr] [MAXSIZE] [STAGGER_MS] [varied|fixed]

Each connection sends a payload of 1..MAXSIZE octets (default 3000; different for every connection, so
a mix-up between connections shows; with "fixed", MAXSIZE octets each) and checks that exactly those
octets come back before end of stream.
  shut: send (reading meanwhile), shutdown(SHUT_WR), read until end of stream (the server closes
        after the peer did).
  rr:   send, read the whole echo, then shutdown and read until end of stream (a request/reply client:
        nothing beyond its first segment is in flight before the server answered).
concurrent: COUNT threads released together by a barrier; with STAGGER_MS, thread i then waits
  i * STAGGER_MS milliseconds before connecting (a burst spread over time).
Prints one JSON line: {"ok", "count", "bytes", "errors" (the first five), "seconds"}.
"""
import json
import socket
import sys
import threading
import time

addr, port, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
style = sys.argv[5] if len(sys.argv) > 5 else 'shut'
maxsize = int(sys.argv[6]) if len(sys.argv) > 6 else 3000
stagger = float(sys.argv[7]) / 1000 if len(sys.argv) > 7 else 0.0
fixed = len(sys.argv) > 8 and sys.argv[8] == 'fixed'
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET


def payload(i):
    size = maxsize if fixed else 1 + (i * 997) % maxsize
    return (('%d-' % i) * size).encode()[:size]


def one(i, out):
    data = payload(i)
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect((addr, port))
        got = []

        def read_to_end():
            while True:
                x = s.recv(65536)
                if not x:
                    break
                got.append(x)

        if style == 'rr':
            s.sendall(data)
            n = 0
            while n < len(data):
                x = s.recv(65536)
                if not x:
                    break
                got.append(x)
                n += len(x)
            s.shutdown(socket.SHUT_WR)
            read_to_end()
        else:
            # Read while sending: a large echo would otherwise fill both windows and stop.
            reader = threading.Thread(target=read_to_end)
            reader.start()
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            reader.join()
        s.close()
        echoed = b''.join(got)
        out[i] = 'ok' if echoed == data else 'mismatch: %d octets back for %d sent' % (len(echoed), len(data))
    except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the others
        out[i] = '%s: %s' % (type(e).__name__, e)


out = [None] * count
t0 = time.time()
if mode == 'sequential':
    for i in range(count):
        one(i, out)
else:
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        if stagger > 0:
            time.sleep(i * stagger)
        one(i, out)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(json.dumps({
    'ok': sum(1 for r in out if r == 'ok'),
    'count': count,
    'bytes': sum(len(payload(i)) for i in range(count)),
    'errors': [r for r in out if r != 'ok'][:5],
    'seconds': round(time.time() - t0, 3),
}))
