import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { emitEthernetRepr, EthernetView, parseEthernetRepr } from '../../src/wire/ethernet.js';
import { EtherType } from '../../src/wire/linktype.js';
import {
  emitVlanTag,
  emitVlanTags,
  isVlanTpid,
  parseVlanTag,
  VLAN_MAX_DEPTH,
  VLAN_TAG_LEN,
  vlanOuterEtherType,
  vlanTagHeaderLen,
  vlanTagsLen,
  VlanView,
  walkEthernetVlanTags,
  walkVlanTags,
} from '../../src/wire/vlan.js';
import type { VlanStack, VlanTag } from '../../src/wire/vlan.js';

const IPV4_SYN_64 =
  '45000040df8e400040066dd38d8ee405c096bb2be9d00050fe21323a00000000b002ffff3bc00000020405b4010303040101080a164add200000000004020000';
// zeek-vlan-qinqinq.pcap frame 1 (90 bytes): three 802.1Q tags, VIDs 30, 20, 10 outermost first.
const QINQINQ_1 = fromHex('0010db88d2ef c8bcc896d2a0 8100 001e 8100 0014 8100 000a 0800' + IPV4_SYN_64);
// zeek-http-vlan-0.pcap frame 1 (82 bytes): priority tag only, TCI 0xb000 = PCP 5, DEI 1, VID 0.
const VLAN0_1 = fromHex('0010db88d2ef c8bcc896d2a0 8100 b000 0800' + IPV4_SYN_64);
// zeek-vlan-collisions.pcap frame 6 (86 bytes): two tags, TCI 0x500a and 0x5014 (PCP 2, DEI 1, VID 10/20).
const COLLISIONS_6 = fromHex('0010db88d2ef c8bcc896d2a0 8100 500a 8100 5014 0800' + IPV4_SYN_64);
// sv-syn-retransmit-with-ts.pcap frame 1 (82 bytes): one tag, VID 3136.
const SV_SYN_1 = fromHex(
  '005056011276 005056011270 8100 0c40 0800' +
    '4500003cd73a40004006580f0a26fb920a26fb93825c00509c9de94800000000a00272107e470000020405b40402080a05313e720000000001030307dab7ec04',
);

