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
import { decodeFrame, decodeFrameGeneral, FrameInfo } from '../../src/wire/decode.js';
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
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat({ max: base.length }),
        fc.nat({ max: 7 }),
        (edits, capLen, lead) => {
          // The frame at an offset inside a larger buffer, as in a capture chunk, with bytes after it.
          const u8 = new Uint8Array(lead + base.length + 8).fill(0xa5);
          u8.set(base, lead);
          for (const [at, v] of edits) u8[lead + at] = v;
          const b = bytesOf(u8);
          decodeFrame(LinkType.ETHERNET, b, lead, capLen, fast);
          decodeFrameGeneral(LinkType.ETHERNET, b, lead, capLen, general);
          expect(fieldsOf(fast, b)).toEqual(fieldsOf(general, b));
        },
      ),
      { numRuns: 20_000 },
    );
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
