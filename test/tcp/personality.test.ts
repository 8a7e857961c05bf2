/**
 * The personality table's derived values: window scale and SYN windows from buffer sizes, and the SYN
 * option layouts of both kernels for every combination of offered options.
 */
import { describe, expect, test } from 'vitest';
import { layoutSynOptions } from '../../src/tcp/options.js';
import { PERSONALITIES, freebsd, linux, offeredWindowScale, synWindow } from '../../src/tcp/personality.js';
import { optionsText } from './helpers.js';

describe('window scale offered', () => {
  test('linux: ilog2(space) - 15 (tcp_select_initial_window)', () => {
    expect(offeredWindowScale(linux, 6291456)).toBe(7); // tcp_rmem[2] default
    expect(offeredWindowScale(linux, 15728640)).toBe(8); // packetdrill defaults.sh
    expect(offeredWindowScale(linux, 33554432)).toBe(10);
    expect(offeredWindowScale(linux, 65535)).toBe(0);
    expect(offeredWindowScale(linux, 2 ** 40)).toBe(14); // RFC 7323 §2.3 limit
  });
  test('freebsd: the smallest shift with 65535 << shift >= sb_max', () => {
    expect(offeredWindowScale(freebsd, 2097152)).toBe(6); // kern.ipc.maxsockbuf default
    expect(offeredWindowScale(freebsd, 73728)).toBe(1); // pd: snd-syn-with-min-ws-ipv4.pkt
    expect(offeredWindowScale(freebsd, 65535)).toBe(0);
  });
});

describe('SYN windows', () => {
  test('linux: the space rounded down to whole segments, at most 65535', () => {
    expect(synWindow(linux, 65536, 1460)).toBe(64240);
    expect(synWindow(linux, 65536, 1448)).toBe(65160);
    expect(synWindow(linux, 270000, 1460)).toBe(65535);
  });
  test('freebsd: min(space, 65535)', () => {
    expect(synWindow(freebsd, 65536, 1460)).toBe(65535);
    expect(synWindow(freebsd, 16384, 1460)).toBe(16384);
  });
});

describe('SYN option layouts', () => {
  const ts = { tsVal: 1, tsEcr: 0 };
  const cases: Array<[boolean, boolean, boolean, string, string]> = [
    // [ws, sack, ts, linux, freebsd]
    [true, true, true, 'mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7', 'mss 1460,nop,wscale 7,sackOK,TS val 1 ecr 0'],
    [true, false, true, 'mss 1460,nop,nop,TS val 1 ecr 0,nop,wscale 7', 'mss 1460,nop,wscale 7,nop,nop,TS val 1 ecr 0'],
    [false, true, true, 'mss 1460,sackOK,TS val 1 ecr 0', 'mss 1460,sackOK,TS val 1 ecr 0'],
    [false, false, true, 'mss 1460,nop,nop,TS val 1 ecr 0', 'mss 1460,nop,nop,TS val 1 ecr 0'],
    [true, true, false, 'mss 1460,nop,nop,sackOK,nop,wscale 7', 'mss 1460,nop,wscale 7,sackOK,eol'],
    [true, false, false, 'mss 1460,nop,wscale 7', 'mss 1460,nop,wscale 7'],
    [false, true, false, 'mss 1460,nop,nop,sackOK', 'mss 1460,sackOK,eol'],
    [false, false, false, 'mss 1460', 'mss 1460'],
  ];
  for (const [ws, sack, t, lin, bsd] of cases) {
    test(`wscale ${ws}, sackOK ${sack}, TS ${t}: linux <${lin}>, freebsd <${bsd}>`, () => {
      const set = { mss: 1460, wscale: ws ? 7 : -1, sackOk: sack, ts: t ? ts : null };
      expect(optionsText(layoutSynOptions('linux', set))).toBe(lin);
      expect(optionsText(layoutSynOptions('freebsd', set))).toBe(bsd);
    });
  }
  test('every layout is a whole number of 32-bit words once padded, at most 40 octets', () => {
    const size = (o: ReturnType<typeof layoutSynOptions>): number =>
      o.reduce((n, x) => n + (x.kind === 'nop' || x.kind === 'eol' ? 1 : x.kind === 'mss' ? 4 : x.kind === 'wscale' ? 3 : x.kind === 'sack-permitted' ? 2 : 10), 0);
    for (const layout of ['linux', 'freebsd'] as const) {
      for (const [ws, sack, t] of cases) {
        const o = layoutSynOptions(layout, { mss: 1460, wscale: ws ? 7 : -1, sackOk: sack, ts: t ? ts : null });
        const n = size(o);
        const padded = o.at(-1)?.kind === 'eol' ? Math.ceil(n / 4) * 4 : n;
        expect(padded % 4).toBe(0);
        expect(padded).toBeLessThanOrEqual(40);
      }
    }
  });
});

test('PERSONALITIES lists both, linux first', () => {
  expect(Object.keys(PERSONALITIES)).toEqual(['linux', 'freebsd']);
});

describe('linux default: a 6.16+ host', () => {
  test('tcp_rmem[2] is 32 MiB since 6.16 (tcp_init), so the offered window scale is 10, as in fixtures/', () => {
    expect(linux.rcvSpaceMax).toBe(33554432);
    expect(offeredWindowScale(linux, linux.rcvSpaceMax)).toBe(10);
  });
});
