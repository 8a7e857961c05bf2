/**
 * Capture writers: classic pcap (microsecond or nanosecond) and pcapng (SHB, one IDB per interface
 * with if_tsresol 9 (or 6), EPBs with optional opt_comments). Records are built in one buffer with one
 * DataView and handed to the sink when the buffer fills and on `flush()`/`close()`.
 *
 * Bad arguments (a nanosecond field of 10^9, a negative second, an unknown interface) are programmer
 * errors and throw RangeError; a file can only be as right as what it is given.
 */
import { bytesOf } from '../wire/bytes.js';
import type { Bytes } from '../wire/bytes.js';
import type { CaptureFrame } from './frame.js';
import { STANDARD_MAX_PACKET } from './frame.js';
import { PCAP_HDR, PCAP_MAGIC, PCAP_REC } from './pcap.js';
import { BLOCK, BLOCK_TYPE, BYTE_ORDER_MAGIC, EPB, IDB, OPT, SHB, pad4 } from './pcapng.js';
import { FdSink } from './sink.js';
import type { ByteSink } from './sink.js';
import { timeToNanoUnits, timeToUnits } from './timestamp.js';
import type { Units64 } from './timestamp.js';

const DEFAULT_BUFFER = 1024 * 1024;
const TWO32 = 4294967296;
/** Largest second whose nanosecond (microsecond) count fits the 64-bit pcapng timestamp. */
const MAX_PCAPNG_SEC = Math.floor((2 ** 64 - 1) / 1e9) - 1;
const MAX_PCAPNG_SEC_US = Math.floor((2 ** 64 - 1) / 1e6) - 1;

/** A packet to write, for the object form of `write()`. */
export interface PacketInput {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  /** Wire length (default: data.length). */
  origLen?: number;
  /** pcapng only: the interface (default 0) and opt_comments (one string, or several). */
  interfaceId?: number;
  comment?: string | readonly string[] | null;
}

/** The buffer in front of a sink. */
abstract class BufferedWriter {
  protected out: Bytes;
  protected pos = 0;
  protected closed = false;

  constructor(
    protected readonly sink: ByteSink,
    bufferSize: number,
    protected readonly le: boolean,
  ) {
    this.out = bytesOf(new Uint8Array(Math.max(4096, bufferSize)));
  }

  /** Makes `n` contiguous bytes writable at the returned buffer offset (flushing, or growing for a huge record). */
  protected room(n: number): number {
    if (this.closed) throw new RangeError('capture writer: write after close');
    if (this.pos + n > this.out.u8.length) {
      this.flush();
      if (n > this.out.u8.length) this.out = bytesOf(new Uint8Array(n));
    }
    return this.pos;
  }

  /** Copies `len` bytes of `data` from `off` into the buffer at `at`, zero-padding to `padded`. */
  protected copyData(at: number, data: Uint8Array, off: number, len: number, padded: number): void {
    const u8 = this.out.u8;
    if (off === 0 && len === data.length) u8.set(data, at);
    else u8.set(data.subarray(off, off + len), at);
    for (let i = len; i < padded; i++) u8[at + i] = 0;
  }

  /** Hands the buffered bytes to the sink. */
  flush(): void {
    if (this.pos > 0) {
      this.sink.write(this.out.u8, 0, this.pos);
      this.pos = 0;
    }
  }

  /** Flushes and closes the sink (a descriptor passed in by the caller is left open). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.sink.close();
  }
}

function checkTime(tsSec: number, tsNsec: number, maxSec: number): void {
  if (!Number.isInteger(tsSec) || tsSec < 0 || tsSec > maxSec) throw new RangeError(`capture writer: tsSec ${tsSec} out of range 0..${maxSec}`);
  if (!Number.isInteger(tsNsec) || tsNsec < 0 || tsNsec > 999_999_999) throw new RangeError(`capture writer: tsNsec ${tsNsec} out of range 0..999999999`);
}

function checkSlice(data: Uint8Array, off: number, len: number, origLen: number): void {
  if (off < 0 || len < 0 || off + len > data.length) throw new RangeError(`capture writer: bytes [${off}, ${off + len}) outside a ${data.length}-byte array`);
  if (!Number.isInteger(origLen) || origLen < 0 || origLen >= TWO32) throw new RangeError(`capture writer: origLen ${origLen} out of range`);
}

export interface PcapWriterOptions {
  linkType: number;
  /** Default 262144, as tcpdump writes. */
  snaplen?: number;
  /** Nanosecond timestamps (magic 0xa1b23c4d); default microseconds (fractions are truncated). */
  nanosecond?: boolean;
  /** Write big-endian (default little-endian). */
  bigEndian?: boolean;
  /** Upper 16 bits of the link-type field (FCS length and its "present" bit), as `InterfaceInfo.fcsBits`. */
  fcsBits?: number;
  /** Buffer size (default 1 MiB). */
  bufferSize?: number;
}

