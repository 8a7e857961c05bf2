/**
 * Emulate mode's inference of the application (src/replay/infer-app.ts) on small captures built here
 * with synack's frame builders (testing/frames tcpFrame, PcapWriter): which calls each pattern of the
 * host's segments stands for. Then a capture whose SYN-ACK is not what Linux sends: the difference is
 * reported in packetdrill notation, by the library and by the CLI (exit 1; 0 when it is right). Then
 * the order of segments a capture point reordered, checksums, and a conversation of two synack Hosts
 * that each side, emulated, must reproduce segment for segment (its half-close needs the shutdown()).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { MemorySink, openCaptureBytes, PcapWriter } from '../../src/capture/index.js';
import { emulate, hostSegments, inferApp, receiveOrder } from '../../src/replay/index.js';
import type { AppPlan } from '../../src/replay/index.js';
import { opt, tcpFrame } from '../../src/testing/frames.js';
import { Network } from '../../src/testing/network.js';
import type { TcpFrameSpec } from '../../src/testing/frames.js';
import { LinkType } from '../../src/wire/linktype.js';
import { synack } from '../cli/run.js';
import { corpusPath } from '../corpus.js';

const S = '198.18.0.1:80';
const C = '198.18.0.11:40001';
const C2 = '198.18.0.12:40002';
const C3 = '198.18.0.13:40003';
const SERVER_MAC = '02:00:00:00:00:01';
const CLIENT_MAC = '02:00:00:00:00:02';

/** [seconds, spec] → a pcap in memory; the server's frames come from its MAC. */
function pcap(frames: Array<[number, TcpFrameSpec]>): Uint8Array {
  const sink = new MemorySink();
  const w = new PcapWriter(sink, { linkType: LinkType.ETHERNET });
  for (const [t, spec] of frames) {
    const fromServer = spec.from.startsWith('198.18.0.1:');
    const bytes = tcpFrame({ srcMac: fromServer ? SERVER_MAC : CLIENT_MAC, dstMac: fromServer ? CLIENT_MAC : SERVER_MAC, ...spec });
    w.writePacket(1_700_000_000 + Math.floor(t), Math.round((t % 1) * 1e9), bytes);
  }
  w.close();
  return sink.toUint8Array();
}

function plan(frames: Array<[number, TcpFrameSpec]>, host: string): AppPlan {
  return inferApp(hostSegments(openCaptureBytes(pcap(frames)), [host]).segments);
}

const calls = (p: AppPlan): Array<[string, number]> => p.calls.map((c) => [c.call, c.frame]);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A handshake: client ISN c, server ISN s, from t on (frames 1-3 of a capture). */
function handshake(t: number, client: string, c: number, s: number): Array<[number, TcpFrameSpec]> {
  return [
    [t, { from: client, to: S, flags: 'S', seq: c }],
    [t + 0.0001, { from: S, to: client, flags: 'S.', seq: s, ack: c + 1 }],
    [t + 0.0002, { from: client, to: S, flags: '.', seq: c + 1, ack: s + 1 }],
  ];
}

