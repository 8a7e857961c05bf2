/**
 * getsockopt(SO_SNDBUF / SO_RCVBUF) as each kernel reports it. Linux (sock_setsockopt) stores twice
 * the value set and reports that; before any setsockopt it reports sk_sndbuf = tcp_wmem[1] (16384) and
 * sk_rcvbuf = tcp_rmem[1] (131072). FreeBSD reports sb_hiwat as set, 32768 / 65536 by default
 * (net.inet.tcp.sendspace / recvspace; pd: getsockopt SO_RCVBUF [65536] in the FreeBSD scripts).
 */
import { expect, test } from 'vitest';
import { Network } from '../../src/testing/network.js';
import { freebsd, linux } from '../../src/tcp/personality.js';

for (const [p, snd, rcv] of [
  [linux, 16384, 131072],
  [freebsd, 32768, 65536],
] as const) {
  test(`${p.name}: defaults, then the values set`, () => {
    const h = new Network().attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], personality: p });
    const s = h.sockets;
    const fd = s.socket('inet') as number;
    expect(s.getsockopt(fd, 'SO_SNDBUF')).toBe(snd);
    expect(s.getsockopt(fd, 'SO_RCVBUF')).toBe(rcv);
    expect(s.setsockopt(fd, 'SO_SNDBUF', 50000)).toBe(0);
    expect(s.setsockopt(fd, 'SO_RCVBUF', 40000)).toBe(0);
    const twice = p.name === 'linux' ? 2 : 1;
    expect(s.getsockopt(fd, 'SO_SNDBUF')).toBe(50000 * twice);
    expect(s.getsockopt(fd, 'SO_RCVBUF')).toBe(p.name === 'linux' ? 80000 : 40000);
  });
}
