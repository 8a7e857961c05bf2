/**
 * Emulate mode's translation (src/replay/translate.ts): synack chooses its own ISNs and timestamp
 * offsets, so the peer's acknowledgments, SACK blocks and TSecr are rewritten to synack's numbers before
 * they are fed to it. Checked on a kernel capture (the ISNs really differ, the fed frames carry synack's
 * numbers, and every segment still matches) and on hand-made segments.
 */
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { appFromPlan, emulateHost, hostSegments, hostTuple, inferApp, judge, planTranslation, Translator } from '../../src/replay/index.js';
import type { CapturedSegment } from '../../src/replay/index.js';
import { rfc6528Isn } from '../../src/tcp/isn.js';
import { linux } from '../../src/tcp/personality.js';
import type { TraceEvent } from '../../src/stack/trace.js';
import { seededRandom } from '../../src/testing/random.js';
import { opt, tcpSegment } from '../../src/testing/frames.js';
import type { TcpFrameSpec } from '../../src/testing/frames.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import type { TcpRepr } from '../../src/wire/tcp.js';
import { FIXTURES_DIR } from '../corpus.js';

const SERVER = '198.18.0.1';

function emulateServer(seed: number) {
  const segments = hostSegments(path.join(FIXTURES_DIR, 'web-mail-v4.pcap'), [SERVER]).segments;
  const run = emulateHost({
    segments,
    self: [SERVER],
    mac: '02:00:00:00:00:01',
    neighbors: {},
    personality: linux,
    isn: rfc6528Isn(seededRandom(seed)),
    rand: seededRandom(seed + 1),
    app: appFromPlan(inferApp(segments)),
    trace: true,
  });
  return { segments, run };
}

const tsOf = (t: TcpRepr): { val: number; ecr: number } | null => {
  const o = t.options.find((x) => x.kind === 'timestamps');
  return o !== undefined && o.kind === 'timestamps' ? { val: o.tsVal, ecr: o.tsEcr } : null;
};

describe('web-mail-v4 as the server, with synack\'s own ISNs', () => {
  const { segments, run } = emulateServer(7);
  const kernelIsn = new Map<string, number>();
  for (const s of segments) if (s.fromHost && s.tcp.flags & TcpFlags.SYN) kernelIsn.set(hostTuple(s), s.tcp.seq);
  const ourIsn = new Map<string, number>();
  const ourTs = new Map<string, number[]>();
  for (const a of run.actual) {
    if (a.tcp.flags & TcpFlags.SYN) ourIsn.set(a.view.tuple, a.tcp.seq);
    const ts = tsOf(a.tcp);
    if (ts !== null) ourTs.set(a.view.tuple, [...(ourTs.get(a.view.tuple) ?? []), ts.val]);
  }

  test('every connection has an ISN of synack\'s own, not the kernel\'s', () => {
    expect(ourIsn.size).toBe(9);
    expect([...ourIsn.keys()].sort()).toEqual([...kernelIsn.keys()].sort());
    for (const [tuple, isn] of ourIsn) expect(isn, tuple).not.toBe(kernelIsn.get(tuple));
    // Not one shift for all: each 4-tuple hashes to its own ISN (RFC 6528).
    const shifts = new Set([...ourIsn].map(([t, isn]) => (isn - (kernelIsn.get(t) as number)) >>> 0));
    expect(shifts.size).toBe(9);
  });

  test('the peer\'s segments reached synack acknowledging synack\'s numbers and echoing its TSvals', () => {
    const fed = run.trace.filter((e): e is Extract<TraceEvent, { type: 'frame-in' }> => e.type === 'frame-in' && e.segment !== null);
    expect(fed).toHaveLength(segments.filter((s) => !s.fromHost).length);
    let checked = 0;
    for (const e of fed) {
      const n = e.segment as NonNullable<typeof e.segment>;
      if (!n.flags.includes('.')) continue;
      const [addr, port] = [n.src.slice(0, n.src.lastIndexOf('.')), n.src.slice(n.src.lastIndexOf('.') + 1)];
      const tuple = `${SERVER}:${n.dst.slice(n.dst.lastIndexOf('.') + 1)} ${addr}:${port}`;
      const isn = ourIsn.get(tuple) as number;
      // Everything the peer acknowledges lies in synack's sequence space: ISN + 1 up to its FIN.
      expect(((n.ack - isn) >>> 0) >= 1 && ((n.ack - isn) >>> 0) <= 44, `${tuple} ack ${n.ack}, our ISN ${isn}`).toBe(true);
      const ecr = /TS val \d+ ecr (\d+)/.exec(n.options);
      expect(ecr, n.options).not.toBeNull();
      expect(ourTs.get(tuple)).toContain(Number((ecr as RegExpExecArray)[1]));
      checked++;
    }
    expect(checked).toBe(40); // 49 segments from the clients, 9 of them SYNs
  });

  test('and every segment still matches, whatever the seed', () => {
    for (const r of [run, emulateServer(12345).run]) {
      const j = judge(r);
      expect(j.diffs).toEqual([]);
      expect(j.matched).toBe(41);
    }
  });
});

