/**
 * Cases no shared capture holds, on captures built here (testing/frames tcpFrame: kernel-correct
 * lengths and checksums): TIME-WAIT after the connection was reported (late stragglers, reuse of the
 * 4-tuple, expiry after 60 s), the TIME-WAIT bound, segments their sender could not have sent, and
 * random segment streams that must never throw.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { MemorySink, openCaptureBytes, PcapWriter } from '../../src/capture/index.js';
import { replay } from '../../src/replay/index.js';
import type { ReplayOptions, ReplayResult } from '../../src/replay/index.js';
import { TCP_STATES } from '../../src/tcp/state.js';
import { tcpFrame } from '../../src/testing/frames.js';
import type { TcpFrameSpec } from '../../src/testing/frames.js';
import { LinkType } from '../../src/wire/linktype.js';

const C = '198.18.0.11:40001';
const S = '198.18.0.1:80';

/** [seconds, spec] → a pcap in memory, replayed with the listener on :80 given (a reader cannot be pre-read). */
function run(frames: [number, TcpFrameSpec][], options: ReplayOptions = {}): ReplayResult {
  const sink = new MemorySink();
  const w = new PcapWriter(sink, { linkType: LinkType.ETHERNET });
  for (const [t, spec] of frames) w.writePacket(1_700_000_000 + Math.floor(t), Math.round((t % 1) * 1e9), tcpFrame(spec));
  w.close();
  return replay(openCaptureBytes(sink.toUint8Array()), { frames: true, inferListeners: 'lazy', ...options });
}

/** A whole connection, closed by the client first (it ends in TIME-WAIT), from `t` on. */
function connection(t: number, isn: number, clientFirst = true): [number, TcpFrameSpec][] {
  const c = isn;
  const s = 5000;
  const out: [number, TcpFrameSpec][] = [
    [t, { from: C, to: S, flags: 'S', seq: c }],
    [t + 0.001, { from: S, to: C, flags: 'S.', seq: s, ack: c + 1 }],
    [t + 0.002, { from: C, to: S, flags: '.', seq: c + 1, ack: s + 1 }],
  ];
  const [a, b, aSeq, bSeq] = clientFirst ? [C, S, c + 1, s + 1] : [S, C, s + 1, c + 1];
  out.push([t + 0.1, { from: a, to: b, flags: 'F.', seq: aSeq, ack: bSeq }]);
  out.push([t + 0.101, { from: b, to: a, flags: 'F.', seq: bSeq, ack: aSeq + 1 }]);
  out.push([t + 0.102, { from: a, to: b, flags: '.', seq: aSeq + 1, ack: bSeq + 1 }]);
  return out;
}

describe('TIME-WAIT outlives the report', () => {
  test('a FIN retransmitted 3 s later reaches the TIME-WAIT record; its ACK finds no socket', () => {
    const r = run([
      ...connection(0, 1000),
      // The client (TIME-WAIT) hears the server's FIN again; the connection was reported after 2 s.
      [3, { from: S, to: C, flags: 'F.', seq: 5001, ack: 1002 }],
      [3.001, { from: C, to: S, flags: '.', seq: 1002, ack: 5002 }],
    ]);
    expect(r.connections).toHaveLength(1);
    expect(r.connections[0]?.frames).toBe(6);
    expect(r.frames.late).toBe(2);
    expect(r.demux?.slice(6)).toEqual([
      expect.objectContaining({ frame: 7, host: '198.18.0.11', step: 'time-wait', connection: 1, action: 'delivered', state: 'TIME-WAIT', late: true }),
      expect.objectContaining({ frame: 8, host: '198.18.0.1', step: 'none', connection: 1, action: 'reset', late: true }),
    ]);
  });

  test('a SYN with a new ISN on the 4-tuple of a server TIME-WAIT reopens it (before and after the report)', () => {
    for (const later of [1, 3]) {
      const r = run([...connection(0, 1000, false), ...connection(later, 90000)]);
      expect(r.connections.map((c) => [c.id, c.firstFrame, c.state])).toEqual([
        [1, 1, null],
        [2, 7, null],
      ]);
      expect(r.demux?.[6]).toMatchObject({ frame: 7, host: '198.18.0.1', step: 'time-wait', action: 'time-wait-reopen', state: 'SYN-RECEIVED', listenerFd: 3, connection: 2 });
      expect(r.connections[1]).toMatchObject({ handshake: true, serverFd: 4, clientState: 'TIME-WAIT', serverState: 'CLOSED' });
    }
  });

  test('after 60 s of capture time TIME-WAIT is over: the next SYN goes straight to the listener', () => {
    const r = run([...connection(0, 1000, false), ...connection(61, 90000)]);
    expect(r.demux?.[6]).toMatchObject({ frame: 7, step: 'listener-any', action: 'cloned' });
  });

  test('maxTimeWait bounds the records: past it an end goes straight to CLOSED (Linux: tw bucket overflow)', () => {
    const r = run(connection(0, 1000), { maxTimeWait: 0 });
    expect(r.connections[0]).toMatchObject({ clientState: 'CLOSED', serverState: 'CLOSED' });
    expect(r.demux?.[4]).toMatchObject({ host: '198.18.0.11', step: 'established', state: 'CLOSED' });
  });
});

