/**
 * Where a capture writer's bytes go: a file descriptor (written with `fs.writeSync`, looping over short
 * writes) or memory (for tests and for building a capture to hand on). Writers buffer in front of a
 * sink, so a sink sees few, large writes.
 */
import * as fs from 'node:fs';

export interface ByteSink {
  write(u8: Uint8Array, off: number, len: number): void;
  close(): void;
}

export class FdSink implements ByteSink {
  private closed = false;

  /** `owns`: close the descriptor on `close()` (true for a file the writer opened itself). */
  constructor(
    readonly fd: number,
    private readonly owns: boolean,
  ) {}

  /** Creates (or truncates) `path`; the sink owns the descriptor. */
  static create(path: string): FdSink {
    return new FdSink(fs.openSync(path, 'w'), true);
  }

  write(u8: Uint8Array, off: number, len: number): void {
    // writeSync may write less than asked on pipes and sockets; I/O errors (ENOSPC, EPIPE) propagate:
    // they are the environment failing, not bad input, and a silently short capture would be worse.
    while (len > 0) {
      const n = fs.writeSync(this.fd, u8, off, len);
      off += n;
      len -= n;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.owns) fs.closeSync(this.fd);
  }
}

export class MemorySink implements ByteSink {
  private parts: Uint8Array[] = [];
  private total = 0;

  write(u8: Uint8Array, off: number, len: number): void {
    this.parts.push(u8.slice(off, off + len));
    this.total += len;
  }

  close(): void {}

  get length(): number {
    return this.total;
  }

  /** Everything written so far, as one array (flush or close the writer first). */
  toUint8Array(): Uint8Array {
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