/** A hand-made segment: the emulated host is 10.0.0.1:80, the peer 10.0.0.2:5000. */
function seg(frame: number, fromHost: boolean, spec: Omit<TcpFrameSpec, 'from' | 'to'>): CapturedSegment {
  const [a, b] = fromHost ? ['10.0.0.1:80', '10.0.0.2:5000'] : ['10.0.0.2:5000', '10.0.0.1:80'];
  const tcp = tcpSegment({ from: a, to: b, ...spec });
  return {
    frame,
    timeUs: frame * 1000,
    src: fromHost ? '10.0.0.1' : '10.0.0.2',
    dst: fromHost ? '10.0.0.2' : '10.0.0.1',
    srcMac: null,
    dstMac: null,
    tcp,
    fromHost,
    checksumOk: true,
    truncated: false,
    payloadLength: tcp.payload.length,
  };
}

describe('Translator', () => {
  const TUPLE = '10.0.0.1:80 10.0.0.2:5000';
  const capture = [
    seg(1, false, { flags: 'S', seq: 500, options: [opt.ts(9000, 0)] }),
    seg(2, true, { flags: 'S.', seq: 1000, ack: 501, options: [opt.ts(100, 9000)] }),
    seg(3, false, { flags: '.', seq: 501, ack: 1001, options: [opt.ts(9001, 100)] }),
    seg(4, true, { flags: 'P.', seq: 1001, ack: 501, payload: 'x'.repeat(200), options: [opt.ts(105, 9001)] }),
    // The peer saw the data with a hole: SACK for the second half; its TSecr echoes the data segment's.
    seg(5, false, { flags: '.', seq: 501, ack: 1001, options: [opt.nop(), opt.nop(), opt.ts(9002, 105), opt.nop(), opt.nop(), opt.sack([1101, 1201])] }),
    // A TSecr that is none of the host's values (a segment the capture missed): 3 ms after the latest.
    seg(6, false, { flags: '.', seq: 501, ack: 1201, options: [opt.ts(9003, 108)] }),
  ];
  const plan = planTranslation(capture);

  test('the plan: the host\'s ISN in force, and which of its segments each TSecr echoes', () => {
    expect(plan.get(1)).toEqual({ hostIsn: null, echo: null });
    expect(plan.get(3)).toEqual({ hostIsn: 1000, echo: { index: 0, offset: 0 } });
    expect(plan.get(5)).toEqual({ hostIsn: 1000, echo: { index: 1, offset: 0 } });
    expect(plan.get(6)).toEqual({ hostIsn: 1000, echo: { index: 1, offset: 3 } });
  });

  test('ack, SACK blocks and TSecr move to our numbers; the peer\'s own seq and TSval stay', () => {
    const tr = new Translator();
    expect(tr.translate(capture[0] as CapturedSegment, plan.get(1))).toEqual((capture[0] as CapturedSegment).tcp);
    tr.noteSent(TUPLE, tcpSegment({ from: '10.0.0.1:80', to: '10.0.0.2:5000', flags: 'S.', seq: 0xfffffff0, ack: 501, options: [opt.ts(77, 9000)] }));
    // A RST carries no timestamp: it does not shift which of our segments a TSecr means.
    tr.noteSent(TUPLE, tcpSegment({ from: '10.0.0.1:80', to: '10.0.0.2:5000', flags: 'R', seq: 0xfffffff1 }));
    const third = tr.translate(capture[2] as CapturedSegment, plan.get(3));
    expect(third.seq).toBe(501);
    expect(third.ack).toBe(0xfffffff1);
    expect(third.options).toEqual([opt.ts(9001, 77)]);
    tr.noteSent(TUPLE, tcpSegment({ from: '10.0.0.1:80', to: '10.0.0.2:5000', flags: 'P.', seq: 0xfffffff1, ack: 501, payload: 'x'.repeat(200), options: [opt.ts(83, 9001)] }));
    const fifth = tr.translate(capture[4] as CapturedSegment, plan.get(5));
    // Shifted by our ISN - theirs = 0xfffffff0 - 1000, across the wrap of the sequence space.
    expect(fifth.options).toEqual([opt.nop(), opt.nop(), opt.ts(9002, 83), opt.nop(), opt.nop(), opt.sack([(1101 + 0xfffffff0 - 1000) >>> 0, (1201 + 0xfffffff0 - 1000) >>> 0])]);
    expect(fifth.ack).toBe(0xfffffff1);
    expect(tr.translate(capture[5] as CapturedSegment, plan.get(6)).options).toEqual([opt.ts(9003, 86)]);
  });

  test('before we sent anything on the 4-tuple, nothing is translated', () => {
    const tr = new Translator();
    expect(tr.translate(capture[2] as CapturedSegment, plan.get(3))).toEqual((capture[2] as CapturedSegment).tcp);
  });
});
