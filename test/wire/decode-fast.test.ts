/**
 * decodeFrame's fast path (untagged Ethernet, IPv4 that is not a fragment, a whole TCP header) must
 * leave a FrameInfo exactly as the general path does: every field, on every frame of every capture the
 * tests know, and on Ethernet/IPv4/TCP frames with random bytes overwritten and random cuts (the inputs
 * where a missed check would show).
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { openCapture } from '../../src/capture/index.js';
import { bytesOf } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { decodeFrame, decodeFrameGeneral, ethernetIpv4TcpFlags, FrameInfo } from '../../src/wire/decode.js';
import { LinkType } from '../../src/wire/linktype.js';
import { opt, tcpFrame } from '../../src/testing/frames.js';
import { ALL_CAPTURES } from '../corpus.js';

/** Every field of a FrameInfo, VLAN ids as far as they are valid, the buffer by identity. */
function fieldsOf(i: FrameInfo, buffer: unknown): Record<string, unknown> {
  return {
    bytes: i.bytes === buffer ? 'the frame buffer' : i.bytes === null ? null : 'another buffer',
    frameOffset: i.frameOffset,
    capLen: i.capLen,
    linkType: i.linkType,
    net: i.net,
    protocol: i.protocol,
    vlanCount: i.vlanCount,
    vlanIds: Array.from(i.vlanIds.subarray(0, i.vlanCount)),
    netOffset: i.netOffset,
    ipHeaderLength: i.ipHeaderLength,
    addrOffset: i.addrOffset,
    addrLen: i.addrLen,
    ttl: i.ttl,
    l4Protocol: i.l4Protocol,
    l4Offset: i.l4Offset,
    l4Length: i.l4Length,
    l4Captured: i.l4Captured,
    trailerLength: i.trailerLength,
    ipChecksumOk: i.ipChecksumOk,
    fragment: i.fragment,
    fragOffset: i.fragOffset,
    fragMore: i.fragMore,
    fragId: i.fragId,
    tcp: i.tcp,
    tcpHeaderLength: i.tcpHeaderLength,
    tcpPayloadLength: i.tcpPayloadLength,
    error: i.error,
    errorLayer: i.errorLayer,
    errorOffset: i.errorOffset,
  };
}

/** Frames the fast path takes: untagged Ethernet carrying a whole IPv4/TCP header. */
function fastShaped(i: FrameInfo): boolean {
  return i.linkType === LinkType.ETHERNET && i.vlanCount === 0 && i.net === 'ipv4' && i.tcp && !i.fragment && i.error === null;
}

/**
 * `check` on 20,000 copies of `base` with up to four random bytes overwritten and a random cut, each at
 * an offset inside a larger buffer with bytes after it, as in a capture chunk.
 */
function onEditedFrames(base: Uint8Array, check: (b: Bytes, off: number, capLen: number) => void): void {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat({ max: base.length }),
      fc.nat({ max: 7 }),
      (edits, capLen, lead) => {
        const u8 = new Uint8Array(lead + base.length + 8).fill(0xa5);
        u8.set(base, lead);
        for (const [at, v] of edits) u8[lead + at] = v;
        check(bytesOf(u8), lead, capLen);
      },
    ),
    { numRuns: 20_000 },
  );
}