export class PcapWriter extends BufferedWriter {
  private readonly nano: boolean;

  constructor(sink: ByteSink, opts: PcapWriterOptions) {
    super(sink, opts.bufferSize ?? DEFAULT_BUFFER, !opts.bigEndian);
    this.nano = opts.nanosecond === true;
    const o = this.room(PCAP_HDR.LEN);
    const dv = this.out.dv;
    const le = this.le;
    dv.setUint32(o + PCAP_HDR.MAGIC, this.nano ? PCAP_MAGIC.NANOSECOND : PCAP_MAGIC.MICROSECOND, le);
    dv.setUint16(o + PCAP_HDR.VERSION_MAJOR, 2, le);
    dv.setUint16(o + PCAP_HDR.VERSION_MINOR, 4, le);
    dv.setInt32(o + PCAP_HDR.THISZONE, 0, le);
    dv.setUint32(o + PCAP_HDR.SIGFIGS, 0, le);
    dv.setUint32(o + PCAP_HDR.SNAPLEN, opts.snaplen ?? STANDARD_MAX_PACKET, le);
    dv.setUint32(o + PCAP_HDR.LINKTYPE, ((((opts.fcsBits ?? 0) & 0xffff) << 16) | (opts.linkType & 0xffff)) >>> 0, le);
    this.pos = o + PCAP_HDR.LEN;
  }

  /** Creates (truncates) `path` and writes to it; `close()` closes it. */
  static toFile(path: string, opts: PcapWriterOptions): PcapWriter {
    return new PcapWriter(FdSink.create(path), opts);
  }

  /** Writes to an open descriptor, which `close()` flushes but leaves open. */
  static toFd(fd: number, opts: PcapWriterOptions): PcapWriter {
    return new PcapWriter(new FdSink(fd, false), opts);
  }

  writePacket(tsSec: number, tsNsec: number, data: Uint8Array, off = 0, len = data.length - off, origLen = len): void {
    checkTime(tsSec, tsNsec, TWO32 - 1);
    checkSlice(data, off, len, origLen);
    const o = this.room(PCAP_REC.LEN + len);
    const dv = this.out.dv;
    const le = this.le;
    dv.setUint32(o + PCAP_REC.TS_SEC, tsSec, le);
    dv.setUint32(o + PCAP_REC.TS_FRAC, this.nano ? tsNsec : Math.floor(tsNsec / 1000), le);
    dv.setUint32(o + PCAP_REC.CAP_LEN, len, le);
    dv.setUint32(o + PCAP_REC.ORIG_LEN, origLen, le);
    this.copyData(o + PCAP_REC.LEN, data, off, len, len);
    this.pos = o + PCAP_REC.LEN + len;
  }

  /** Writes a packet given as an object (interfaceId and comment are ignored: pcap has neither). */
  write(p: PacketInput): void {
    this.writePacket(p.tsSec, p.tsNsec, p.data, 0, p.data.length, p.origLen ?? p.data.length);
  }

  /** Copies the reader's current frame (no allocation). */
  writeFrame(f: CaptureFrame): void {
    this.writePacket(f.tsSec, f.tsNsec, f.bytes.u8, f.offset, f.capLen, f.origLen);
  }
}

