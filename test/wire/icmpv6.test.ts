import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv6, writeIpv6 } from '../../src/wire/address.js';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { pseudoHeaderSum, pseudoHeaderSumOf } from '../../src/wire/checksum.js';
import {
  emitIcmpv6Repr,
  ICMPV6_HEADER_LEN,
  icmpv6ReprLen,
  Icmpv6Type,
  Icmpv6View,
  IPPROTO_ICMPV6,
  NdpOptionType,
  ndpLinkAddress,
  NEIGHBOR_MESSAGE_LEN,
  parseIcmpv6Repr,
} from '../../src/wire/icmpv6.js';
import type { Icmpv6Repr, NdpOption } from '../../src/wire/icmpv6.js';

/*
 * No capture in /work/shared/pcaps holds ICMPv6 (tshark -Y icmpv6 finds nothing), so these frames were
 * captured for this test from the Linux 6.18 kernel: two throwaway network namespaces joined by a veth
 * pair, sa-lt-a = 02:00:00:00:00:01, 2001:db8::1/64 and sa-lt-b = 02:00:00:00:00:02, 2001:db8::2/64
 * (net.ipv6.conf.sa-lt-b.ndisc_notify=1, so it announced itself with unsolicited NAs), `tcpdump -w`
 * (4.99.3) on sa-lt-b from before the links came up (DAD, MLD, RS) until
 * `bash -c 'echo > /dev/tcp/2001:db8::2/80'` ran in the first namespace (NS/NA); the namespaces were
 * deleted afterwards. "veth capture frame N" numbers frames of that capture (arp.test.ts uses it too).
 * Each constant is a whole Ethernet frame; the IPv6 header starts at 14.
 */
const FRAMES = {
  // veth capture frame 3: DAD probe for fe80::ff:fe00:2 from ::, with a nonce option (RFC 7527).
  dadNs: '3333ff000002 020000000002 86dd 6000000000203aff 00000000000000000000000000000000 ff0200000000000000000001ff000002' +
    '870049bf00000000 fe80000000000000000000fffe000002 0e01e585d33a6c9a',
  // veth capture frame 10: unsolicited NA (override only) for fe80::ff:fe00:2 to all nodes.
  unsolicitedNa: '333300000001 020000000002 86dd 6000000000203aff fe80000000000000000000fffe000002 ff020000000000000000000000000001' +
    '8800599820000000 fe80000000000000000000fffe000002 0201020000000002',
  // veth capture frame 11: router solicitation with a source link-layer address option.
  rs: '333300000002 020000000002 86dd 6000000000103aff fe80000000000000000000fffe000002 ff020000000000000000000000000002' +
    '85007b2a00000000 0101020000000002',
  // veth capture frame 21: NS for 2001:db8::2 from 2001:db8::1, source link-layer address 02:00:00:00:00:01.
  ns: '3333ff000002 020000000001 86dd 6000000000203aff 20010db8000000000000000000000001 ff0200000000000000000001ff000002' +
    '87001c2700000000 20010db8000000000000000000000002 0101020000000001',
  // veth capture frame 22: the solicited NA answering it (S and O set), target link-layer address.
  na: '020000000001 020000000002 86dd 6000000000203aff 20010db8000000000000000000000002 20010db8000000000000000000000001' +
    '88008a7160000000 20010db8000000000000000000000002 0201020000000002',
  // veth capture frame 1: MLDv2 report behind a hop-by-hop header (ICMPv6 at 14 + 40 + 8 = 62).
  mld: '333300000016 020000000002 86dd 6000000000240001 00000000000000000000000000000000 ff020000000000000000000000000016' +
    '3a00050200000100 8f006f8800000001 04000000ff0200000000000000000001ff000002',
} as const;

interface Msg {
  b: Bytes;
  off: number;
  len: number;
  /** Pseudo-header sum read from the captured IPv6 header. */
  pseudo: number;
  frame: Uint8Array;
}

function msg(name: keyof typeof FRAMES): Msg {
  const frame = fromHex(FRAMES[name]);
  const b = bytesOf(frame);
  const off = name === 'mld' ? 62 : 54;
  const len = frame.length - off;
  return { b, off, len, pseudo: pseudoHeaderSum(b, 14 + 8, 16, IPPROTO_ICMPV6, len), frame };
}