describe('decodeFrame fast path = general path', () => {
  // One FrameInfo each, reused across frames as the replay reuses its own: a field one path forgets to
  // reset would carry over from the frame before.
  const fast = new FrameInfo();
  const general = new FrameInfo();

  it('on every frame of every shared capture and fixture', () => {
    let frames = 0;
    let shaped = 0;
    for (const cap of ALL_CAPTURES) {
      const r = openCapture(cap.path);
      for (let f = r.next(); f !== null; f = r.next()) {
        decodeFrame(f.linkType, f.bytes, f.offset, f.capLen, fast);
        decodeFrameGeneral(f.linkType, f.bytes, f.offset, f.capLen, general);
        const a = fieldsOf(fast, f.bytes);
        const b = fieldsOf(general, f.bytes);
        if (JSON.stringify(a) !== JSON.stringify(b)) expect({ capture: cap.name, frame: f.index, ...a }).toEqual({ capture: cap.name, frame: f.index, ...b });
        frames++;
        if (fastShaped(general)) shaped++;
      }
      r.close();
    }
    // 4,876 frames when this was written, 1,480 of them the fast path's shape: both paths are exercised.
    expect(frames).toBeGreaterThan(4_000);
    expect(shaped).toBeGreaterThan(1_000);
    expect(frames - shaped).toBeGreaterThan(1_000);
  });

  const base = tcpFrame({
    from: '198.18.0.2:40000',
    to: '198.18.0.1:80',
    flags: 'S',
    seq: 1000,
    options: [opt.mss(1460), opt.sackOk(), opt.ts(1, 0), opt.nop(), opt.wscale(7)],
    payload: 'hello',
  });

  it('on frames with random bytes overwritten and random cuts', () => {
    onEditedFrames(base, (b, off, capLen) => {
      decodeFrame(LinkType.ETHERNET, b, off, capLen, fast);
      decodeFrameGeneral(LinkType.ETHERNET, b, off, capLen, general);
      expect(fieldsOf(fast, b)).toEqual(fieldsOf(general, b));
    });
  });

  it('on the header fields the fast path tests, each given every value that matters', () => {
    // Byte offsets in `base`: EtherType 12-13, version/IHL 14, total length 16-17, flags/fragment 20-21,
    // protocol 23, TCP data offset 46.
    const cases: Array<[number, number[]]> = [
      [12, [0x08, 0x81, 0x86, 0x00]],
      [13, [0x00, 0x06, 0xdd]],
      [14, [0x45, 0x44, 0x46, 0x4f, 0x55, 0x65, 0x40]],
      [16, [0x00, 0x01, 0xff]],
      [17, [0x00, 0x14, 0x27, 0x28, 0x29, 0x3b, 0xff]],
      [20, [0x00, 0x20, 0x40, 0x3f, 0x80]],
      [21, [0x00, 0x01]],
      [23, [6, 17, 0]],
      [46, [0x00, 0x40, 0x50, 0x80, 0xb0, 0xf0]],
    ];
    let n = 0;
    for (const [at, values] of cases) {
      for (const v of values) {
        for (let capLen = 50; capLen <= base.length; capLen++) {
          const u8 = base.slice();
          u8[at] = v;
          const b = bytesOf(u8);
          decodeFrame(LinkType.ETHERNET, b, 0, capLen, fast);
          decodeFrameGeneral(LinkType.ETHERNET, b, 0, capLen, general);
          expect(fieldsOf(fast, b)).toEqual(fieldsOf(general, b));
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });
});

/**
 * ethernetIpv4TcpFlags lets the listener pre-pass skip a frame by one byte: whatever it gives (not -1),
 * a full decode must find no TCP header, or one whose flags byte is that value, and never a fragment
 * (skipping one would change what the pre-pass's reassembly completes later); 0 is only for a frame
 * that is not TCP at all. Checked on the same frames as the fast path.
 */
describe('ethernetIpv4TcpFlags agrees with decodeFrame', () => {
  const info = new FrameInfo();
  /** Null when they agree, else what each says. */
  function disagreement(b: Bytes, off: number, capLen: number): object | null {
    const fixed = ethernetIpv4TcpFlags(b, off, capLen);
    decodeFrame(LinkType.ETHERNET, b, off, capLen, info);
    if (fixed < 0) return null;
    if (info.fragment) return { fixed, fragment: true };
    const flags = info.tcp ? (b.u8[info.l4Offset + 13] as number) : null;
    if (flags === null || flags === fixed) return null;
    return { fixed, decodedFlags: flags, tcp: info.tcp, error: info.error };
  }

  it('on every frame of every shared capture and fixture, and reads most of the common ones', () => {
    let read = 0;
    let shaped = 0;
    for (const cap of ALL_CAPTURES) {
      const r = openCapture(cap.path);
      for (let f = r.next(); f !== null; f = r.next()) {
        if (f.linkType !== LinkType.ETHERNET) continue;
        expect({ capture: cap.name, frame: f.index, d: disagreement(f.bytes, f.offset, f.capLen) }).toEqual({ capture: cap.name, frame: f.index, d: null });
        if (ethernetIpv4TcpFlags(f.bytes, f.offset, f.capLen) > 0) read++;
        if (fastShaped(info) && info.ipHeaderLength === 20) shaped++;
      }
      r.close();
    }
    // Every frame of the fast path's shape with a 20-byte IP header gives its flags (none of them is 0).
    expect(shaped).toBeGreaterThan(1_000);
    expect(read).toBeGreaterThanOrEqual(shaped);
  });

  const base = tcpFrame({ from: '198.18.0.2:40000', to: '198.18.0.1:80', flags: 'S.', seq: 1000, ack: 7, options: [opt.mss(1460)], payload: 'hi' });

  it('on frames with random bytes overwritten and random cuts', () => {
    onEditedFrames(base, (b, off, capLen) => expect(disagreement(b, off, capLen)).toBe(null));
  });

  it('on a frame that is not TCP: 0, and no TCP header decoded', () => {
    const u8 = base.slice();
    u8[23] = 17;
    expect(ethernetIpv4TcpFlags(bytesOf(u8), 0, u8.length)).toBe(0);
    decodeFrame(LinkType.ETHERNET, bytesOf(u8), 0, u8.length, info);
    expect(info.tcp).toBe(false);
  });
});
