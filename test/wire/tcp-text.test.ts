/** Segments in packetdrill notation (wire/tcp-text.ts): what script/ and replay/'s emulate mode print. */
import { describe, expect, test } from 'vitest';
import { flagText, segmentText } from '../../src/wire/tcp-text.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import type { TcpRepr } from '../../src/wire/tcp.js';

const seg = (over: Partial<TcpRepr>): TcpRepr => ({ srcPort: 80, dstPort: 40001, seq: 0, ack: 0, flags: 0, window: 0, urgent: 0, options: [], payload: new Uint8Array(0), ...over });

describe('segmentText', () => {
  test('a SYN-ACK as issue 4 writes it', () => {
    const s = seg({
      flags: TcpFlags.SYN | TcpFlags.ACK,
      ack: 1,
      window: 65160,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsVal: 1, tsEcr: 1 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    });
    expect(segmentText(s)).toBe('S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 1 ecr 1,nop,wscale 7>');
  });

  test('data: start:end(length), no ack without the ACK flag, sequence numbers wrap', () => {
    expect(segmentText(seg({ flags: TcpFlags.PSH | TcpFlags.ACK, seq: 1, ack: 27, window: 64, payload: new Uint8Array(17) }))).toBe('P. 1:18(17) ack 27 win 64');
    expect(segmentText(seg({ flags: TcpFlags.RST, seq: 0xffffffff, ack: 5, payload: new Uint8Array(2) }))).toBe('R 4294967295:1(2) win 0');
  });

  test('flags in packetdrill order; none is "-"', () => {
    expect(flagText(TcpFlags.FIN | TcpFlags.ACK)).toBe('F.');
    expect(flagText(TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR)).toBe('SEW');
    expect(flagText(TcpFlags.ACK | TcpFlags.AE)).toBe('.A');
    expect(flagText(0)).toBe('-');
  });
});