export interface PcapngWriterOptions {
  /** Write the section big-endian (default little-endian). */
  bigEndian?: boolean;
  /** shb_userappl (default 'synack'; null for none). */
  userAppl?: string | null;
  bufferSize?: number;
}

export interface InterfaceOptions {
  linkType: number;
  /** Default 262144; 0 means no limit. */
  snaplen?: number;
  /** if_name. */
  name?: string | null;
  /** if_description. */
  description?: string | null;
  /**
   * if_tsresol: 9 (nanoseconds, the default) or 6 (microseconds: what most captures use, and the only
   * way to keep a time whose nanosecond count would not fit 64 bits).
   */
  tsresol?: 6 | 9;
}

const utf8 = new TextEncoder();

export class PcapngWriter extends BufferedWriter {
  private interfaces = 0;
  /** Per interface: true when its times are in microseconds (if_tsresol 6). */
  private readonly micro: boolean[] = [];
  private readonly units: Units64 = { hi: 0, lo: 0 };

  constructor(sink: ByteSink, opts: PcapngWriterOptions = {}) {
    super(sink, opts.bufferSize ?? DEFAULT_BUFFER, !opts.bigEndian);
    const appl = opts.userAppl === undefined ? 'synack' : opts.userAppl;
    const o = this.room(SHB.MIN_LEN + stringOptionRoom(appl) + 4);
    const dv = this.out.dv;
    const le = this.le;
    dv.setUint32(o + BLOCK.TYPE, BLOCK_TYPE.SHB, le);
    dv.setUint32(o + SHB.BYTE_ORDER_MAGIC, BYTE_ORDER_MAGIC, le);
    dv.setUint16(o + SHB.VERSION_MAJOR, 1, le);
    dv.setUint16(o + SHB.VERSION_MINOR, 0, le);
    // Section length unknown (-1): we stream, and readers walk blocks anyway.
    dv.setInt32(o + SHB.SECTION_LEN, -1, le);
    dv.setInt32(o + SHB.SECTION_LEN + 4, -1, le);
    let e = o + SHB.OPTIONS;
    if (appl !== null) e = this.endOptions(this.stringOption(e, OPT.SHB_USERAPPL, appl));
    this.closeBlock(o, e);
  }

  static toFile(path: string, opts: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(FdSink.create(path), opts);
  }

  static toFd(fd: number, opts: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(new FdSink(fd, false), opts);
  }

  /** Writes an IDB (if_tsresol 9, nanoseconds, unless told 6) and returns the new interface's id (0, 1, ...). */
  addInterface(opts: InterfaceOptions): number {
    const tsresol = opts.tsresol ?? 9;
    if (tsresol !== 6 && tsresol !== 9) throw new RangeError(`pcapng writer: if_tsresol ${String(tsresol)}: 6 or 9`);
    const name = opts.name ?? null;
    const description = opts.description ?? null;
    const o = this.room(IDB.MIN_LEN + 8 + stringOptionRoom(name) + stringOptionRoom(description) + 4);
    const dv = this.out.dv;
    const le = this.le;
    dv.setUint32(o + BLOCK.TYPE, BLOCK_TYPE.IDB, le);
    dv.setUint16(o + IDB.LINKTYPE, opts.linkType & 0xffff, le);
    dv.setUint16(o + IDB.RESERVED, 0, le);
    dv.setUint32(o + IDB.SNAPLEN, opts.snaplen ?? STANDARD_MAX_PACKET, le);
    let e = o + IDB.OPTIONS;
    if (name !== null) e = this.stringOption(e, OPT.IF_NAME, name);
    if (description !== null) e = this.stringOption(e, OPT.IF_DESCRIPTION, description);
    dv.setUint16(e, OPT.IF_TSRESOL, le);
    dv.setUint16(e + 2, 1, le);
    dv.setUint32(e + 4, 0, le);
    this.out.u8[e + 4] = tsresol;
    e = this.endOptions(e + 8);
    this.closeBlock(o, e);
    this.micro.push(tsresol === 6);
    return this.interfaces++;
  }