describe("segments their sender could not have sent", () => {
  test('data from SYN-SENT (the SYN-ACK missed): an anomaly, then the sender is ESTABLISHED', () => {
    const r = run([
      [0, { from: C, to: S, flags: 'S', seq: 1000 }],
      [0.1, { from: C, to: S, flags: 'P.', seq: 1001, ack: 5001, payload: 'GET /' }],
    ]);
    expect(r.demux?.[1]).toMatchObject({ anomaly: 'data-in-syn-sent', sender: 'ESTABLISHED' });
    expect(r.connections[0]).toMatchObject({ anomalies: ['data-in-syn-sent'], anomalyCount: 1 });
    expect(r.frames.anomalies).toBe(1);
  });

  test('new data after a FIN', () => {
    const r = run([
      ...connection(0, 1000).slice(0, 4),
      [0.2, { from: C, to: S, flags: 'P.', seq: 1002, ack: 5001, payload: 'more' }],
    ]);
    expect(r.demux?.[4]).toMatchObject({ anomaly: 'data-after-fin', sender: 'FIN-WAIT-1' });
  });

  test('a duplicate after a RST is a copy, not a new segment; a new one revives the end that sent the RST', () => {
    const hs = connection(0, 1000).slice(0, 3);
    const r = run([
      ...hs,
      [0.1, { from: S, to: C, flags: 'P.', seq: 5001, ack: 1001, payload: 'hello' }],
      [0.2, { from: S, to: C, flags: 'R.', seq: 5006, ack: 1001 }],
      [0.201, { from: S, to: C, flags: 'P.', seq: 5001, ack: 1001, payload: 'hello' }],
      [0.3, { from: S, to: C, flags: 'P.', seq: 5006, ack: 1001, payload: 'again' }],
    ]);
    expect(r.demux?.[5]?.anomaly).toBeUndefined();
    expect(r.demux?.[6]).toMatchObject({ anomaly: 'sent-after-reset', sender: 'ESTABLISHED' });
  });
});

test('random segment streams between two ends never throw and leave legal states', () => {
  const flags = fc.constantFrom('S', 'S.', '.', 'P.', 'F.', 'R', 'R.', 'FP.', 'SF', 'SR', '');
  const seg = fc.record({ fromClient: fc.boolean(), flags, seq: fc.integer({ min: 0, max: 4 }), ack: fc.integer({ min: 0, max: 4 }), len: fc.integer({ min: 0, max: 3 }), dt: fc.integer({ min: 0, max: 4 }) });
  fc.assert(
    fc.property(fc.array(seg, { minLength: 1, maxLength: 30 }), (segs) => {
      let t = 0;
      const frames: [number, TcpFrameSpec][] = segs.map((s) => {
        // Time steps up to 4 s cross the 2 s report linger; seq/ack near each side's ISN make transitions likely.
        t += s.dt;
        const [from, to, base, peer] = s.fromClient ? [C, S, 1000, 5000] : [S, C, 5000, 1000];
        return [t, { from, to, flags: s.flags, seq: base + s.seq, ack: peer + s.ack, payload: 'x'.repeat(s.len) }];
      });
      const r = run(frames);
      expect(r.error).toBeNull();
      expect(r.demux).toHaveLength(segs.length);
      for (const v of r.demux ?? []) {
        expect(TCP_STATES).toContain(v.state);
        expect(TCP_STATES).toContain(v.sender);
      }
      for (const c of r.connections) {
        expect(TCP_STATES).toContain(c.clientState);
        expect(c.frames).toBeGreaterThan(0);
      }
      expect(r.connections.reduce((n, c) => n + c.frames, 0) + r.frames.late).toBe(segs.length);
    }),
    { numRuns: 300 },
  );
});
