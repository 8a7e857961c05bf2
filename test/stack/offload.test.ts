/**
 * What a Host on a live interface meets from a peer kernel with offloads on (issue 5): partial
 * checksums (tx checksum offload) and segments far above the MSS (TSO) — and what it must send back:
 * frames that fit the MTU even when SACK blocks take room from the payload.
 *
 * The frames are real: a Linux 6.18 client (python3, `sendall` of 2000 bytes, then shutdown) in a
 * network namespace whose veth had tx checksum offload and TSO on, talking to `synack serve --app
 * discard --write` on the other end (test/live's pair; the capture is synack's own --write file). The
 * 2000-byte payload is the client's pattern (i*7+3) & 255, appended below to the captured headers.
 */
import { expect, test } from 'vitest';
import { bytesOf, fromHex } from '../../src/wire/bytes.js';
import { parseFrame } from '../../src/wire/frame.js';
import { LinkType } from '../../src/wire/linktype.js';
import { fixedIsn, installMatchers, Network } from '../../src/testing/index.js';
import { opt, tcpFrame } from '../../src/testing/frames.js';
import type { Host } from '../../src/stack/host.js';
installMatchers(expect);

const PAYLOAD = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7 + 3) & 255);

function withPayload(headerHex: string): Uint8Array {
  const h = fromHex(headerHex);
  const out = new Uint8Array(h.length + PAYLOAD.length);
  out.set(h, 0);
  out.set(PAYLOAD, h.length);
  return out;
}

// tso.pcapng frames 1, 3, 4 (IPv4): SYN, ACK, and one 2066-byte frame carrying 2000 bytes over an MSS
// of 1460. TCP checksums 0x8c58, 0x8c50, 0x9420: the folded pseudo-header sums (partial).
const V4 = {
  isn: 4241203217, // synack's SYN-ACK in that capture (frame 2)
  peerIsn: 630039842,
  frames: [
    fromHex('020000000003025a0000000b08004500003c21c0400040068cd2c6120002c6120003a8c40009258da52200000000a002faf08c580000020405b40402080acd092304000000000103030a'),
    fromHex('020000000003025a0000000b08004500003421c1400040068cd9c6120002c6120003a8c40009258da523fccba0128010003f8c5000000101080acd09230947b2c59f'),
    withPayload('020000000003025a0000000b08004500080421c2400040068508c6120002c6120003a8c40009258da523fccba0128018003f942000000101080acd09230947b2c59f'),
  ],
  tcpOffset: 14 + 20,
};
// tso.pcapng frames 11, 13, 14 (IPv6), the same exchange: checksums 0x5ba5, 0x5b9d, 0x636d (partial).
const V6 = {
  isn: 2691873256,
  peerIsn: 3548453194,
  frames: [
    fromHex('020000000003025a0000000b86dd600ce6c30028064020010db800000000000000000000000220010db8000000000000000000000003c9920009d381194a00000000a002fd205ba50000020405a00402080a74c20e3d000000000103030a'),
    fromHex('020000000003025a0000000b86dd600ce6c30020064020010db800000000000000000000000220010db8000000000000000000000003c9920009d381194ba072b9e9801000405b9d00000101080a74c20e3fbcee135a'),
    withPayload('020000000003025a0000000b86dd600ce6c307f0064020010db800000000000000000000000220010db8000000000000000000000003c9920009d381194ba072b9e980180040636d00000101080a74c20e3fbcee135a'),
  ],
  tcpOffset: 14 + 40,
};

function server(family: typeof V4, acceptPartial: boolean | undefined): { net: Network; h: Host; lfd: number } {
  const net = new Network({ startUs: 1_000_000 });
  const h = net.attach({
    mac: '02:00:00:00:00:03',
    ipv4: ['198.18.0.3'],
    ipv6: ['2001:db8::3'],
    trace: true,
    ...(acceptPartial !== undefined ? { acceptPartialChecksums: acceptPartial } : {}),
    env: { isn: fixedIsn(family.isn) },
  });
  const lfd = h.sockets.socket(family === V4 ? 'inet' : 'inet6') as number;
  if (family === V6) h.sockets.setsockopt(lfd, 'IPV6_V6ONLY', 1);
  expect(h.sockets.bind(lfd, family === V4 ? '0.0.0.0' : '::', 9)).toBe(0);
  expect(h.sockets.listen(lfd, 8)).toBe(0);
  return { net, h, lfd };
}

