/**
 * Classic pcap (libpcap's savefile format, draft-ietf-opsawg-pcap): a 24-byte file header, then records
 * of a 16-byte header and the captured bytes. The magic tells both the byte order (it reads as
 * 0xa1b2c3d4 in the writer's order) and the timestamp unit (0xa1b23c4d = nanoseconds).
 *
 * File header:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Magic Number                         |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Major Version        |         Minor Version         |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Reserved1 (thiszone)                      |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Reserved2 (sigfigs)                       | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            SnapLen                            | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | FCS len |R|P|     Reserved3       |        Link-layer type      | 20
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Record header:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Timestamp (Seconds)                      |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Timestamp (Microseconds or nanoseconds)            |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Captured Packet Length                     |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Original Packet Length                     | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * /                          Packet Data                          /
 */
import { ReaderBase } from './base.js';
import { STANDARD_MAX_PACKET } from './frame.js';
import type { CaptureFrame } from './frame.js';
import type { ChunkSource } from './source.js';
import { MICROSECONDS, NANOSECONDS } from './timestamp.js';

export const PCAP_HDR = {
  MAGIC: 0,
  VERSION_MAJOR: 4,
  VERSION_MINOR: 6,
  THISZONE: 8,
  SIGFIGS: 12,
  SNAPLEN: 16,
  LINKTYPE: 20,
  LEN: 24,
} as const;

export const PCAP_REC = {
  TS_SEC: 0,
  TS_FRAC: 4,
  CAP_LEN: 8,
  ORIG_LEN: 12,
  LEN: 16,
} as const;

/** Magic numbers as read in the writer's byte order; read in the other order they appear swapped. */
export const PCAP_MAGIC = {
  MICROSECOND: 0xa1b2c3d4,
  NANOSECOND: 0xa1b23c4d,
  MICROSECOND_SWAPPED: 0xd4c3b2a1,
  NANOSECOND_SWAPPED: 0x4d3cb2a1,
} as const;

/** libpcap's LT_FCS_LENGTH_PRESENT: bit 26 says the top 4 bits hold the FCS length in 16-bit words. */
export const PCAP_FCS_PRESENT = 0x04000000;

/** True when the 4 bytes at the start of a file (read big-endian) are one of the four pcap magics. */
export function isPcapMagic(be32: number): boolean {
  return (
    be32 === PCAP_MAGIC.MICROSECOND ||
    be32 === PCAP_MAGIC.NANOSECOND ||
    be32 === PCAP_MAGIC.MICROSECOND_SWAPPED ||
    be32 === PCAP_MAGIC.NANOSECOND_SWAPPED
  );
}

export class PcapReader extends ReaderBase {
  readonly format = 'pcap' as const;
  private le = false;
  private nano = false;
  /** Largest captured length a record may claim: max(snaplen, 262144), never above the hard bound. */
  private limit = 0;

  constructor(file: string, src: ChunkSource, maxRecord: number) {
    super(file, src, maxRecord);
    this.readHeader();
  }