describe('a server', () => {
  const exchange: Array<[number, TcpFrameSpec]> = [
    ...handshake(0, C, 100, 5000),
    [0.1, { from: C, to: S, flags: 'P.', seq: 101, ack: 5001, payload: 'GET /\r\n' }],
    [0.1001, { from: S, to: C, flags: '.', seq: 5001, ack: 108 }],
    // The reply leaves in two segments at the same moment: one write of 6 bytes.
    [0.1002, { from: S, to: C, flags: '.', seq: 5001, ack: 108, payload: 'HTTP' }],
    [0.1002, { from: S, to: C, flags: 'P.', seq: 5005, ack: 108, payload: '/1' }],
    // A retransmission of the first part is the stack's, not another write.
    [0.3, { from: S, to: C, flags: '.', seq: 5001, ack: 108, payload: 'HTTP' }],
    [0.4, { from: S, to: C, flags: 'F.', seq: 5007, ack: 108 }],
    [0.4001, { from: C, to: S, flags: 'F.', seq: 108, ack: 5008 }],
    [0.4002, { from: S, to: C, flags: '.', seq: 5008, ack: 109 }],
  ];

  test('listens where it answered a SYN, writes each new byte range once, closes at its FIN', () => {
    const p = plan(exchange, '198.18.0.1');
    expect(p.listeners).toEqual([{ addr: '198.18.0.1', port: 80, backlog: 4096, listenAfter: null, acceptFrom: null, acceptUntil: null, closeAt: null }]);
    expect(calls(p)).toEqual([
      ['send', 6],
      ['close', 9],
    ]);
    const send = p.calls[0];
    expect(send?.call === 'send' && text(send.bytes)).toBe('HTTP/1');
    expect(p.notes).toEqual([]);
  });

  test('the client of the same capture: one connect, one write, one close', () => {
    const p = plan(exchange, '198.18.0.11');
    expect(p.listeners).toEqual([]);
    expect(p.calls).toEqual([
      { call: 'connect', frame: 1, local: { addr: '198.18.0.11', port: 40001 }, remote: { addr: '198.18.0.1', port: 80 } },
      { call: 'send', frame: 4, tuple: `${C} ${S}`, bytes: new TextEncoder().encode('GET /\r\n') },
      { call: 'close', frame: 10, tuple: `${C} ${S}` },
    ]);
  });

  test('data after its FIN, acknowledged: shutdown(SHUT_WR); answered with a RST: close()', () => {
    const base: Array<[number, TcpFrameSpec]> = [...handshake(0, C, 100, 5000), [0.1, { from: S, to: C, flags: 'F.', seq: 5001, ack: 101 }], [0.2, { from: C, to: S, flags: 'P.', seq: 101, ack: 5002, payload: 'more' }]];
    expect(calls(plan([...base, [0.2001, { from: S, to: C, flags: '.', seq: 5002, ack: 105 }]], '198.18.0.1'))).toEqual([['shutdown', 4]]);
    // A retransmission of data from before the FIN is no news: a closed socket acknowledges it too.
    const again = plan(
      [
        ...handshake(0, C, 100, 5000),
        [0.05, { from: C, to: S, flags: 'P.', seq: 101, ack: 5001, payload: 'old' }],
        [0.0501, { from: S, to: C, flags: '.', seq: 5001, ack: 104 }],
        [0.1, { from: S, to: C, flags: 'F.', seq: 5001, ack: 104 }],
        [0.2, { from: C, to: S, flags: 'P.', seq: 101, ack: 5002, payload: 'old' }],
        [0.2001, { from: S, to: C, flags: '.', seq: 5002, ack: 104 }],
      ],
      '198.18.0.1',
    );
    expect(calls(again)).toEqual([['close', 6]]);
    const reset = plan([...base, [0.2001, { from: S, to: C, flags: 'R', seq: 5002 }]], '198.18.0.1');
    // The RST answered data on a closed socket: the abort planned for it finds no descriptor left.
    expect(calls(reset)).toEqual([
      ['close', 4],
      ['abort', 6],
    ]);
  });

  test('a SYN refused before the first SYN-ACK: listen after it; one refused after the last: closed before it', () => {
    const p = plan(
      [
        [0, { from: C2, to: S, flags: 'S', seq: 1 }],
        [0.0001, { from: S, to: C2, flags: 'R.', seq: 0, ack: 2 }],
        ...handshake(1, C, 100, 5000),
        [2, { from: C3, to: S, flags: 'S', seq: 9 }],
        [2.0001, { from: S, to: C3, flags: 'R.', seq: 0, ack: 10 }],
      ],
      '198.18.0.1',
    );
    expect(p.listeners).toEqual([{ addr: '198.18.0.1', port: 80, backlog: 4096, listenAfter: 1, acceptFrom: null, acceptUntil: null, closeAt: 6 }]);
    expect(p.calls).toEqual([]);
  });

  test('SYNs dropped while two connections wait: backlog 1, accept() only after the last drop', () => {
    const p = plan(
      [
        ...handshake(0, C, 100, 5000),
        ...handshake(0.05, C2, 200, 6000),
        [0.1, { from: C3, to: S, flags: 'S', seq: 300 }],
        [1.1, { from: C3, to: S, flags: 'S', seq: 300 }],
        [2.1, { from: C3, to: S, flags: 'S', seq: 300 }],
        [2.1001, { from: S, to: C3, flags: 'S.', seq: 7000, ack: 301 }],
        [2.1002, { from: C3, to: S, flags: '.', seq: 301, ack: 7001 }],
      ],
      '198.18.0.1',
    );
    expect(p.listeners).toEqual([{ addr: '198.18.0.1', port: 80, backlog: 1, listenAfter: null, acceptFrom: 8, acceptUntil: null, closeAt: null }]);
    expect(p.notes).toEqual(['198.18.0.1:80: listen backlog 1: SYNs dropped from frame 7 while 2 connections waited to be accepted; accept() from frame 8 on']);
  });

  test('RSTs together to connections it never used: never accepted, the listener closed', () => {
    const p = plan(
      [
        ...handshake(0, C, 100, 5000),
        ...handshake(0.1, C2, 200, 6000),
        [0.5, { from: S, to: C, flags: 'R.', seq: 5001, ack: 101 }],
        [0.5, { from: S, to: C2, flags: 'R.', seq: 6001, ack: 201 }],
      ],
      '198.18.0.1',
    );
    expect(p.listeners[0]).toMatchObject({ acceptUntil: 3, closeAt: 7 });
    expect(p.calls).toEqual([]);
  });

  test('... but not when the port answers a SYN afterwards: then each RST is an abort', () => {
    const p = plan(
      [...handshake(0, C, 100, 5000), [0.5, { from: S, to: C, flags: 'R.', seq: 5001, ack: 101 }], ...handshake(1, C2, 200, 6000)],
      '198.18.0.1',
    );
    expect(p.listeners[0]).toMatchObject({ acceptUntil: null, closeAt: null });
    expect(calls(p)).toEqual([['abort', 4]]);
  });
});

