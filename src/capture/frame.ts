/**
 * What a capture reader hands out: one frame object reused for every frame, the interfaces the file
 * describes, and running counts. Shared by the pcap and pcapng readers.
 */
import type { Bytes } from '../wire/bytes.js';
import type { CaptureError } from './errors.js';
import type { TsResolution } from './timestamp.js';

/**
 * The current frame. ONE object is reused for every frame and `bytes` is the reader's chunk, valid until
 * the next call to `next()`: copy what you keep (`copyOut(f.bytes, f.offset, f.capLen)`).
 */
export interface CaptureFrame {
  /** 1-based frame number, as Wireshark counts. */
  index: number;
  /** Index into `reader.interfaces` (pcapng: numbered across sections, as Wireshark does; pcap: 0). */
  interfaceId: number;
  /** LINKTYPE_* of the interface (pcap: low 16 bits of the header's link-type field). */
  linkType: number;
  /** Absolute time since the UNIX epoch: whole seconds ... */
  tsSec: number;
  /** ... plus nanoseconds, 0..999999999. A Simple Packet Block has no time: both are 0. */
  tsNsec: number;
  /** Bytes captured (present in `bytes`). */
  capLen: number;
  /** Length of the packet on the wire. */
  origLen: number;
  /** The frame is `bytes.u8[offset, offset + capLen)`. */
  bytes: Bytes;
  offset: number;
  /** pcapng `opt_comment` (several are joined with '\n'); null when none. */
  comment: string | null;
  /** File offset where the frame's record (pcap) or block (pcapng) starts. */
  fileOffset: number;
}

/** One capture interface: the pcap file header, or one pcapng Interface Description Block. */
export interface InterfaceInfo {
  /** Index in `reader.interfaces`, the `interfaceId` of its frames. */
  readonly id: number;
  /** pcapng section (0-based) and interface number inside it; pcap: 0 and 0. */
  readonly section: number;
  readonly localId: number;
  readonly linkType: number;
  /** 0 = no limit (pcapng), else the most bytes captured per packet. */
  readonly snaplen: number;
  /** Timestamp resolution: pcapng `if_tsresol` (default 6); pcap: 6 (microsecond magic) or 9 (nanosecond magic). */
  readonly tsresol: number;
  readonly tsResolution: TsResolution;
  /** pcapng `if_tsoffset`: seconds added to every timestamp of the interface (0 when absent). */
  readonly tsOffset: number;
  /** pcapng `if_name`, else null. */
  readonly name: string | null;
  /** pcapng `if_description`, else null. */
  readonly description: string | null;
  /**
   * pcap: the upper 16 bits of the header's link-type field as stored (FCS length, its "present" bit
   * and reserved bits; 0 in nearly every file). pcapng: 0.
   */
  readonly fcsBits: number;
  /** Bytes of FCS at the end of each frame, when the file says (pcap "P" bit, pcapng `if_fcslen`); else null. */
  readonly fcsLen: number | null;
}

export interface CaptureStats {
  /** Frames delivered. */
  frames: number;
  /** Sum of their captured lengths. */
  bytes: number;
  /** Sum of their original (wire) lengths. */
  origBytes: number;
  /**
   * Records Wireshark numbers as frames but that are not packets (pcapng custom blocks, systemd
   * journal entries): each takes a frame number, so `index` stays Wireshark's, but is not delivered.
   */
  otherRecords: number;
}

/** 'unknown': the first bytes were not a pcap or pcapng magic (or there were none); `error` says which. */
export type CaptureFormat = 'pcap' | 'pcapng' | 'unknown';

export interface CaptureReader {
  readonly format: CaptureFormat;
  /** The file's name as given (or the name passed for an in-memory capture). */
  readonly file: string;
  /** Interfaces seen so far (pcapng adds them as it meets IDBs; the ones right after the SHB are there at open). */
  readonly interfaces: readonly InterfaceInfo[];
  /** The next frame, or null at the end of the file or on damage (then `error` is set). */
  next(): CaptureFrame | null;
  /** Why reading stopped early; null while reading and after a clean end. */
  readonly error: CaptureError | null;
  readonly stats: Readonly<CaptureStats>;
  /** Releases the file descriptor (done by itself at the end or on error; calling it again is harmless). */
  close(): void;
}

export interface CaptureReaderOptions {
  /** Chunk size for file reads (default 8 MiB). */
  chunkSize?: number;
  /** Hard bound on one record or block (default 256 MiB): a larger claim is damage, never an allocation. */
  maxRecordBytes?: number;
  /** Name used in errors for an in-memory capture (default '<memory>'). */
  name?: string;
}

export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;
/**
 * Largest packet Wireshark accepts for ordinary link types (WTAP_MAX_PACKET_SIZE_STANDARD); a pcap
 * record may exceed the file's snaplen (some writers do) but not this, unless the snaplen says more.
 */
export const STANDARD_MAX_PACKET = 262144;

export function newFrame(bytes: Bytes): CaptureFrame {
  return {
    index: 0,
    interfaceId: 0,
    linkType: 0,
    tsSec: 0,
    tsNsec: 0,
    capLen: 0,
    origLen: 0,
    bytes,
    offset: 0,
    comment: null,
    fileOffset: 0,
  };
}
