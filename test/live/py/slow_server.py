"""A Linux echo server with a small backlog and a slow application, for comparison with synack serve.

usage: slow_server.py ADDR PORT BACKLOG DELAY_SECONDS

listen(BACKLOG); before each accept() it sleeps DELAY_SECONDS; every accepted connection is echoed in
its own thread until end of stream, then closed. Prints "ready" once listening.
"""
import socket
import sys
import threading
import time

addr, port, backlog, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
listener = socket.socket(fam, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((addr, port))
listener.listen(backlog)
print('ready', flush=True)


def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()


while True:
    time.sleep(delay)
    conn, _ = listener.accept()
    threading.Thread(target=echo, args=(conn,), daemon=True).start()