function viewOf(m: Msg): Icmpv6View {
  const v = Icmpv6View.check(m.b, m.off, m.len);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

describe('ICMPv6 / NDP', () => {
  it('deconstructs a real neighbor solicitation', () => {
    const m = msg('ns');
    const v = viewOf(m);
    expect(v.type).toBe(Icmpv6Type.NEIGHBOR_SOLICITATION);
    expect(v.isNeighborSolicitation).toBe(true);
    expect(v.code).toBe(0);
    expect(v.checksum).toBe(0x1c27);
    expect(v.verifyChecksum(m.pseudo)).toBe(true);
    expect(v.computeChecksum(m.pseudo)).toBe(0x1c27);
    expect(v.ndFlags).toBe(0);
    expect(v.target).toBe('2001:db8::2');
    expect(v.targetOffset).toBe(62);
    expect(v.optionsOffset).toBe(78);
    expect(v.optionsLength).toBe(8);
    const at = v.linkAddressOffset(NdpOptionType.SOURCE_LINK_ADDRESS);
    expect(at).toBe(80);
    expect(hex(m.frame.subarray(at, at + 6))).toBe('020000000001');
    expect(v.linkAddressOffset(NdpOptionType.TARGET_LINK_ADDRESS)).toBe(-1);
  });

  it('deconstructs real neighbor advertisements', () => {
    const na = viewOf(msg('na'));
    expect(na.isNeighborAdvertisement).toBe(true);
    expect([na.router, na.solicited, na.override]).toEqual([false, true, true]);
    expect(na.target).toBe('2001:db8::2');
    expect(na.linkAddressOffset(NdpOptionType.TARGET_LINK_ADDRESS)).toBe(80);

    const un = viewOf(msg('unsolicitedNa'));
    expect([un.router, un.solicited, un.override]).toEqual([false, false, true]);
    expect(un.target).toBe('fe80::ff:fe00:2');

    // Other types expose only the header and the body.
    const rs = viewOf(msg('rs'));
    expect([rs.type, rs.code, rs.bodyOffset, rs.bodyLength]).toEqual([Icmpv6Type.ROUTER_SOLICITATION, 0, 58, 12]);
    const mld = msg('mld');
    const mv = viewOf(mld);
    expect(mv.type).toBe(Icmpv6Type.MLDV2_REPORT);
    expect(mv.verifyChecksum(mld.pseudo)).toBe(true);
  });

  it('constructs a neighbor advertisement with the view setters', () => {
    const m = msg('na');
    const b = allocBytes(m.len, 0xa5);
    const v = new Icmpv6View(b, 0, m.len);
    v.type = 136;
    v.code = 0;
    v.ndFlags = 0x60000000;
    v.setTarget('2001:db8::2');
    b.u8.set(fromHex('0201020000000002'), v.optionsOffset);
    // The pseudo-header from text addresses must agree with the one read from the captured header.
    const pseudo = pseudoHeaderSumOf('2001:db8::2', '2001:db8::1', IPPROTO_ICMPV6, m.len);
    v.fillChecksum(pseudo);
    expect(v.checksum).toBe(0x8a71);
    expect(hex(b.u8)).toBe(hex(m.frame.subarray(m.off)));
    expect(v.verifyChecksum(pseudo)).toBe(true);
    expect(v.verifyChecksum(pseudo + 1)).toBe(false);
  });

  it('reports short messages as truncated', () => {
    const m = msg('ns');
    for (let n = 0; n < ICMPV6_HEADER_LEN; n++) expect(Icmpv6View.check(m.b, m.off, n)).toBe('truncated');
    // An NS or NA without its whole target address cannot be decoded.
    for (let n = ICMPV6_HEADER_LEN; n < NEIGHBOR_MESSAGE_LEN; n++) {
      expect(Icmpv6View.check(m.b, m.off, n)).toBe('truncated');
      expect(Icmpv6View.check(msg('na').b, 54, n)).toBe('truncated');
    }
    // Other types need only the 4-byte header.
    expect(Icmpv6View.check(msg('rs').b, 54, 4)).toBeInstanceOf(Icmpv6View);
    // Without options an NS is complete.
    expect(Icmpv6View.check(m.b, m.off, NEIGHBOR_MESSAGE_LEN)).toBeInstanceOf(Icmpv6View);
    expect(Icmpv6View.check(m.b, m.off, m.len + 1)).toBe('truncated');
  });

  it('rejects options whose length lies', () => {
    // All built from the real NS (frame 21) by editing its option bytes.
    const bad = (edit: (u8: Uint8Array) => Uint8Array): unknown => {
      const u8 = edit(fromHex(FRAMES.ns).slice(54));
      return Icmpv6View.check(bytesOf(u8), 0, u8.length);
    };
    // RFC 4861 §4.6: length 0 is invalid.
    expect(bad((u) => { u[25] = 0; return u; })).toBe('bad-option');
    // Length 2 (16 bytes) with only 8 present.
    expect(bad((u) => { u[25] = 2; return u; })).toBe('bad-option');
    // A stray byte after the last option, and a lone option type byte.
    const grow = (u: Uint8Array, extra: number[]): Uint8Array => {
      const out = new Uint8Array(u.length + extra.length);
      out.set(u);
      out.set(extra, u.length);
      return out;
    };
    expect(bad((u) => grow(u, [0x01]))).toBe('bad-option');
    expect(bad((u) => grow(u, [0x01, 0x00, 0, 0, 0, 0, 0, 0]))).toBe('bad-option');
    // Options are not parsed in other messages: an RS body is opaque.
    const rs = fromHex(FRAMES.rs).slice(54);
    rs[9] = 0;
    expect(Icmpv6View.check(bytesOf(rs), 0, rs.length)).toBeInstanceOf(Icmpv6View);
  });

  const expected: Record<keyof typeof FRAMES, Icmpv6Repr> = {
    dadNs: {
      kind: 'neighbor-solicitation',
      target: 'fe80::ff:fe00:2',
      options: [{ kind: 'raw', type: NdpOptionType.NONCE, data: fromHex('e585d33a6c9a') }],
    },
    unsolicitedNa: {
      kind: 'neighbor-advertisement',
      router: false,
      solicited: false,
      override: true,
      target: 'fe80::ff:fe00:2',
      options: [{ kind: 'target-link-address', mac: '02:00:00:00:00:02' }],
    },
    rs: { kind: 'other', type: 133, code: 0, body: fromHex('00000000 0101020000000002') },
    ns: {
      kind: 'neighbor-solicitation',
      target: '2001:db8::2',
      options: [{ kind: 'source-link-address', mac: '02:00:00:00:00:01' }],
    },
    na: {
      kind: 'neighbor-advertisement',
      router: false,
      solicited: true,
      override: true,
      target: '2001:db8::2',
      options: [{ kind: 'target-link-address', mac: '02:00:00:00:00:02' }],
    },
    mld: { kind: 'other', type: 143, code: 0, body: fromHex('00000001 04000000ff0200000000000000000001ff000002') },
  };

  // IPv6 source and destination of each frame, as text (for emit, independent of the captured header).
  const addresses: Record<keyof typeof FRAMES, [string, string]> = {
    dadNs: ['::', 'ff02::1:ff00:2'],
    unsolicitedNa: ['fe80::ff:fe00:2', 'ff02::1'],
    rs: ['fe80::ff:fe00:2', 'ff02::2'],
    ns: ['2001:db8::1', 'ff02::1:ff00:2'],
    na: ['2001:db8::2', '2001:db8::1'],
    mld: ['::', 'ff02::16'],
  };

  it('parses the records', () => {
    for (const name of Object.keys(FRAMES) as (keyof typeof FRAMES)[]) {
      const m = msg(name);
      expect(parseIcmpv6Repr(viewOf(m), m.pseudo), name).toEqual(expected[name]);
    }
    const nsOptions = (expected.ns as { options: NdpOption[] }).options;
    expect(ndpLinkAddress(nsOptions, 'source-link-address')).toBe('02:00:00:00:00:01');
    expect(ndpLinkAddress(nsOptions, 'target-link-address')).toBeUndefined();
  });

  it('emits the records to the real bytes', () => {
    for (const name of Object.keys(FRAMES) as (keyof typeof FRAMES)[]) {
      const m = msg(name);
      const repr = expected[name];
      expect(icmpv6ReprLen(repr), name).toBe(m.len);
      const [src, dst] = addresses[name];
      const b = allocBytes(m.len + 2, 0xa5);
      expect(emitIcmpv6Repr(repr, b, 1, pseudoHeaderSumOf(src, dst, IPPROTO_ICMPV6, m.len)), name).toBe(m.len);
      expect(hex(b.u8), name).toBe(`a5${hex(m.frame.subarray(m.off))}a5`);
    }
  });

  it('keeps a wrong checksum, a non-zero code and reserved bits', () => {
    // Built from the real NA (frame 22): checksum, code and the 29 reserved bits changed.
    const m = msg('na');
    const u8 = m.frame.slice(m.off);
    u8[1] = 7;
    u8[2] = 0x12;
    u8[3] = 0x34;
    u8[7] = 0x05;
    const v = Icmpv6View.check(bytesOf(u8), 0, u8.length);
    if (typeof v === 'string') throw new Error(v);
    expect(v.verifyChecksum(m.pseudo)).toBe(false);
    const repr = parseIcmpv6Repr(v, m.pseudo);
    expect(repr).toEqual({ ...expected.na, code: 7, reserved: 5, checksum: 0x1234 });
    const out = allocBytes(u8.length, 0xa5);
    emitIcmpv6Repr(repr, out, 0, m.pseudo);
    expect(hex(out.u8)).toBe(hex(u8));
    // The NS reserved word is all 32 bits.
    const ns = msg('ns');
    const n8 = ns.frame.slice(ns.off);
    n8[4] = 0x80;
    const nv = Icmpv6View.check(bytesOf(n8), 0, n8.length);
    if (typeof nv === 'string') throw new Error(nv);
    const nrepr = parseIcmpv6Repr(nv, ns.pseudo);
    expect(nrepr).toMatchObject({ reserved: 0x80000000 });
    expect(nrepr.checksum).toBeDefined();
    const nout = allocBytes(n8.length, 0xa5);
    emitIcmpv6Repr(nrepr, nout, 0, ns.pseudo);
    expect(hex(nout.u8)).toBe(hex(n8));
  });

  it('round-trips neighbor messages and fills checksums that verify', () => {
    const mac = fc
      .uint8Array({ minLength: 6, maxLength: 6 })
      .map((a) => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join(':'));
    const option: fc.Arbitrary<NdpOption> = fc.oneof(
      mac.map((m): NdpOption => ({ kind: 'source-link-address', mac: m })),
      mac.map((m): NdpOption => ({ kind: 'target-link-address', mac: m })),
      fc
        .record({ type: fc.integer({ min: 0, max: 255 }), units: fc.integer({ min: 1, max: 4 }), seed: fc.integer() })
        .filter((r) => r.units !== 1 || (r.type !== 1 && r.type !== 2))
        .map((r): NdpOption => ({ kind: 'raw', type: r.type, data: new Uint8Array(8 * r.units - 2).fill(r.seed & 0xff) })),
    );
    // Canonical text (RFC 5952) so that addresses compare equal after a round trip.
    const v6 = fc.ipV6().map((a) => {
      const b = allocBytes(16);
      writeIpv6(a, b, 0);
      return formatIpv6(b, 0);
    });
    const repr: fc.Arbitrary<Icmpv6Repr> = fc.oneof(
      fc
        .record({ target: v6, options: fc.array(option, { maxLength: 4 }) })
        .map((r): Icmpv6Repr => ({ kind: 'neighbor-solicitation', ...r })),
      fc
        .record({
          router: fc.boolean(),
          solicited: fc.boolean(),
          override: fc.boolean(),
          target: v6,
          options: fc.array(option, { maxLength: 4 }),
        })
        .map((r): Icmpv6Repr => ({ kind: 'neighbor-advertisement', ...r })),
    );
    fc.assert(
      fc.property(repr, v6, v6, (r, src, dst) => {
        const len = icmpv6ReprLen(r);
        const pseudo = pseudoHeaderSumOf(src, dst, IPPROTO_ICMPV6, len);
        const b = allocBytes(len, 0xa5);
        emitIcmpv6Repr(r, b, 0, pseudo);
        const v = Icmpv6View.check(b, 0, len);
        if (typeof v === 'string') throw new Error(v);
        expect(v.verifyChecksum(pseudo)).toBe(true);
        expect(parseIcmpv6Repr(v, pseudo)).toEqual(r);
      }),
    );
  });
});