  private readHeader(): void {
    const src = this.src;
    if (!src.ensure(PCAP_HDR.LEN)) {
      this.short(0, 'pcap file header', PCAP_HDR.LEN);
      return;
    }
    const dv = src.bytes.dv;
    const p = src.pos;
    const magic = dv.getUint32(p + PCAP_HDR.MAGIC, false);
    // The magic was written in the writer's order: if it reads right big-endian, the file is big-endian.
    this.le = magic === PCAP_MAGIC.MICROSECOND_SWAPPED || magic === PCAP_MAGIC.NANOSECOND_SWAPPED;
    this.nano = magic === PCAP_MAGIC.NANOSECOND || magic === PCAP_MAGIC.NANOSECOND_SWAPPED;
    const le = this.le;
    const major = dv.getUint16(p + PCAP_HDR.VERSION_MAJOR, le);
    const minor = dv.getUint16(p + PCAP_HDR.VERSION_MINOR, le);
    // Every pcap writer since 1998 writes 2.4; libpcap and Wireshark refuse other major versions.
    if (major !== 2) {
      this.fail(0, `unsupported pcap version ${major}.${minor}`);
      return;
    }
    const snaplen = dv.getUint32(p + PCAP_HDR.SNAPLEN, le);
    const lt = dv.getUint32(p + PCAP_HDR.LINKTYPE, le);
    this.limit = Math.min(this.maxRecord, Math.max(snaplen, STANDARD_MAX_PACKET));
    this.interfaces.push({
      id: 0,
      section: 0,
      localId: 0,
      linkType: lt & 0xffff,
      snaplen,
      tsresol: this.nano ? 9 : 6,
      tsResolution: this.nano ? NANOSECONDS : MICROSECONDS,
      tsOffset: 0,
      name: null,
      description: null,
      fcsBits: lt >>> 16,
      // LT_FCS_LENGTH: 4 bits of 16-bit words.
      fcsLen: (lt & PCAP_FCS_PRESENT) !== 0 ? (lt >>> 28) * 2 : null,
    });
    this.frame.linkType = lt & 0xffff;
    src.pos += PCAP_HDR.LEN;
  }

  next(): CaptureFrame | null {
    const src = this.src;
    const p = src.pos;
    // The common case, without ensure(): the whole record is already in the chunk.
    if (!this.done && src.end - p >= PCAP_REC.LEN) {
      const capLen = src.bytes.dv.getUint32(p + PCAP_REC.CAP_LEN, this.le);
      if (capLen <= this.limit && src.end - p - PCAP_REC.LEN >= capLen) return this.record(p, capLen, src.base + p);
    }
    return this.nextAcrossChunk();
  }

  /** next() for a record the chunk does not hold whole: read on, or end, or stop on damage. */
  private nextAcrossChunk(): CaptureFrame | null {
    if (this.done) return null;
    const src = this.src;
    if (!src.ensure(PCAP_REC.LEN)) {
      if (src.available === 0) return this.end();
      return this.short(src.offset, 'record header', PCAP_REC.LEN);
    }
    const capLen = src.bytes.dv.getUint32(src.pos + PCAP_REC.CAP_LEN, this.le);
    const fileOffset = src.offset;
    if (capLen > this.limit) return this.fail(fileOffset, `record claims ${capLen} bytes (limit ${this.limit})`);
    const need = PCAP_REC.LEN + capLen;
    if (!src.ensure(need)) return this.short(fileOffset, 'record', need);
    return this.record(src.pos, capLen, fileOffset);
  }

  /** Delivers the record at chunk offset `p`, which the chunk holds whole. */
  private record(p: number, capLen: number, fileOffset: number): CaptureFrame {
    const src = this.src;
    const dv = src.bytes.dv;
    const le = this.le;
    const f = this.frame;
    const sec = dv.getUint32(p + PCAP_REC.TS_SEC, le);
    const frac = dv.getUint32(p + PCAP_REC.TS_FRAC, le);
    // A fraction of a second or more in the fraction field is carried into the seconds, so that
    // tsNsec always stays below 10^9.
    if (this.nano) {
      if (frac < 1_000_000_000) {
        f.tsSec = sec;
        f.tsNsec = frac;
      } else {
        f.tsSec = sec + Math.floor(frac / 1_000_000_000);
        f.tsNsec = frac % 1_000_000_000;
      }
    } else if (frac < 1_000_000) {
      f.tsSec = sec;
      f.tsNsec = frac * 1000;
    } else {
      f.tsSec = sec + Math.floor(frac / 1_000_000);
      f.tsNsec = (frac % 1_000_000) * 1000;
    }
    const origLen = dv.getUint32(p + PCAP_REC.ORIG_LEN, le);
    src.pos = p + PCAP_REC.LEN + capLen;
    return this.deliver(capLen, origLen, p + PCAP_REC.LEN, fileOffset);
  }
}
