/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Block Type                           |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Block Total Length                       |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * /                          Block Body                           /  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Block Total Length                       |  len - 4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A Section Header Block starts each section and fixes its byte order (its type 0x0A0D0D0A reads the
 * same both ways; the byte-order magic after the length tells). Interface Description Blocks number
 * the section's interfaces from 0; packet blocks name one. Options are TLVs (code u16, length u16,
 * value padded to 4 bytes) ending with opt_endofopt (code 0).
 *
 * Enhanced Packet Block body (Obsolete Packet Block: the same with a 16-bit interface id and a 16-bit
 * drops count in the first word):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Interface ID                          |  8
 * |                        Timestamp (High)                       | 12
 * |                        Timestamp (Low)                        | 16
 * |                    Captured Packet Length                     | 20
 * |                    Original Packet Length                     | 24
 * /                 Packet Data (padded to 32 bits)               /  28
 * /                           Options                             /
 */
import { ReaderBase } from './base.js';
import type { CaptureFrame } from './frame.js';
import type { ChunkSource } from './source.js';
import { MICROSECONDS, tsResolution, unitsToTime } from './timestamp.js';

export const BLOCK_TYPE = {
  SHB: 0x0a0d0d0a,
  IDB: 1,
  /** Obsolete Packet Block (pcapng 1.0's "Packet Block"); still written by old tools. */
  OPB: 2,
  SPB: 3,
  NRB: 4,
  ISB: 5,
  EPB: 6,
  /** systemd Journal Export Block. */
  JOURNAL: 9,
  DSB: 10,
  /** Custom blocks, copyable and not: a Private Enterprise Number, then data. */
  CB_COPY: 0x00000bad,
  CB_NO_COPY: 0x40000bad,
} as const;

export const BLOCK = { TYPE: 0, TOTAL_LEN: 4, BODY: 8, MIN_LEN: 12 } as const;
export const SHB = { BYTE_ORDER_MAGIC: 8, VERSION_MAJOR: 12, VERSION_MINOR: 14, SECTION_LEN: 16, OPTIONS: 24, MIN_LEN: 28 } as const;
export const IDB = { LINKTYPE: 8, RESERVED: 10, SNAPLEN: 12, OPTIONS: 16, MIN_LEN: 20 } as const;
export const EPB = { INTERFACE_ID: 8, TS_HIGH: 12, TS_LOW: 16, CAP_LEN: 20, ORIG_LEN: 24, DATA: 28, MIN_LEN: 32 } as const;
export const OPB = { INTERFACE_ID: 8, DROPS: 10, TS_HIGH: 12, TS_LOW: 16, CAP_LEN: 20, ORIG_LEN: 24, DATA: 28, MIN_LEN: 32 } as const;
export const SPB = { ORIG_LEN: 8, DATA: 12, MIN_LEN: 16 } as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

export const OPT = {
  ENDOFOPT: 0,
  COMMENT: 1,
  SHB_HARDWARE: 2,
  SHB_OS: 3,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_DESCRIPTION: 3,
  IF_TSRESOL: 9,
  IF_FCSLEN: 13,
  IF_TSOFFSET: 14,
} as const;

