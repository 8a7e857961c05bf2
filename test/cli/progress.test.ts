/**
 * The replay progress bar: drawn on a terminal only. The end-to-end case runs synack under `script`
 * (util-linux), which gives it a pseudo-terminal, on a generated capture above the size threshold.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { formatProgress, PROGRESS_MIN_BYTES, wantProgress } from '../../src/cli/progress.js';

test('drawn only on a terminal, outside CI, and not over per-frame lines on the same terminal', () => {
  const tty = { stderrIsTTY: true, stdoutIsTTY: true, streaming: false, ci: false };
  expect(wantProgress(tty)).toBe(true);
  expect(wantProgress({ ...tty, stderrIsTTY: false })).toBe(false);
  expect(wantProgress({ ...tty, ci: true })).toBe(false);
  expect(wantProgress({ ...tty, streaming: true })).toBe(false);
  expect(wantProgress({ ...tty, streaming: true, stdoutIsTTY: false })).toBe(true);
});

test('the bar: fraction, sizes, frames, rate and time left', () => {
  expect(formatProgress(250e6, 1e9, 2_500_000, 5000)).toBe('[#####---------------]  25%  250 MB / 1.0 GB  2.5 M frames  500 k frames/s  ETA 15 s');
  expect(formatProgress(0, 1e9, 0, 0)).toBe('[--------------------]   0%  0 kB / 1.0 GB  0 frames  0 frames/s');
  expect(formatProgress(1e9, 1e9, 11_000_000, 20_000)).toMatch(/^\[#{20}\] 100% .* ETA 0\.0 s$/);
});

const dir = mkdtempSync(join(tmpdir(), 'synack-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a long replay on a pseudo-terminal draws the bar on stderr and erases it; piped, nothing', () => {
  const file = join(dir, 'big.pcap');
  const gen = spawnSync('node', ['tools/gen-workload.mjs', '--out', file, '--connections', '60000', '--json'], { encoding: 'utf8' });
  expect(gen.status, gen.stderr).toBe(0);
  // The generator's own count of what it wrote (refused attempts are conversations too).
  const made = JSON.parse(gen.stdout) as { frames: number; conversations: number };
  expect(statSync(file).size).toBeGreaterThan(PROGRESS_MIN_BYTES);
  const env = { ...process.env };
  delete env['CI'];
  const tty = spawnSync('script', ['-qec', `node dist/cli/main.js replay ${file} -q`, '/dev/null'], { encoding: 'utf8', env });
  expect(tty.status, tty.stderr).toBe(0);
  expect(tty.stdout).toMatch(/\r\[#*-*\] +\d+%  \d+ MB \/ \d+ MB  [\d.]+ [kM] frames/);
  expect(tty.stdout).toContain('\r\x1b[K');
  const counts = `${made.frames} frames, ${made.frames} TCP, ${made.conversations} connections`;
  expect(tty.stdout).toContain(counts);
  const piped = spawnSync('node', ['dist/cli/main.js', 'replay', file, '-q'], { encoding: 'utf8', env });
  expect(piped.status).toBe(0);
  expect(piped.stderr).not.toContain('\r');
  expect(piped.stderr).toContain(counts);
}, 60_000);