describe('a client', () => {
  test('a retransmitted SYN is not another connect; a SYN with a new ISN on the same 4-tuple is', () => {
    const p = plan(
      [
        [0, { from: C, to: S, flags: 'S', seq: 100 }],
        [1, { from: C, to: S, flags: 'S', seq: 100 }],
        [1.0001, { from: S, to: C, flags: 'R.', seq: 0, ack: 101 }],
        [2, { from: C, to: S, flags: 'S', seq: 9000 }],
      ],
      '198.18.0.11',
    );
    expect(calls(p)).toEqual([
      ['connect', 1],
      ['connect', 4],
    ]);
  });
});

describe('a difference, reported in packetdrill notation', () => {
  // What Linux 6.18 answers to this SYN: win 65160 (45 × 1448), wscale 10. The capture says win 1000.
  const synOptions = [opt.mss(1460), opt.sackOk(), opt.ts(4000, 0), opt.nop(), opt.wscale(7)];
  const capture = (window: number): Uint8Array =>
    pcap([
      [0, { from: C, to: S, flags: 'S', seq: 100, window: 64240, options: synOptions }],
      [0.0001, { from: S, to: C, flags: 'S.', seq: 5000, ack: 101, window, options: [opt.mss(1460), opt.sackOk(), opt.ts(777, 4000), opt.nop(), opt.wscale(10)] }],
      [0.0002, { from: C, to: S, flags: '.', seq: 101, ack: 5001, window: 502, options: [opt.nop(), opt.nop(), opt.ts(4000, 777)] }],
    ]);

  test('by the library', () => {
    const r = emulate(openCaptureBytes(capture(1000)), { host: '198.18.0.1' });
    expect([r.matched, r.expected]).toEqual([0, 1]);
    expect(r.diffs).toEqual([
      {
        kind: 'differs',
        frame: 2,
        segment: '198.18.0.1:80 > 198.18.0.11:40001',
        expected: '> S. 0:0(0) ack 1 win 1000 <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>',
        actual: '> S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>',
        expectedTime: 0.0001,
        actualTime: 0,
        fields: ['win'],
      },
    ]);
    expect([emulate(openCaptureBytes(capture(65160)), { host: '198.18.0.1' })].map((x) => [x.matched, x.expected, x.diffs.length])).toEqual([[1, 1, 0]]);
  });

  test('by the CLI: exit 1 with both segments; exit 0 when the capture is what Linux sends', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synack-emulate-'));
    const wrong = path.join(dir, 'wrong.pcap');
    const right = path.join(dir, 'right.pcap');
    writeFileSync(wrong, capture(1000));
    writeFileSync(right, capture(65160));
    const r = synack(['replay', wrong, '--host', '198.18.0.1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(
      [
        'frame 2  198.18.0.1:80 > 198.18.0.11:40001  differs in win',
        '  expected  0.000100 s  > S. 0:0(0) ack 1 win 1000 <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>',
        '  actual    0.000000 s  > S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>',
        '',
        'matched 0/1 expected segments',
      ].join('\n'),
    );
    const ok = synack(['replay', right, '--host', '198.18.0.1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\n198\.18\.0\.1:80 - 198\.18\.0\.11:40001 +1 +1\/1\n\nmatched 1\/1 expected segments\n$/);
  });
});

describe('segments in the order the acknowledgments show (receive-order.ts)', () => {
  // zeek-tcp-handshake-reorder.pcap: the capture point saw the server's SYN-ACK (frame 1) before the
  // client's SYN (frame 2). Neither end can have sent what it did in that order.
  const file = corpusPath('zeek-tcp-handshake-reorder.pcap');

  test('the server received the SYN before it answered: fed before frame 1, and it answers with a SYN-ACK', () => {
    const r = emulate(file, { host: '192.150.187.43' });
    expect(r.reordered).toEqual([{ frame: 2, before: 1 }]);
    expect(r.app.listeners.map((l) => l.port)).toEqual([80]);
    expect(r.connections.map((c) => c.firstFrame)).toEqual([1]);
    // The SYN-ACK differs only where this server (an older Linux) had other buffers than Linux 6.18.
    expect(r.diffs.find((d) => d.frame === 1)).toMatchObject({ kind: 'differs', fields: ['win', 'options'] });
    expect(r.appErrors).toEqual([]);
  });

  test('the client sent its SYN before the SYN-ACK came: the SYN-ACK is fed after the connect()', () => {
    const r = emulate(file, { host: '141.142.228.5' });
    expect(r.reordered).toEqual([{ frame: 1, after: 2 }]);
    expect(r.app.calls.map((c) => [c.call, c.frame])).toEqual([
      ['connect', 2],
      ['send', 4],
      ['close', 12],
    ]);
    // Its ACK of the SYN-ACK and its request are there, in the right place (windows: a macOS client).
    expect(r.diffs.filter((d) => d.frame === 3 || d.frame === 4).map((d) => d.fields)).toEqual([['win'], ['win']]);
    expect(r.appErrors).toEqual([]);
  });
});

describe('a simultaneous open whose peer SYN the capture shows before the host\'s SYN (receive-order.ts)', () => {
  // The host is C; its peer S connects to it at the same moment, and a hold between the capture tap and
  // C's TCP (an NFQUEUE, as in fixtures/simultaneous-open-v4.pcap) let C's SYN out before S's SYN got in.
  const open = (answer: Array<[number, TcpFrameSpec]>): Array<[number, TcpFrameSpec]> => [
    [0.0, { from: S, to: C, flags: 'S', seq: 1000 }],
    ...answer,
    [0.01, { from: C, to: S, flags: 'S', seq: 5000 }],
    [0.011, { from: S, to: C, flags: 'S.', seq: 1000, ack: 5001 }],
    [0.02, { from: C, to: S, flags: 'S.', seq: 5000, ack: 1001 }],
    [0.0201, { from: S, to: C, flags: '.', seq: 1001, ack: 5001 }],
    [0.0202, { from: C, to: S, flags: '.', seq: 5001, ack: 1001 }],
  ];
  const order = (frames: Array<[number, TcpFrameSpec]>): ReturnType<typeof receiveOrder> =>
    receiveOrder(hostSegments(openCaptureBytes(pcap(frames)), ['198.18.0.11']).segments);
  const frameNos = (o: ReturnType<typeof receiveOrder>): number[] => o.segments.map((x) => x.frame);

  test('no reply to the SYN, then the host\'s SYN and a SYN-ACK repeating its ISN: the SYN came after the host\'s', () => {
    const o = order(open([]));
    // S's SYN (1) right after C's SYN (2); S's SYN-ACK (3), held with it, just before C's answer to it (6).
    expect(o.deliverAfter).toEqual({ 1: 2 });
    expect(o.deliverBefore).toEqual({ 3: 6 });
    expect(frameNos(o)).toEqual([2, 1, 4, 5, 3, 6]);
  });

  test('the host answered the SYN with a RST: it had no socket when the SYN came, nothing moves', () => {
    const o = order(open([[0.0001, { from: C, to: S, flags: 'R.', seq: 0, ack: 1001 }]]));
    expect(o.deliverAfter).toEqual({});
    expect(o.deliverBefore).toEqual({});
    expect(frameNos(o)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test('the host\'s SYN-ACK has another ISN than its SYN, or acknowledges another SYN: nothing moves', () => {
    const otherIsn = open([]).map(([t, f]): [number, TcpFrameSpec] => [t, f.from === C && f.flags === 'S.' ? { ...f, seq: 7000 } : f]);
    const otherAck = open([]).map(([t, f]): [number, TcpFrameSpec] => [t, f.from === C && f.flags === 'S.' ? { ...f, ack: 2001 } : f]);
    for (const frames of [otherIsn, otherAck]) {
      const o = order(frames);
      expect(o.deliverAfter[1]).toBeUndefined();
      expect(frameNos(o)[0]).toBe(1);
    }
  });
});

describe('checksums', () => {
  /** The exchange of `handshake` plus a request; frames of the client listed in `bad` get a wrong TCP checksum. */
  function capture(bad: number[]): Uint8Array {
    const frames: Array<[number, TcpFrameSpec]> = [...handshake(0, C, 100, 5000), [0.1, { from: C, to: S, flags: 'P.', seq: 101, ack: 5001, payload: 'hi' }]];
    const sink = new MemorySink();
    const w = new PcapWriter(sink, { linkType: LinkType.ETHERNET });
    frames.forEach(([t, spec], i) => {
      const fromServer = spec.from === S;
      const bytes = tcpFrame({ srcMac: fromServer ? SERVER_MAC : CLIENT_MAC, dstMac: fromServer ? CLIENT_MAC : SERVER_MAC, ...spec });
      // Ethernet 14 + IPv4 20 + 16: the TCP checksum field.
      if (bad.includes(i + 1)) bytes[50] = (bytes[50] as number) ^ 0xff;
      w.writePacket(1_700_000_000, Math.round(t * 1e9), bytes);
    });
    w.close();
    return sink.toUint8Array();
  }

  test('a bad one among good ones is not fed: the captured host dropped it too', () => {
    expect(emulate(openCaptureBytes(capture([3])), { host: '198.18.0.1' }).undelivered).toEqual([{ frame: 3, reason: 'bad-checksum' }]);
  });

  test('all of a peer\'s bad (checksum offload where it was captured): all fed', () => {
    const r = emulate(openCaptureBytes(capture([1, 3, 4])), { host: '198.18.0.1' });
    expect(r.undelivered).toEqual([]);
    // The connection was made: the handshake and the request reached synack, which acknowledged it.
    expect(r.appErrors).toEqual([]);
    const extra = r.diffs.filter((d) => d.kind === 'extra').map((d) => d.actual);
    expect(extra).toHaveLength(1);
    expect(extra[0]).toMatch(/^> \. 1:1\(0\) ack 3 win \d+$/);
  });
});

describe('synack in the place of synack: a capture of two synack Hosts (testing/Network)', () => {
  /**
   * The server answers, then shuts down its sending side and still takes the client's last words (which
   * a close() would have answered with a RST); the client closes last. Frames are stamped when sent.
   */
  function conversation(): Uint8Array {
    const net = new Network({ latencyUs: 50, seed: 3 });
    const server = net.attach({ name: 'server', mac: SERVER_MAC, ipv4: ['198.18.0.1'], neighbors: { '198.18.0.11': CLIENT_MAC } });
    const client = net.attach({ name: 'client', mac: CLIENT_MAC, ipv4: ['198.18.0.11'], neighbors: { '198.18.0.1': SERVER_MAC } });
    // Each call at the network's time (Host.now() pushes it down to the socket table).
    const s = new Proxy(server.sockets, { get: (t, k) => (server.now(), Reflect.get(t, k)) });
    const c = new Proxy(client.sockets, { get: (t, k) => (client.now(), Reflect.get(t, k)) });
    const ok = <T>(r: T | string): T => {
      if (typeof r === 'string') throw new Error(r);
      return r;
    };
    const lfd = ok(s.socket('inet'));
    s.bind(lfd, '198.18.0.1', 80);
    s.listen(lfd, 16);
    const cfd = ok(c.socket('inet'));
    c.bind(cfd, '198.18.0.11', 40001);
    c.connect(cfd, '198.18.0.1', 80);
    net.advance(10_000);
    const afd = ok(s.accept(lfd)).fd;
    c.send(cfd, new TextEncoder().encode('hello\r\n'));
    net.advance(10_000);
    ok(s.recv(afd));
    s.send(afd, new TextEncoder().encode('reply\r\n'));
    s.shutdown(afd, 'SHUT_WR');
    net.advance(10_000);
    ok(c.recv(cfd));
    c.send(cfd, new TextEncoder().encode('more\r\n'));
    net.advance(300_000);
    ok(s.recv(afd));
    c.close(cfd);
    net.advance(10_000);
    s.close(afd);
    net.advance(10_000);
    const sink = new MemorySink();
    const w = new PcapWriter(sink, { linkType: LinkType.ETHERNET });
    for (const f of net.frames) w.writePacket(1_700_000_000 + Math.floor(f.time / 1e6), (f.time % 1e6) * 1000, f.frame);
    w.close();
    return sink.toUint8Array();
  }

  test.each([
    ['198.18.0.1', ['send', 'shutdown']],
    ['198.18.0.11', ['connect', 'send', 'send', 'close']],
  ])('%s: every segment, and the calls that made them', (host, expectedCalls) => {
    const bytes = conversation();
    const r = emulate(openCaptureBytes(bytes), { host, seed: 99 });
    expect(r.app.calls.map((x) => x.call)).toEqual(expectedCalls);
    expect(r.appErrors).toEqual([]);
    expect(r.diffs).toEqual([]);
    expect(r.expected).toBeGreaterThan(5);
    expect(r.matched).toBe(r.expected);
  });
});
