/**
 * TCP options: reading the peer's (MSS, window scale, SACK-permitted, timestamps) and laying out ours in
 * the order the personality's kernel writes them (see personality.ts `optionLayout` for the exact forms
 * observed in packetdrill scripts).
 */
import type { TcpOption, TcpRepr } from '../wire/tcp.js';
import type { SegOptions, Tcb } from './tcb.js';

/** Reads the options that matter into `out` (absent values: -1 / false). Later duplicates win, as in Linux. */
export function readOptions(seg: TcpRepr, out: SegOptions): void {
  out.mss = -1;
  out.wscale = -1;
  out.sackOk = false;
  out.hasTs = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  const isSyn = (seg.flags & 0x02) !== 0;
  for (const o of seg.options) {
    switch (o.kind) {
      // RFC 9293 §3.7.1 / RFC 7323 §2.2: MSS and window scale mean something only in a SYN.
      case 'mss':
        if (isSyn && o.value > 0) out.mss = o.value;
        break;
      case 'wscale':
        // RFC 7323 §2.3: a shift above 14 is used as 14.
        if (isSyn) out.wscale = Math.min(o.shift, 14);
        break;
      case 'sack-permitted':
        if (isSyn) out.sackOk = true;
        break;
      case 'timestamps':
        out.hasTs = true;
        out.tsVal = o.tsVal >>> 0;
        out.tsEcr = o.tsEcr >>> 0;
        break;
      default:
        break;
    }
  }
}

const NOP: TcpOption = { kind: 'nop' };
const EOL: TcpOption = { kind: 'eol' };
const SACK_PERMITTED: TcpOption = { kind: 'sack-permitted' };

export interface SynOptionSet {
  mss: number;
  /** -1: no window scale option. */
  wscale: number;
  sackOk: boolean;
  /** null: no timestamps option. */
  ts: { tsVal: number; tsEcr: number } | null;
}

/** Our SYN or SYN-ACK options, laid out as the personality's kernel does. */
export function layoutSynOptions(layout: 'linux' | 'freebsd', set: SynOptionSet): TcpOption[] {
  const out: TcpOption[] = [{ kind: 'mss', value: set.mss }];
  if (layout === 'linux') {
    // tcp_options_write: SACK-permitted rides in the two bytes before TS; alone it takes NOP NOP.
    if (set.ts !== null) {
      if (set.sackOk) out.push(SACK_PERMITTED);
      else out.push(NOP, NOP);
      out.push({ kind: 'timestamps', tsVal: set.ts.tsVal, tsEcr: set.ts.tsEcr });
    } else if (set.sackOk) {
      out.push(NOP, NOP, SACK_PERMITTED);
    }
    if (set.wscale >= 0) out.push(NOP, { kind: 'wscale', shift: set.wscale });
    return out;
  }
  // FreeBSD tcp_addoptions: in TOF_* order, wscale at an odd offset, SACK-permitted at an even one,
  // TS at offset 2 mod 4, then EOL and zero padding to a multiple of 4.
  let len = 4;
  if (set.wscale >= 0) {
    while (len % 2 !== 1) { out.push(NOP); len += 1; }
    out.push({ kind: 'wscale', shift: set.wscale });
    len += 3;
  }
  if (set.sackOk) {
    while (len % 2 !== 0) { out.push(NOP); len += 1; }
    out.push(SACK_PERMITTED);
    len += 2;
  }
  if (set.ts !== null) {
    while (len % 4 !== 2) { out.push(NOP); len += 1; }
    out.push({ kind: 'timestamps', tsVal: set.ts.tsVal, tsEcr: set.ts.tsEcr });
    len += 10;
  }
  // EOL, then padding: the codec pads with zero bytes after an EOL, which is the same as more EOLs.
  if (len % 4 !== 0) out.push(EOL);
  return out;
}

/**
 * Bytes the SACK option will add to the next segment (NOP NOP, kind, length, 8 per block), 0 without
 * one: establishedOptions' block count, without consuming the D-SACK. A data segment carries that much
 * less payload, so the frame still fits the MTU (Linux tcp_current_mss: "if this is an odd packet
 * (because we have SACK blocks etc) ... we have to adjust mss_now correspondingly").
 */
export function sackOptionLength(tcb: Tcb): number {
  if (!tcb.sackOk || (tcb.dsack === null && tcb.ooo.empty)) return 0;
  const max = tcb.tsOk ? 3 : 4;
  const n = tcb.dsack !== null ? 1 + tcb.ooo.sackBlocks(max - 1).length : tcb.ooo.sackBlocks(max).length;
  return n === 0 ? 0 : 4 + 8 * n;
}

/**
 * Options of a segment after the handshake: timestamps (NOP NOP TS) when negotiated, and SACK blocks
 * (NOP NOP SACK) while the out-of-order queue holds data — the same layout in both kernels.
 */
export function establishedOptions(tcb: Tcb): TcpOption[] {
  const out: TcpOption[] = [];
  if (tcb.tsOk) out.push(NOP, NOP, { kind: 'timestamps', tsVal: tcb.tsVal(), tsEcr: tcb.tsRecent });
  const dsack = tcb.dsack;
  if (tcb.sackOk && (dsack !== null || !tcb.ooo.empty)) {
    const max = tcb.tsOk ? 3 : 4;
    // RFC 2883 §4: a D-SACK block goes first, in the next ACK only.
    const blocks = dsack !== null ? [dsack, ...tcb.ooo.sackBlocks(max - 1)] : tcb.ooo.sackBlocks(max);
    tcb.dsack = null;
    if (blocks.length > 0) out.push(NOP, NOP, { kind: 'sack', blocks });
  }
  return out;
}
