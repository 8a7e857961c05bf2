/**
 * Buffered stdout for commands that print a line per frame: one write per 64 KiB instead of one per
 * line, and a closed pipe (`synack frames big.pcap | head`) ends the command quietly instead of throwing.
 */
import { writeSync } from 'node:fs';
import { PcapngWriter } from '../capture/writer.js';

export class PipeClosed extends Error {
  override readonly name = 'PipeClosed';
}

export class Output {
  private buf = '';
  constructor(
    private readonly fd = 1,
    private readonly limit = 1 << 16,
  ) {}

  line(s: string): void {
    this.buf += s + '\n';
    if (this.buf.length >= this.limit) this.flush();
  }

  flush(): void {
    if (this.buf === '') return;
    const data = Buffer.from(this.buf, 'utf8');
    this.buf = '';
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off, data.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE') throw new PipeClosed('output pipe closed');
        throw e;
      }
    }
  }
}

/**
 * Lines of a command that runs until it is stopped (serve, connect, live): buffered and written on the
 * next turn of the event loop, so a burst of frames costs one write. A closed pipe ends the output
 * quietly: `open` turns false, later lines are dropped, and `onClose` (if given) is told once.
 * `beforeWrite` runs before each write (to take a terminal's status line away first).
 */
export class QueuedOutput {
  private queued = false;
  private isOpen = true;

  constructor(
    private readonly out: Output,
    private readonly hooks: { onClose?: () => void; beforeWrite?: () => void } = {},
  ) {}

  get open(): boolean {
    return this.isOpen;
  }

  line(text: string): void {
    if (!this.isOpen) return;
    this.out.line(text);
    if (!this.queued) {
      this.queued = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is buffered now. */
  flush(): void {
    this.queued = false;
    if (!this.isOpen) return;
    try {
      this.hooks.beforeWrite?.();
      this.out.flush();
    } catch (e) {
      if (!(e instanceof PipeClosed)) throw e;
      this.close();
    }
  }

  /** The reader went away (EPIPE here or on another write to the same stream). */
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.hooks.onClose?.();
  }
}

/** Creates the pcapng file of --write; null after saying why it cannot be (the command then exits 2). */
export function createPcapng(path: string, command: string, err: (s: string) => void): PcapngWriter | null {
  try {
    return PcapngWriter.toFile(path);
  } catch (e) {
    err(`synack ${command}: cannot write ${path}: ${(e as Error).message}`);
    return null;
  }
}