function feed(net: Network, h: Host, frames: Uint8Array[]): void {
  for (const f of frames) {
    net.clock.advance(1000);
    h.input(f, net.clock.now());
  }
}

const drops = (h: Host): string[] => h.trace.flatMap((e) => (e.type === 'drop' ? [e.reason] : []));

for (const [name, family] of [
  ['IPv4', V4],
  ['IPv6', V6],
] as const) {
  test(`${name}: by default a partial checksum is a bad checksum, dropped unanswered as Linux drops one`, () => {
    const { net, h } = server(family, undefined);
    feed(net, h, family.frames.slice(0, 1));
    expect(drops(h)).toEqual(['bad-checksum']);
    expect(h.counters.framesOut).toBe(0);
    expect(h.partialChecksums).toBe(0);
  });

  test(`${name}: with acceptPartialChecksums the offloading peer's handshake completes and a 2000-byte TSO segment (MSS 1460) is taken whole`, async () => {
    const { net, h, lfd } = server(family, true);
    feed(net, h, family.frames.slice(0, 1));
    expect(h).toHaveSent({ flags: 'S.', seq: family.isn, ack: (family.peerIsn + 1) >>> 0 });
    feed(net, h, family.frames.slice(1));
    expect(drops(h)).toEqual([]);
    expect(h.partialChecksums).toBe(3);
    const c = await h.accept(lfd);
    expect(h.sockets.recv(c.fd, 65536)).toEqual(PAYLOAD);
    // Delayed or not, the ACK that covers the whole segment goes out (quick-ack at the start of a connection).
    net.run(net.clock.now() + 500_000);
    expect(h).toHaveSent({ flags: '.', ack: (family.peerIsn + 1 + 2000) >>> 0 });
  });

  test(`${name}: a checksum that is neither right nor the partial sum is still dropped`, () => {
    const { net, h } = server(family, true);
    const syn = family.frames[0]!.slice();
    syn[family.tcpOffset + 17]! ^= 0x01;
    feed(net, h, [syn]);
    expect(drops(h)).toEqual(['bad-checksum']);
    expect(h.counters.framesOut).toBe(0);
  });
}

test('data segments that carry SACK blocks are shortened by the option, so every frame fits a 1500-byte MTU', () => {
  const net = new Network();
  const h = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], neighbors: { '198.18.0.2': '02:00:00:00:00:02' }, env: { isn: fixedIsn(5000) } });
  const lfd = h.sockets.socket('inet') as number;
  h.sockets.bind(lfd, '0.0.0.0', 80);
  h.sockets.listen(lfd, 8);
  const peer = { from: '198.18.0.2:40000', to: '198.18.0.1:80' };
  const frames = [
    tcpFrame({ ...peer, flags: 'S', seq: 1000, options: [opt.mss(1460), opt.sackOk(), opt.ts(1, 0), opt.nop(), opt.wscale(7)] }),
    tcpFrame({ ...peer, flags: '.', seq: 1001, ack: 5001, window: 1000, options: [opt.nop(), opt.nop(), opt.ts(2, 0)] }),
    // 100 octets are missing before this one: it waits out of order, and SACK reports it.
    tcpFrame({ ...peer, flags: 'P.', seq: 1101, ack: 5001, window: 1000, options: [opt.nop(), opt.nop(), opt.ts(3, 0)], payload: 'x'.repeat(50) }),
  ];
  for (const f of frames) h.input(f, net.clock.advance(1000));
  const fd = h.sockets.accept(lfd);
  if (typeof fd !== 'object') throw new Error(`accept: ${String(fd)}`);
  const before = net.frames.length;
  expect(h.sockets.send(fd.fd, new Uint8Array(20_000))).toBe(20_000);
  const sent = net.frames.slice(before).filter((f) => f.from === h);
  const data = sent.map((f) => parseFrame(LinkType.ETHERNET, bytesOf(f.frame), 0, f.frame.length));
  const segs = data.flatMap((r) => (r.net.kind === 'ipv4' && r.net.payload.kind === 'tcp' ? [{ tcp: r.net.payload.tcp }] : []));
  expect(segs.length).toBeGreaterThan(3);
  for (const [i, s] of segs.entries()) {
    expect(sent[i]!.frame.length, `frame ${i}`).toBeLessThanOrEqual(1514);
    // mss 1460 - 12 (timestamps) - 12 (NOP NOP + one SACK block) = 1436 octets of payload.
    expect(s.tcp.options.some((o) => o.kind === 'sack')).toBe(true);
    expect(s.tcp.payload.length).toBe(1436);
  }
});