  writePacket(
    interfaceId: number,
    tsSec: number,
    tsNsec: number,
    data: Uint8Array,
    off = 0,
    len = data.length - off,
    origLen = len,
    comment: string | readonly string[] | null = null,
  ): void {
    if (!Number.isInteger(interfaceId) || interfaceId < 0 || interfaceId >= this.interfaces) {
      throw new RangeError(`pcapng writer: interface ${interfaceId} not added (have ${this.interfaces})`);
    }
    const micro = this.micro[interfaceId] as boolean;
    checkTime(tsSec, tsNsec, micro ? MAX_PCAPNG_SEC_US : MAX_PCAPNG_SEC);
    checkSlice(data, off, len, origLen);
    const padded = pad4(len);
    // Several comments are several opt_comment options (readers show each; ours joins them with '\n').
    const comments = comment === null ? null : typeof comment === 'string' ? [comment] : comment;
    let optionRoom = 0;
    if (comments !== null && comments.length > 0) {
      for (const c of comments) optionRoom += stringOptionRoom(c);
      optionRoom += 4;
    }
    const o = this.room(EPB.MIN_LEN + padded + optionRoom);
    const dv = this.out.dv;
    const le = this.le;
    const u = this.units;
    // Microseconds keep whole microseconds (fractions truncated, as for a microsecond pcap).
    if (micro) timeToUnits(tsSec, Math.floor(tsNsec / 1000), 1_000_000, u);
    else timeToNanoUnits(tsSec, tsNsec, u);
    dv.setUint32(o + BLOCK.TYPE, BLOCK_TYPE.EPB, le);
    dv.setUint32(o + EPB.INTERFACE_ID, interfaceId, le);
    dv.setUint32(o + EPB.TS_HIGH, u.hi, le);
    dv.setUint32(o + EPB.TS_LOW, u.lo, le);
    dv.setUint32(o + EPB.CAP_LEN, len, le);
    dv.setUint32(o + EPB.ORIG_LEN, origLen, le);
    this.copyData(o + EPB.DATA, data, off, len, padded);
    let e = o + EPB.DATA + padded;
    if (optionRoom > 0) {
      for (const c of comments as readonly string[]) e = this.stringOption(e, OPT.COMMENT, c);
      e = this.endOptions(e);
    }
    this.closeBlock(o, e);
  }

  write(p: PacketInput): void {
    this.writePacket(p.interfaceId ?? 0, p.tsSec, p.tsNsec, p.data, 0, p.data.length, p.origLen ?? p.data.length, p.comment ?? null);
  }

  /** Copies the reader's current frame, on `interfaceId` (default: the frame's own), with its comment. */
  writeFrame(f: CaptureFrame, interfaceId = f.interfaceId): void {
    this.writePacket(interfaceId, f.tsSec, f.tsNsec, f.bytes.u8, f.offset, f.capLen, f.origLen, f.comment);
  }

  /** A UTF-8 string option at `e` (room reserved by `stringOptionRoom`); returns the end of its padding. */
  private stringOption(e: number, code: number, s: string): number {
    const u8 = this.out.u8;
    const n = utf8.encodeInto(s, u8.subarray(e + 4, e + 4 + 3 * s.length)).written;
    if (n > 0xffff) throw new RangeError(`pcapng writer: option ${code} of ${n} bytes exceeds 65535`);
    this.out.dv.setUint16(e, code, this.le);
    this.out.dv.setUint16(e + 2, n, this.le);
    const end = e + 4 + pad4(n);
    for (let i = e + 4 + n; i < end; i++) u8[i] = 0;
    return end;
  }

  private endOptions(e: number): number {
    this.out.dv.setUint32(e, 0, this.le);
    return e + 4;
  }

  /** Writes the block's length at both ends (the body ends at `e`) and commits it to the buffer. */
  private closeBlock(o: number, e: number): void {
    const len = e + 4 - o;
    this.out.dv.setUint32(o + BLOCK.TOTAL_LEN, len, this.le);
    this.out.dv.setUint32(e, len, this.le);
    this.pos = e + 4;
  }
}

/** Room a string option may need: header + up to 3 UTF-8 bytes per UTF-16 unit + padding. */
function stringOptionRoom(s: string | null): number {
  return s === null ? 0 : 4 + pad4(3 * s.length);
}
