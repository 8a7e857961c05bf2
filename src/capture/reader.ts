/**
 * One way in for both formats: the first four bytes say which (pcap's four magics, or pcapng's SHB
 * block type), and the rest is the format's own reader. A file that is neither gives a reader that
 * yields nothing and carries the error.
 */
import { ReaderBase } from './base.js';
import { DEFAULT_MAX_RECORD_BYTES } from './frame.js';
import type { CaptureFrame, CaptureReader, CaptureReaderOptions } from './frame.js';
import { isPcapMagic } from './pcap.js';
import { PcapReader } from './pcap.js';
import { BLOCK_TYPE, PcapngReader } from './pcapng.js';
import { ChunkSource, DEFAULT_CHUNK_SIZE } from './source.js';

/** Opens a capture file for streaming: never reads more than a chunk (plus one record) at a time. */
export function openCapture(path: string, opts: CaptureReaderOptions = {}): CaptureReader {
  const src = ChunkSource.file(path, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  if (typeof src === 'string') return new FailedReader(path, ChunkSource.memory(new Uint8Array(0)), `cannot open: ${src}`);
  return detect(path, src, opts);
}

/** Reads a capture already in memory; frames are views into `u8` itself. */
export function openCaptureBytes(u8: Uint8Array, opts: CaptureReaderOptions = {}): CaptureReader {
  return detect(opts.name ?? '<memory>', ChunkSource.memory(u8), opts);
}

function detect(file: string, src: ChunkSource, opts: CaptureReaderOptions): CaptureReader {
  const maxRecord = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!src.ensure(4)) {
    const n = src.available;
    if (src.ioError !== null) return new FailedReader(file, src, `read error: ${src.ioError}`);
    return new FailedReader(file, src, n === 0 ? 'empty file' : `file of ${n} bytes is too short for a capture header`);
  }
  const magic = src.bytes.dv.getUint32(src.pos, false);
  if (isPcapMagic(magic)) return new PcapReader(file, src, maxRecord);
  if (magic === BLOCK_TYPE.SHB) return new PcapngReader(file, src, maxRecord);
  const shown = magic.toString(16).padStart(8, '0');
  return new FailedReader(file, src, `unknown magic 0x${shown}: not a pcap or pcapng file`);
}

/** The reader for a file that could not even be recognised: no frames, just the error. */
class FailedReader extends ReaderBase {
  readonly format = 'unknown' as const;

  constructor(file: string, src: ChunkSource, reason: string) {
    super(file, src, 0);
    this.fail(0, reason);
  }

  next(): CaptureFrame | null {
    return null;
  }
}
