/**
 * ChunkSource: the bytes of a capture, read forward in large chunks.
 *
 * A file is read with `fs.readSync` into one chunk buffer (8 MiB by default) that has exactly one
 * DataView (DESIGN.md, decision 1); every frame is a view into it. When a record straddles the end of
 * the chunk, its head is moved to the front (`copyWithin`, no allocation) and the rest is read after it;
 * only a record larger than the whole chunk makes the chunk grow, and the caller bounds that size before
 * asking. A file larger than memory works: at most one chunk (plus one record) is ever held.
 *
 * An in-memory capture is a source whose single chunk is the caller's array: nothing is copied.
 */
import * as fs from 'node:fs';
import { bytesOf } from '../wire/bytes.js';
import type { Bytes } from '../wire/bytes.js';

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
/** The smallest chunk accepted (tests use tiny chunks so that nearly every record straddles one). */
const MIN_CHUNK_SIZE = 64;

export class ChunkSource {
  /** The current chunk; replaced (with a new DataView) only when a record needs a larger one. */
  bytes: Bytes;
  /** Read position in the chunk: the first byte not yet consumed. */
  pos = 0;
  /** End of the valid bytes in the chunk. */
  end: number;
  /** File offset of chunk byte 0. */
  base = 0;
  /** No more bytes will come (end of file, a read error, or an in-memory source). */
  eof: boolean;
  /** Size of the file when it was opened, or -1 when unknown (a pipe). */
  readonly size: number;
  /** Set when a read failed: the message of the system error. */
  ioError: string | null = null;
  private fd: number;

  private constructor(bytes: Bytes, end: number, eof: boolean, size: number, fd: number) {
    this.bytes = bytes;
    this.end = end;
    this.eof = eof;
    this.size = size;
    this.fd = fd;
  }

  /** Opens `path` for reading; returns the system error's message when it cannot. */
  static file(path: string, chunkSize = DEFAULT_CHUNK_SIZE): ChunkSource | string {
    let fd: number;
    let size = -1;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      return (e as Error).message;
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.isFile()) size = st.size;
    } catch {
      // fstat failing leaves the size unknown, which only costs the early "past end of file" check.
    }
    // A small file gets a chunk its own size, so that reading many small captures stays cheap.
    let cap = Math.max(MIN_CHUNK_SIZE, Math.floor(chunkSize));
    if (size >= 0 && size + 1 < cap) cap = Math.max(MIN_CHUNK_SIZE, size + 1);
    return new ChunkSource(bytesOf(new Uint8Array(cap)), 0, false, size, fd);
  }

  /** A source over bytes already in memory; the frames will be views into `u8` itself. */
  static memory(u8: Uint8Array): ChunkSource {
    return new ChunkSource(bytesOf(u8), u8.length, true, u8.length, -1);
  }

  /** File offset of the read position. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes available in the chunk from the read position. */
  get available(): number {
    return this.end - this.pos;
  }

  /**
   * Makes `n` bytes available from the read position, reading more of the file if needed. False when
   * the file ends (or a read fails) first. `pos`, `base` and `bytes` may change: re-read them after.
   */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.eof) return false;
    const keep = this.end - this.pos;
    let u8 = this.bytes.u8;
    if (n > u8.length) {
      // A record larger than the chunk. When the file size is known and the record would run past it,
      // say so now instead of growing the chunk for bytes that will never come.
      if (this.size >= 0 && this.offset + n > this.size) {
        this.readToEnd();
        return this.end - this.pos >= n;
      }
      const grown = new Uint8Array(Math.max(n, Math.min(2 * u8.length, n + u8.length)));
      grown.set(u8.subarray(this.pos, this.end), 0);
      this.bytes = bytesOf(grown);
      u8 = grown;
    } else if (this.pos > 0) {
      u8.copyWithin(0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = keep;
    this.fill(n);
    return this.end >= n;
  }

  /** Reads until `n` bytes are in the chunk or the file ends; asks for as much as fits, to read in big steps. */
  private fill(n: number): void {
    const u8 = this.bytes.u8;
    while (this.end < n && !this.eof) {
      let got: number;
      try {
        got = fs.readSync(this.fd, u8, this.end, u8.length - this.end, null);
      } catch (e) {
        this.ioError = (e as Error).message;
        got = 0;
      }
      if (got === 0) this.eof = true;
      else this.end += got;
    }
  }

  /** For a record that cannot fit the file: read what is left (bounded by the chunk) so `available` tells how much there was. */
  private readToEnd(): void {
    const u8 = this.bytes.u8;
    if (this.pos > 0) {
      u8.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    this.fill(u8.length);
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Closing a read-only descriptor cannot lose data; nothing useful to report.
      }
      this.fd = -1;
    }
    this.eof = true;
  }
}