function eth(u8: Uint8Array): EthernetView {
  const v = EthernetView.check(bytesOf(u8), 0, u8.length);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

function stack(x: VlanStack | string): VlanStack {
  if (typeof x === 'string') throw new Error(`unexpected ${x}`);
  return x;
}

/** Emits [ethernet, tags..., payload] the way the frame assembler will. */
function assemble(dst: string, src: string, tags: VlanTag[], protocol: number, payload: Uint8Array): Bytes {
  const b = allocBytes(14 + vlanTagsLen(tags) + payload.length, 0xa5);
  let pos = emitEthernetRepr({ dst, src, etherType: vlanOuterEtherType(tags, protocol) }, b, 0);
  pos += emitVlanTags(tags, protocol, b, pos);
  b.u8.set(payload, pos);
  return b;
}

describe('802.1Q / 802.1ad tags', () => {
  it('deconstructs a real tag', () => {
    const v = VlanView.check(bytesOf(VLAN0_1), 14, VLAN0_1.length - 14);
    if (typeof v === 'string') throw new Error(v);
    expect(v.tci).toBe(0xb000);
    expect(v.pcp).toBe(5);
    expect(v.dei).toBe(true);
    expect(v.vid).toBe(0);
    expect(v.etherType).toBe(0x0800);
    expect(v.payloadOffset).toBe(18);
    expect(v.payloadLength).toBe(64);

    const s = VlanView.check(bytesOf(SV_SYN_1), 14, 4);
    if (typeof s === 'string') throw new Error(s);
    expect([s.pcp, s.dei, s.vid, s.etherType]).toEqual([0, false, 3136, 0x0800]);
  });

  it('walks a stack of three tags', () => {
    const st = stack(walkEthernetVlanTags(eth(QINQINQ_1)));
    expect(st).toEqual({
      tags: [
        { tpid: 0x8100, pcp: 0, dei: false, vid: 30 },
        { tpid: 0x8100, pcp: 0, dei: false, vid: 20 },
        { tpid: 0x8100, pcp: 0, dei: false, vid: 10 },
      ],
      protocol: 0x0800,
      offset: 26,
      length: 64,
      depthLimited: false,
    });
    expect(QINQINQ_1[st.offset]).toBe(0x45);
  });

  it('walks an untagged frame to no tags', () => {
    // sv-syn-retransmit-with-ts.pcap frame 3 header: untagged.
    const u8 = fromHex('005056011270 005056011276 0800 4500');
    expect(stack(walkEthernetVlanTags(eth(u8)))).toEqual({
      tags: [],
      protocol: 0x0800,
      offset: 14,
      length: 2,
      depthLimited: false,
    });
  });

  it('constructs a tag with the view setters', () => {
    const b = allocBytes(4, 0xa5);
    const v = new VlanView(b, 0, 4);
    v.tci = 0;
    v.pcp = 2;
    v.dei = true;
    v.vid = 10;
    v.etherType = 0x8100;
    expect(hex(b.u8)).toBe(hex(COLLISIONS_6.subarray(14, 18)));
    v.dei = false;
    expect(v.tci).toBe(0x400a);
    v.pcp = 0;
    v.vid = 3136;
    v.etherType = 0x0800;
    expect(hex(b.u8)).toBe(hex(SV_SYN_1.subarray(14, 18)));
  });

  it('reports short tags as truncated', () => {
    for (let n = 0; n < VLAN_TAG_LEN; n++) {
      expect(VlanView.check(bytesOf(VLAN0_1), 14, n)).toBe('truncated');
    }
    // Cut the QinQinQ frame anywhere inside its tags: the walk must say truncated, not read past.
    for (let cut = 14; cut < 26; cut++) {
      const u8 = QINQINQ_1.subarray(0, cut);
      const e = EthernetView.check(bytesOf(u8), 0, cut);
      if (typeof e === 'string') throw new Error(e);
      expect(walkEthernetVlanTags(e)).toBe('truncated');
    }
    expect(stack(walkEthernetVlanTags(eth(QINQINQ_1.subarray(0, 26)))).length).toBe(0);
  });

  it('stops a frame made of tags at the depth limit', () => {
    // Built for this test: a header followed by 40 tags that each announce another tag.
    const hostile = new Uint8Array(14 + 4 * 40 + 2);
    hostile.set(QINQINQ_1.subarray(0, 12));
    for (let pos = 12; pos + 2 <= hostile.length; pos += 2) {
      hostile[pos] = 0x81;
      hostile[pos + 1] = 0x00;
    }
    const st = stack(walkEthernetVlanTags(eth(hostile)));
    expect(st.depthLimited).toBe(true);
    expect(st.tags.length).toBe(VLAN_MAX_DEPTH);
    expect(st.protocol).toBe(0x8100);
    expect(st.offset).toBe(14 + 4 * VLAN_MAX_DEPTH);
    // The bytes still re-emit exactly: the undecoded tags travel as the payload.
    const e = parseEthernetRepr(eth(hostile));
    const out = assemble(e.dst, e.src, st.tags, st.protocol, hostile.subarray(st.offset));
    expect(hex(out.u8)).toBe(hex(hostile));

    // A lower limit on a real frame stops at the third tag's TCI.
    const two = stack(walkEthernetVlanTags(eth(QINQINQ_1), 2));
    expect(two.depthLimited).toBe(true);
    expect(two.tags.map((t) => t.vid)).toEqual([30, 20]);
    expect(two.protocol).toBe(0x8100);
    expect(two.offset).toBe(22);
    expect(two.length).toBe(68);
  });

  it('recognises S-tag TPIDs', () => {
    expect([0x8100, 0x88a8, 0x9100].map(isVlanTpid)).toEqual([true, true, true]);
    expect([0x0800, 0x86dd, 0x9200, 0x8847].map(isVlanTpid)).toEqual([false, false, false, false]);
    // No capture has an 802.1ad stack: this is COLLISIONS_6 with its outer TPID changed to 0x88a8.
    const u8 = COLLISIONS_6.slice();
    u8[12] = 0x88;
    u8[13] = 0xa8;
    const st = stack(walkEthernetVlanTags(eth(u8)));
    expect(st.tags).toEqual([
      { tpid: EtherType.QINQ, pcp: 2, dei: true, vid: 10 },
      { tpid: EtherType.VLAN, pcp: 2, dei: true, vid: 20 },
    ]);
    const e = parseEthernetRepr(eth(u8));
    expect(e.etherType).toBe(0x88a8);
    expect(hex(assemble(e.dst, e.src, st.tags, st.protocol, u8.subarray(st.offset)).u8)).toBe(hex(u8));
  });

  it('parses tag records', () => {
    const v = VlanView.check(bytesOf(SV_SYN_1), 14, 68);
    if (typeof v === 'string') throw new Error(v);
    expect(parseVlanTag(v, 0x8100)).toEqual({ tpid: 0x8100, pcp: 0, dei: false, vid: 3136 });
    expect(stack(walkEthernetVlanTags(eth(COLLISIONS_6))).tags).toEqual([
      { tpid: 0x8100, pcp: 2, dei: true, vid: 10 },
      { tpid: 0x8100, pcp: 2, dei: true, vid: 20 },
    ]);
  });

  it('emits [ethernet, tags, payload] to the real bytes', () => {
    const dst = '00:10:db:88:d2:ef';
    const src = 'c8:bc:c8:96:d2:a0';
    const payload = fromHex(IPV4_SYN_64);
    const c = (vid: number, pcp = 0, dei = false): VlanTag => ({ tpid: 0x8100, pcp, dei, vid });
    expect(hex(assemble(dst, src, [c(30), c(20), c(10)], 0x0800, payload).u8)).toBe(hex(QINQINQ_1));
    expect(hex(assemble(dst, src, [c(0, 5, true)], 0x0800, payload).u8)).toBe(hex(VLAN0_1));
    expect(hex(assemble(dst, src, [c(10, 2, true), c(20, 2, true)], 0x0800, payload).u8)).toBe(hex(COLLISIONS_6));
    const sv = assemble('00:50:56:01:12:76', '00:50:56:01:12:70', [c(3136)], 0x0800, SV_SYN_1.subarray(18));
    expect(hex(sv.u8)).toBe(hex(SV_SYN_1));

    const one = allocBytes(6, 0xa5);
    expect(emitVlanTag(c(3136), 0x0800, one, 1)).toBe(4);
    expect(vlanTagHeaderLen(c(1))).toBe(4);
    expect(hex(one.u8)).toBe('a50c400800a5');
    expect(() => emitVlanTag(c(4096), 0x0800, one, 0)).toThrow(RangeError);
    expect(() => emitVlanTag(c(1, 8), 0x0800, one, 0)).toThrow(RangeError);
  });

  it('round-trips any stack', () => {
    const tag = fc.record({
      tpid: fc.constantFrom(0x8100, 0x88a8, 0x9100),
      pcp: fc.integer({ min: 0, max: 7 }),
      dei: fc.boolean(),
      vid: fc.integer({ min: 0, max: 4095 }),
    });
    fc.assert(
      fc.property(
        fc.array(tag, { maxLength: VLAN_MAX_DEPTH }),
        fc.integer({ min: 0, max: 0xffff }).filter((p) => !isVlanTpid(p)),
        (tags, protocol) => {
          const b = assemble('02:00:00:00:00:01', '02:00:00:00:00:02', tags, protocol, new Uint8Array(3));
          const st = walkVlanTags(b, 14, b.u8.length - 14, b.dv.getUint16(12));
          expect(st).toEqual({ tags, protocol, offset: 14 + 4 * tags.length, length: 3, depthLimited: false });
        },
      ),
    );
  });
});
