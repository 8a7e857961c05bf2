/**
 * The state both readers share: the source, the reused frame, the counts, and the one way to stop on
 * damage (`fail`), which records where and at which frame, and releases the file.
 */
import { captureError } from './errors.js';
import type { CaptureError } from './errors.js';
import { newFrame } from './frame.js';
import type { CaptureFormat, CaptureFrame, CaptureReader, CaptureStats, InterfaceInfo } from './frame.js';
import type { ChunkSource } from './source.js';

export abstract class ReaderBase implements CaptureReader {
  abstract readonly format: CaptureFormat;
  readonly interfaces: InterfaceInfo[] = [];
  readonly stats: CaptureStats = { frames: 0, bytes: 0, origBytes: 0, otherRecords: 0 };
  error: CaptureError | null = null;
  protected readonly frame: CaptureFrame;
  protected done = false;

  constructor(
    readonly file: string,
    protected readonly src: ChunkSource,
    protected readonly maxRecord: number,
  ) {
    this.frame = newFrame(src.bytes);
  }

  abstract next(): CaptureFrame | null;

  /**
   * Stops with an error about the structure at `offset`, naming the frame number being read (as
   * Wireshark would number it); returns null so `next` can `return this.fail(...)`.
   */
  protected fail(offset: number, reason: string): null {
    this.error = captureError(this.file, offset, this.stats.frames + this.stats.otherRecords + 1, reason);
    this.finish();
    return null;
  }

  /**
   * The file ended (or a read failed) with `have` of the `need` bytes of the thing at `offset`.
   * `have` is what the chunk holds; when the file's size is known, what is left of the file says more.
   */
  protected short(offset: number, what: string, need: number): null {
    if (this.src.ioError !== null) return this.fail(offset, `read error: ${this.src.ioError}`);
    const have = this.src.size >= 0 ? Math.max(0, this.src.size - offset) : this.src.available;
    return this.fail(offset, `${what} truncated: needs ${need} bytes, file ends after ${have}`);
  }

  /** A clean end; also where an I/O error that hit exactly at a record boundary becomes an error. */
  protected end(): null {
    if (this.src.ioError !== null) return this.fail(this.src.offset, `read error: ${this.src.ioError}`);
    this.finish();
    return null;
  }

  /** Fills in the counts and the view for the frame about to be returned. */
  protected deliver(capLen: number, origLen: number, dataOff: number, fileOffset: number): CaptureFrame {
    const f = this.frame;
    const s = this.stats;
    s.frames++;
    s.bytes += capLen;
    s.origBytes += origLen;
    f.index = s.frames + s.otherRecords;
    f.capLen = capLen;
    f.origLen = origLen;
    f.bytes = this.src.bytes;
    f.offset = dataOff;
    f.fileOffset = fileOffset;
    return f;
  }

  protected finish(): void {
    this.done = true;
    this.src.close();
  }

  close(): void {
    this.finish();
  }
}
