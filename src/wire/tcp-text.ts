/**
 * TCP segments in packetdrill notation, as scripts write them and as synack prints the segments it
 * compares: `S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 1 ecr 1,nop,wscale 7>`. Numbers are
 * printed as the record holds them; a caller that wants them relative to the ISNs (script/, replay/'s
 * emulate mode) rewrites the record first.
 */
import { hex } from './bytes.js';
import { TcpFlags, formatTcpFlags, formatTcpOptions, tcpOptionsLen } from './tcp.js';
import type { TcpOption, TcpRepr } from './tcp.js';

/**
 * Flags as a script writes them: `S.`, `F.`, `R`, `-` for none. packetdrill keeps tcpdump's order and
 * letters (F S R P . U E W), and writes AE as `A` where tcpdump writes `e`.
 */
export function flagText(flags: number): string {
  return flags === 0 ? '-' : formatTcpFlags(flags).replace('e', 'A');
}

/**
 * One option as a script writes it: `mss 1460`, `sackOK`, `TS val 1 ecr 0`, `sack 1:1001`. The kinds
 * both notations write alike are tcpdump's text (formatTcpOptions); SACK blocks, Fast Open and unknown
 * kinds are packetdrill's own.
 */
export function optionText(o: TcpOption): string {
  switch (o.kind) {
    case 'sack':
      return `sack ${o.blocks.map(([l, r]) => `${l >>> 0}:${r >>> 0}`).join(' ')}`;
    case 'fast-open':
      return `FO ${hex(o.cookie)}`;
    case 'fast-open-exp':
      return `FOEXP ${hex(o.cookie)}`;
    case 'unknown':
      return `opt-${o.type}`;
    default:
      return formatTcpOptions([o]);
  }
}

/**
 * A segment in script notation: `S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 8>`. The padding a
 * header carries after an EOL shows as further EOLs, as packetdrill reads it.
 */
export function segmentText(seg: TcpRepr): string {
  const len = seg.payload.length;
  const seq = seg.seq >>> 0;
  let s = `${flagText(seg.flags)} ${seq}:${(seq + len) >>> 0}(${len})`;
  if (seg.flags & TcpFlags.ACK) s += ` ack ${seg.ack >>> 0}`;
  s += ` win ${seg.window}`;
  if (seg.urgent !== 0) s += ` urg ${seg.urgent}`;
  if (seg.options.length > 0) {
    const items = seg.options.map(optionText);
    let n = tcpOptionsLen(seg.options);
    if (seg.options[seg.options.length - 1]?.kind === 'eol') {
      for (; n % 4 !== 0; n++) items.push('eol');
    }
    s += ` <${items.join(',')}>`;
  }
  return s;
}
