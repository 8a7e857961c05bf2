/**
 * IEEE 802.1Q VLAN tags (C-tag, TPID 0x8100) and 802.1ad service tags (S-tag, TPID 0x88a8; 0x9100 on
 * older gear), stacked any number of times ("QinQ", "QinQinQ").
 *
 * On the wire a tag is TPID + TCI, inserted before the EtherType. Read left to right, the TPID sits in
 * the slot where an EtherType would be, so the codec here covers the 4 bytes AFTER that slot:
 *
 *        TPID (the Ethernet EtherType slot, or the previous tag's inner EtherType)
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | PCP |D|          VID          |   inner EtherType (or TPID)   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  \______ TCI (Tag Control Information) ___/
 *
 * Where the TPID lives in records: a `VlanTag` carries the TPID that ANNOUNCES it (`tag.tpid`), so a
 * tag stands alone and 0x8100 / 0x88a8 stacks keep their kinds. The bytes of that TPID belong to the
 * header before the tag: `EthernetRepr.etherType` for the outermost tag (equal to `tags[0].tpid`), the
 * previous tag's last two bytes for the others. `emitVlanTags(tags, protocol)` therefore writes, for tag
 * i, its TCI followed by `tags[i + 1].tpid`, and `protocol` after the last tag; the Ethernet header in
 * front of it must carry `vlanOuterEtherType(tags, protocol)`. With that, emitting
 * [ethernet, tags..., payload] reproduces the captured bytes.
 */
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import type { EthernetView } from './ethernet.js';
import { EtherType } from './linktype.js';
import type { LinkNext } from './linktype.js';

const F = {
  TCI: 0,
  ETHER_TYPE: 2,
} as const;

export const VLAN_TAG_LEN = 4;

/**
 * How many stacked tags `walkVlanTags` decodes before it stops. Three is the most in any capture we have
 * (zeek-vlan-qinqinq.pcap); the limit only exists so that a frame made of nothing but tags ends.
 */
export const VLAN_MAX_DEPTH = 8;

/** TPIDs that announce a tag. 0x9100 is not in 802.1ad but older switches used it for S-tags. */
export function isVlanTpid(etherType: number): boolean {
  return etherType === EtherType.VLAN || etherType === EtherType.QINQ || etherType === EtherType.QINQ_OLD;
}

export class VlanView {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  static check(b: Bytes, off: number, len: number): VlanView | WireError {
    if (len < VLAN_TAG_LEN || off + len > b.u8.length) return 'truncated';
    return new VlanView(b, off, len);
  }

  get tci(): number { return this.b.dv.getUint16(this.off + F.TCI); }
  /** Priority Code Point (802.1p), 0..7. */
  get pcp(): number { return this.tci >>> 13; }
  /** Drop Eligible Indicator (was CFI in 802.1Q-2005). */
  get dei(): boolean { return (this.tci & 0x1000) !== 0; }
  /** VLAN identifier, 0..4095; 0 means priority-tagged only (zeek-http-vlan-0.pcap). */
  get vid(): number { return this.tci & 0x0fff; }
  get etherType(): number { return this.b.dv.getUint16(this.off + F.ETHER_TYPE); }
  get payloadOffset(): number { return this.off + VLAN_TAG_LEN; }
  get payloadLength(): number { return this.len - VLAN_TAG_LEN; }

  set tci(v: number) { this.b.dv.setUint16(this.off + F.TCI, v); }
  set pcp(v: number) { this.tci = (this.tci & 0x1fff) | ((v & 7) << 13); }
  set dei(v: boolean) { this.tci = v ? this.tci | 0x1000 : this.tci & ~0x1000 & 0xffff; }
  set vid(v: number) { this.tci = (this.tci & 0xf000) | (v & 0x0fff); }
  set etherType(v: number) { this.b.dv.setUint16(this.off + F.ETHER_TYPE, v); }
}

/** One tag. `tpid` is the value in the EtherType slot in front of the tag (see the file comment). */
export interface VlanTag {
  tpid: number;
  pcp: number;
  dei: boolean;
  vid: number;
}

/** The tag at `view`, announced by `tpid` (the EtherType read just before it). */
export function parseVlanTag(view: VlanView, tpid: number): VlanTag {
  return { tpid, pcp: view.pcp, dei: view.dei, vid: view.vid };
}

export function vlanTagHeaderLen(_tag: VlanTag): number {
  return VLAN_TAG_LEN;
}

/** Writes the tag's TCI and `innerEtherType` (the next tag's TPID, or the payload's EtherType). */
export function emitVlanTag(tag: VlanTag, innerEtherType: number, b: Bytes, off: number): number {
  if (tag.pcp < 0 || tag.pcp > 7 || tag.vid < 0 || tag.vid > 0xfff) {
    throw new RangeError(`VLAN tag out of range: pcp ${tag.pcp}, vid ${tag.vid}`);
  }
  const view = new VlanView(b, off, VLAN_TAG_LEN);
  view.tci = (tag.pcp << 13) | (tag.dei ? 0x1000 : 0) | tag.vid;
  view.etherType = innerEtherType;
  return VLAN_TAG_LEN;
}

/** A decoded tag stack, outermost tag first, and what follows the innermost tag. */
export interface VlanStack extends LinkNext {
  readonly tags: VlanTag[];
  /**
   * True when `maxDepth` tags were decoded and another TPID followed: `protocol` is then that TPID and
   * `offset` points at its TCI, so the rest of the frame stays an opaque payload of an unknown protocol.
   */
  readonly depthLimited: boolean;
}

/**
 * Walks the tags that follow an EtherType slot holding `etherType`. `off`/`len` is the region right after
 * that slot (an Ethernet header's payload). Untagged frames give no tags and `protocol === etherType`.
 */
export function walkVlanTags(
  b: Bytes,
  off: number,
  len: number,
  etherType: number,
  maxDepth = VLAN_MAX_DEPTH,
): VlanStack | WireError {
  const tags: VlanTag[] = [];
  let protocol = etherType;
  let pos = off;
  const end = off + len;
  let depthLimited = false;
  while (isVlanTpid(protocol)) {
    if (tags.length >= maxDepth) {
      depthLimited = true;
      break;
    }
    const view = VlanView.check(b, pos, end - pos);
    if (typeof view === 'string') return view;
    tags.push(parseVlanTag(view, protocol));
    protocol = view.etherType;
    pos += VLAN_TAG_LEN;
  }
  return { tags, protocol, offset: pos, length: end - pos, depthLimited };
}

/** `walkVlanTags` over the payload of an Ethernet header. */
export function walkEthernetVlanTags(eth: EthernetView, maxDepth = VLAN_MAX_DEPTH): VlanStack | WireError {
  return walkVlanTags(eth.b, eth.payloadOffset, eth.payloadLength, eth.etherType, maxDepth);
}

/** The value the Ethernet header's EtherType slot must hold in front of `tags`. */
export function vlanOuterEtherType(tags: readonly VlanTag[], protocol: number): number {
  const first = tags[0];
  return first === undefined ? protocol : first.tpid;
}

export function vlanTagsLen(tags: readonly VlanTag[]): number {
  return VLAN_TAG_LEN * tags.length;
}

/** Writes the stack after an EtherType slot that holds `vlanOuterEtherType(tags, protocol)`. */
export function emitVlanTags(tags: readonly VlanTag[], protocol: number, b: Bytes, off: number): number {
  let pos = off;
  for (let i = 0; i < tags.length; i++) {
    const next = tags[i + 1];
    pos += emitVlanTag(tags[i] as VlanTag, next === undefined ? protocol : next.tpid, b, pos);
  }
  return pos - off;
}
