/**
 * Why a capture file could not be read to its end. A reader never throws on a bad file (DESIGN.md,
 * decision 6): it delivers every frame before the damage, then stops with one of these in `error`.
 */
export interface CaptureError {
  /** The path (or the name given for an in-memory capture). */
  readonly file: string;
  /** Byte offset in the file of the record, block or header that is damaged. */
  readonly offset: number;
  /** The 1-based number of the frame the reader was reading: frames delivered before the damage + 1. */
  readonly frame: number;
  /** What is wrong, without the location: `record claims 4294967295 bytes (limit 262144)`. */
  readonly reason: string;
  /** The whole story for a person: `foo.pcap: offset 4096, frame 17: record claims ...`. */
  readonly message: string;
}

export function captureError(file: string, offset: number, frame: number, reason: string): CaptureError {
  return { file, offset, frame, reason, message: `${file}: offset ${offset}, frame ${frame}: ${reason}` };
}
