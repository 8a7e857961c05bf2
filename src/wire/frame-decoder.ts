/**
 * decodeFrame plus IP fragment reassembly, for a stream of frames in capture order. The frame that
 * completes a datagram is decoded as the whole datagram (as Wireshark shows it on the last fragment):
 * `info` then points at a small buffer holding the two addresses and the reassembled payload, and
 * `reassembledFrom` lists the frames the fragments came in. Pure: time comes in with each frame.
 */
import { bytesOf } from './bytes.js';
import { decodeFrame, decodeTcp, FrameInfo } from './decode.js';
import { IpProtocol } from './ipproto.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { Reassembler } from './reassembly.js';
import type { ReassemblyOptions, ReassemblyResult } from './reassembly.js';
import type { Bytes } from './bytes.js';

export interface DecodedFrame {
  readonly info: FrameInfo;
  /** Set on the frame that completed a datagram: every frame that carried part of it, in offset order. */
  readonly reassembledFrom: readonly number[] | undefined;
  /** What reassembly did with this frame, when it was a fragment. */
  readonly fragment: ReassemblyResult | undefined;
}

export class FrameDecoder {
  readonly info = new FrameInfo();
  readonly reassembler: Reassembler;
  private result: { info: FrameInfo; reassembledFrom: readonly number[] | undefined; fragment: ReassemblyResult | undefined };

  constructor(options: ReassemblyOptions = {}) {
    this.reassembler = new Reassembler(options);
    this.result = { info: this.info, reassembledFrom: undefined, fragment: undefined };
  }

  /**
   * decode() with the frame's time as a capture gives it (whole seconds and nanoseconds), turned into
   * microseconds only for an IP fragment: a replay's hot loop then passes two small integers per frame
   * where a time in microseconds (past 2^31) would be a heap number.
   */
  decodeAt(linkType: number, b: Bytes, off: number, capLen: number, frame: number, tsSec: number, tsNsec: number): DecodedFrame {
    const info = decodeFrame(linkType, b, off, capLen, this.info);
    if (!info.fragment || info.error !== null) {
      const r = this.result;
      r.reassembledFrom = undefined;
      r.fragment = undefined;
      return r;
    }
    return this.decode(linkType, b, off, capLen, frame, tsSec * 1_000_000 + ((tsNsec / 1000) | 0));
  }

  /** Decodes one frame; the returned object is reused by the next call. */
  decode(linkType: number, b: Bytes, off: number, capLen: number, frame: number, timeUs: number): DecodedFrame {
    const info = decodeFrame(linkType, b, off, capLen, this.info);
    const r = this.result;
    r.reassembledFrom = undefined;
    r.fragment = undefined;
    if (!info.fragment || info.error !== null) return r;
    let res: ReassemblyResult;
    if (info.addrLen === 4) {
      const pkt = Ipv4Packet.check(b, info.netOffset, off + capLen - info.netOffset);
      if (typeof pkt === 'string') return r;
      res = this.reassembler.addIpv4(pkt, frame, timeUs);
    } else {
      const pkt = Ipv6Packet.check(b, info.netOffset, off + capLen - info.netOffset);
      if (typeof pkt === 'string') return r;
      res = this.reassembler.addIpv6(pkt, frame, timeUs);
    }
    r.fragment = res;
    if (res.kind !== 'complete') return r;
    const d = res.datagram;
    r.reassembledFrom = d.frames;
    // Addresses first, then the payload, so pseudo-header sums and summaries read one buffer.
    const a = info.addrLen;
    const u8 = new Uint8Array(2 * a + d.payload.length);
    u8.set(b.u8.subarray(info.addrOffset, info.addrOffset + 2 * a), 0);
    u8.set(d.payload, 2 * a);
    info.bytes = bytesOf(u8);
    info.addrOffset = 0;
    info.l4Protocol = d.protocol;
    info.l4Offset = 2 * a;
    info.l4Length = d.payload.length;
    info.l4Captured = d.payload.length;
    if (d.protocol === IpProtocol.TCP) decodeTcp(info, info.bytes);
    return r;
  }
}
