/**
 * Buffered stdout for commands that print a line per frame: one write per 64 KiB instead of one per
 * line, and a closed pipe (`synack frames big.pcap | head`) ends the command quietly instead of throwing.
 */
import { writeSync } from 'node:fs';

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
