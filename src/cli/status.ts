/**
 * A status line on a terminal: one line on stderr, redrawn in place (carriage return, erase to the end
 * of the line). Only when stderr is a TTY and `CI` is not set; nothing at all otherwise, so piped or
 * logged output never carries it. `clear()` before anything else is written to the same terminal.
 */
import { writeSync } from 'node:fs';

const ERASE = '\r\x1b[K';

export class StatusLine {
  readonly enabled: boolean;
  private shown: string | null = null;

  constructor(stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env) {
    this.enabled = stream.isTTY === true && (env['CI'] === undefined || env['CI'] === '');
  }

  /** Draws `text` in place of the line shown (nothing to do when it is the same). */
  show(text: string): void {
    if (!this.enabled || text === this.shown) return;
    this.write(ERASE + text);
    this.shown = text;
  }

  clear(): void {
    if (this.shown === null) return;
    this.write(ERASE);
    this.shown = null;
  }

  private write(s: string): void {
    try {
      writeSync(2, s);
    } catch {
      // A status line is a courtesy: a terminal that went away is not an error of the command.
    }
  }
}