export function pad4(n: number): number {
  return (n + 3) & ~3;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Option strings are not NUL-terminated by the spec, but some writers add a NUL (and leave garbage
 * after it inside the option's length): the string ends at the first NUL, as Wireshark reads it.
 */
function decodeString(u8: Uint8Array, start: number, len: number): string {
  let end = start;
  const stop = start + len;
  while (end < stop && u8[end] !== 0) end++;
  return utf8.decode(u8.subarray(start, end));
}

/** What one block produced: a frame, nothing (go on), or damage (the reader has stopped). */
type Step = CaptureFrame | 'more' | null;

export class PcapngReader extends ReaderBase {
  readonly format = 'pcapng' as const;
  /** Byte order of the current section. */
  private le = true;
  private section = -1;
  /** Global id of the current section's interface 0, and how many the section has defined. */
  private ifBase = 0;
  private ifCount = 0;

  constructor(file: string, src: ChunkSource, maxRecord: number) {
    super(file, src, maxRecord);
    // Read the first SHB and the IDBs right after it, so `interfaces` is filled at open in the usual file.
    if (this.block() !== 'more') return;
    while (src.ensure(8) && src.bytes.dv.getUint32(src.pos, this.le) === BLOCK_TYPE.IDB) {
      if (this.block() !== 'more') return;
    }
  }

  next(): CaptureFrame | null {
    if (this.done) return null;
    for (;;) {
      const r = this.block();
      if (r !== 'more') return r;
    }
  }

  /** Reads one block: checks its framing, then hands the body to the block's reader. */
  private block(): Step {
    const src = this.src;
    if (!src.ensure(BLOCK.BODY)) {
      if (src.available === 0) return this.end();
      return this.short(src.offset, 'block header', BLOCK.BODY);
    }
    const off = src.offset;
    let dv = src.bytes.dv;
    let p = src.pos;
    const type = dv.getUint32(p + BLOCK.TYPE, this.le);
    if (type === BLOCK_TYPE.SHB) {
      // A new section may change the byte order, so read its byte-order magic before its length.
      if (!src.ensure(SHB.BYTE_ORDER_MAGIC + 4)) return this.short(off, 'section header block', SHB.MIN_LEN);
      const bom = src.bytes.dv.getUint32(src.pos + SHB.BYTE_ORDER_MAGIC, false);
      if (bom === BYTE_ORDER_MAGIC) this.le = false;
      else if (bom === BYTE_ORDER_MAGIC_SWAPPED) this.le = true;
      else return this.fail(off, `section header block: bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`);
      dv = src.bytes.dv;
      p = src.pos;
    }
    const le = this.le;
    const len = dv.getUint32(p + BLOCK.TOTAL_LEN, le);
    const what = blockName(type);
    // A length below 12 (0 would loop forever), not a multiple of 4, or beyond the bound is damage;
    // checking it before reading means a lying length never sizes an allocation.
    if (len < BLOCK.MIN_LEN) return this.fail(off, `${what}: block length ${len} is less than 12`);
    if ((len & 3) !== 0) return this.fail(off, `${what}: block length ${len} is not a multiple of 4`);
    if (len > this.maxRecord) return this.fail(off, `${what}: block claims ${len} bytes (limit ${this.maxRecord})`);
    if (!src.ensure(len)) return this.short(off, what, len);
    dv = src.bytes.dv;
    p = src.pos;
    const trailer = dv.getUint32(p + len - 4, le);
    if (trailer !== len) return this.fail(off, `${what}: trailing block length ${trailer} differs from leading ${len}`);
    let r: Step = 'more';
    switch (type) {
      case BLOCK_TYPE.SHB:
        r = this.readShb(p, len, off);
        break;
      case BLOCK_TYPE.IDB:
        r = this.readIdb(p, len, off);
        break;
      case BLOCK_TYPE.EPB:
        r = this.readPacket(p, len, off, false);
        break;
      case BLOCK_TYPE.OPB:
        r = this.readPacket(p, len, off, true);
        break;
      case BLOCK_TYPE.SPB:
        r = this.readSpb(p, len, off);
        break;
      case BLOCK_TYPE.JOURNAL:
      case BLOCK_TYPE.CB_COPY:
      case BLOCK_TYPE.CB_NO_COPY:
        // Not packets, but Wireshark (4.0) shows each as a frame: count it so that frame numbers
        // stay Wireshark's, and deliver nothing.
        this.stats.otherRecords++;
        break;
      default:
        // NRB (names), ISB (interface statistics), DSB (TLS keys) and unknown blocks carry nothing a
        // frame needs; the spec asks readers to skip blocks they do not know.
        break;
    }
    if (r !== null) src.pos = p + len;
    return r;
  }

  private readShb(p: number, len: number, off: number): Step {
    if (len < SHB.MIN_LEN) return this.fail(off, `section header block: length ${len} is less than ${SHB.MIN_LEN}`);
    const dv = this.src.bytes.dv;
    const major = dv.getUint16(p + SHB.VERSION_MAJOR, this.le);
    const minor = dv.getUint16(p + SHB.VERSION_MINOR, this.le);
    if (major !== 1) return this.fail(off, `unsupported pcapng version ${major}.${minor}`);
    // Interface ids restart in each section; `interfaces` keeps them all, numbered on as Wireshark does.
    this.section++;
    this.ifBase = this.interfaces.length;
    this.ifCount = 0;
    return 'more';
  }

  private readIdb(p: number, len: number, off: number): Step {
    if (len < IDB.MIN_LEN) return this.fail(off, `interface description block: length ${len} is less than ${IDB.MIN_LEN}`);
    if (this.section < 0) return this.fail(off, 'interface description block before any section header');
    const u8 = this.src.bytes.u8;
    const dv = this.src.bytes.dv;
    const le = this.le;
    const linkType = dv.getUint16(p + IDB.LINKTYPE, le);
    const snaplen = dv.getUint32(p + IDB.SNAPLEN, le);
    let tsres = MICROSECONDS;
    let tsOffset = 0;
    let name: string | null = null;
    let description: string | null = null;
    let fcsLen: number | null = null;
    const end = p + len - 4;
    let o = p + IDB.OPTIONS;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === OPT.ENDOFOPT) break;
      const v = o + 4;
      if (v + olen > end) return this.fail(off, `interface description block: option ${code} of ${olen} bytes runs past the block`);
      if (code === OPT.IF_TSRESOL && olen >= 1) {
        const r = tsResolution(u8[v] as number);
        if (r === null) return this.fail(off, `interface description block: if_tsresol 0x${(u8[v] as number).toString(16)} is finer than a 64-bit count can hold`);
        tsres = r;
      } else if (code === OPT.IF_TSOFFSET && olen === 8) {
        // A signed 64-bit count of seconds; real offsets are far below 2^53.
        const hi = le ? dv.getInt32(v + 4, true) : dv.getInt32(v, false);
        const lo = le ? dv.getUint32(v, true) : dv.getUint32(v + 4, false);
        tsOffset = hi * 4294967296 + lo;
      } else if (code === OPT.IF_NAME) {
        name = decodeString(u8, v, olen);
      } else if (code === OPT.IF_DESCRIPTION) {
        description = decodeString(u8, v, olen);
      } else if (code === OPT.IF_FCSLEN && olen === 1) {
        fcsLen = u8[v] as number;
      }
      o = v + pad4(olen);
    }
    this.interfaces.push({
      id: this.interfaces.length,
      section: this.section,
      localId: this.ifCount,
      linkType,
      snaplen,
      tsresol: tsres.raw,
      tsResolution: tsres,
      tsOffset,
      name,
      description,
      fcsBits: 0,
      fcsLen,
    });
    this.ifCount++;
    return 'more';
  }

  /** EPB, or OPB when `obsolete`: the same layout but for the width of the interface id. */
  private readPacket(p: number, len: number, off: number, obsolete: boolean): Step {
    const what = obsolete ? 'obsolete packet block' : 'enhanced packet block';
    if (len < EPB.MIN_LEN) return this.fail(off, `${what}: length ${len} is less than ${EPB.MIN_LEN}`);
    const dv = this.src.bytes.dv;
    const le = this.le;
    const local = obsolete ? dv.getUint16(p + OPB.INTERFACE_ID, le) : dv.getUint32(p + EPB.INTERFACE_ID, le);
    if (local >= this.ifCount) {
      return this.fail(off, `${what} refers to interface ${local}, but section ${this.section} defines ${this.ifCount}`);
    }
    const capLen = dv.getUint32(p + EPB.CAP_LEN, le);
    const room = len - EPB.MIN_LEN;
    if (capLen > room) return this.fail(off, `${what}: captured length ${capLen} exceeds the block's ${room} bytes of data`);
    const iface = this.interfaces[this.ifBase + local]!;
    const f = this.frame;
    unitsToTime(dv.getUint32(p + EPB.TS_HIGH, le), dv.getUint32(p + EPB.TS_LOW, le), iface.tsResolution, iface.tsOffset, f);
    f.interfaceId = iface.id;
    f.linkType = iface.linkType;
    f.comment = null;
    const data = p + EPB.DATA;
    if (!this.readComments(data + pad4(capLen), p + len - 4, off, what)) return null;
    return this.deliver(capLen, dv.getUint32(p + EPB.ORIG_LEN, le), data, off);
  }

  private readSpb(p: number, len: number, off: number): Step {
    if (len < SPB.MIN_LEN) return this.fail(off, `simple packet block: length ${len} is less than ${SPB.MIN_LEN}`);
    if (this.ifCount === 0) return this.fail(off, `simple packet block, but section ${this.section} defines no interface`);
    const dv = this.src.bytes.dv;
    const origLen = dv.getUint32(p + SPB.ORIG_LEN, this.le);
    const iface = this.interfaces[this.ifBase]!;
    // An SPB does not store its captured length: it is the original length cut to interface 0's
    // snaplen (pcapng §4.4), and the block must hold that much.
    const capLen = iface.snaplen !== 0 && origLen > iface.snaplen ? iface.snaplen : origLen;
    const room = len - SPB.MIN_LEN;
    if (capLen > room) return this.fail(off, `simple packet block: packet of ${capLen} bytes exceeds the block's ${room} bytes of data`);
    const f = this.frame;
    // No timestamp in an SPB; Wireshark shows none.
    f.tsSec = 0;
    f.tsNsec = 0;
    f.interfaceId = iface.id;
    f.linkType = iface.linkType;
    f.comment = null;
    return this.deliver(capLen, origLen, p + SPB.DATA, off);
  }

  /** Packet block options from `o` to `end`: keeps `opt_comment`s in the frame. False on damage. */
  private readComments(o: number, end: number, off: number, what: string): boolean {
    const dv = this.src.bytes.dv;
    const le = this.le;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === OPT.ENDOFOPT) break;
      if (o + 4 + olen > end) {
        this.fail(off, `${what}: option ${code} of ${olen} bytes runs past the block`);
        return false;
      }
      if (code === OPT.COMMENT) {
        const c = decodeString(this.src.bytes.u8, o + 4, olen);
        const f = this.frame;
        f.comment = f.comment === null ? c : `${f.comment}\n${c}`;
      }
      o += 4 + pad4(olen);
    }
    return true;
  }
}

function blockName(type: number): string {
  switch (type) {
    case BLOCK_TYPE.SHB:
      return 'section header block';
    case BLOCK_TYPE.IDB:
      return 'interface description block';
    case BLOCK_TYPE.EPB:
      return 'enhanced packet block';
    case BLOCK_TYPE.OPB:
      return 'obsolete packet block';
    case BLOCK_TYPE.SPB:
      return 'simple packet block';
    default:
      return `block of type 0x${type.toString(16).padStart(8, '0')}`;
  }
}
