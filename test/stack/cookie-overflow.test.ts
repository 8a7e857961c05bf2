/**
 * A SYN-cookie ACK that arrives while the accept queue is full (issue 5: a burst of real kernel clients
 * against `synack serve --backlog 2` with a slow application). Linux drops it without a word
 * (cookie_v4_check → tcp_v4_syn_recv_sock: sk_acceptq_is_full → LISTENOVERFLOWS, discard), so the
 * client retransmits its first segment and the cookie validates it once the application has accepted.
 * synack used to build the connection first and let it ACK the data before throwing it away: the client
 * then went on past the first segment, which no cookie can validate, and was reset.
 */
import { expect, test } from 'vitest';
import { bytesOf } from '../../src/wire/bytes.js';
import { parseFrame } from '../../src/wire/frame.js';
import { LinkType } from '../../src/wire/linktype.js';
import type { TcpRepr } from '../../src/wire/tcp.js';
import { installMatchers, Network } from '../../src/testing/index.js';
import { opt, tcpFrame } from '../../src/testing/frames.js';
installMatchers(expect);

test('a valid cookie ACK with data is dropped unanswered while the accept queue is full, and taken when its retransmission finds room', async () => {
  const net = new Network();
  const h = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], trace: true, neighbors: { '198.18.0.2': '02:00:00:00:00:02' } });
  const lfd = h.sockets.socket('inet') as number;
  h.sockets.bind(lfd, '0.0.0.0', 80);
  // backlog 1: the SYN queue counts as full above 1 child, the accept queue above 1 connection.
  h.sockets.listen(lfd, 1);
  const from = (port: number) => ({ from: `198.18.0.2:${port}`, to: '198.18.0.1:80' });
  const lastSent = (): TcpRepr => {
    const f = net.frames.filter((x) => x.from === h).at(-1)!.frame;
    const r = parseFrame(LinkType.ETHERNET, bytesOf(f), 0, f.length);
    if (r.net.kind !== 'ipv4' || r.net.payload.kind !== 'tcp') throw new Error('not a TCP frame');
    return r.net.payload.tcp;
  };
  const input = (f: Uint8Array): number => h.input(f, net.clock.advance(1000));

  const isn: Record<number, number> = {};
  for (const port of [40001, 40002, 40003]) {
    input(tcpFrame({ ...from(port), flags: 'S', seq: port * 1000, options: [opt.mss(1460)] }));
    isn[port] = lastSent().seq;
  }
  expect(h).toHaveDemuxed(3, { step: 'listener-any', action: 'syn-cookie' });
  for (const port of [40001, 40002]) input(tcpFrame({ ...from(port), flags: '.', seq: port * 1000 + 1, ack: isn[port]! + 1 }));

  // The accept queue holds two (backlog + 1): full. The cookie ACK of 40003 carries 100 octets.
  const cookieAck = tcpFrame({ ...from(40003), flags: 'P.', seq: 40003 * 1000 + 1, ack: isn[40003]! + 1, payload: 'c'.repeat(100) });
  const out = h.counters.framesOut;
  const n = input(cookieAck);
  expect(h).toHaveDemuxed(n, { step: 'listener-any', action: 'accept-queue-full' });
  expect(h.counters.framesOut).toBe(out);
  expect(h.trace.some((e) => e.type === 'drop' && e.frame === n && e.reason === 'accept-queue-full')).toBe(true);

  // The application accepts one; the client's retransmission of the same segment now makes the connection.
  expect((await h.accept(lfd)).peer.port).toBe(40001);
  const m = input(cookieAck);
  expect(h).toHaveDemuxed(m, { step: 'listener-any', action: 'cookie-child' });
  expect(h).toHaveSent({ flags: '.', ack: 40003 * 1000 + 101 });
  expect((await h.accept(lfd)).peer.port).toBe(40002);
  const c = await h.accept(lfd);
  expect(c.peer.port).toBe(40003);
  expect(new TextDecoder().decode(h.sockets.recv(c.fd) as Uint8Array)).toBe('c'.repeat(100));
});

test('drops are counted with tracing off too (a SYN refused for a full accept queue)', () => {
  const net = new Network();
  const h = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], neighbors: { '198.18.0.2': '02:00:00:00:00:02' } });
  const lfd = h.sockets.socket('inet') as number;
  h.sockets.bind(lfd, '0.0.0.0', 80);
  h.sockets.listen(lfd, 0);
  const from = (port: number) => ({ from: `198.18.0.2:${port}`, to: '198.18.0.1:80' });
  h.input(tcpFrame({ ...from(40001), flags: 'S', seq: 1000, options: [opt.mss(1460)] }), net.clock.advance(1000));
  const f = net.frames.at(-1)!.frame;
  const r = parseFrame(LinkType.ETHERNET, bytesOf(f), 0, f.length);
  if (r.net.kind !== 'ipv4' || r.net.payload.kind !== 'tcp') throw new Error('no SYN-ACK');
  h.input(tcpFrame({ ...from(40001), flags: '.', seq: 1001, ack: r.net.payload.tcp.seq + 1 }), net.clock.advance(1000));
  // backlog 0 holds one completed connection: the next SYN is dropped (Linux LISTENOVERFLOWS).
  const out = h.counters.framesOut;
  h.input(tcpFrame({ ...from(40002), flags: 'S', seq: 2000, options: [opt.mss(1460)] }), net.clock.advance(1000));
  expect(h.counters.framesOut).toBe(out);
  expect(h.trace).toEqual([]);
  expect(h.counters.drops).toBe(1);
});
