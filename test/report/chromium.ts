/**
 * Test-only: headless Chromium, to look at an SVG the way a browser shows it. Each run gets a fresh
 * profile folder (removed afterwards) and no network, sync or updates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The Chromium binary on PATH (chromium, chromium-browser or google-chrome), or null. */
export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const p = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (p !== '') return p;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Renders `file` (an SVG) in a `width`×`height` window and writes a PNG screenshot to `png`. */
export function screenshot(chromium: string, file: string, png: string, width: number, height: number): void {
  const profile = mkdtempSync(join(tmpdir(), 'synack-chromium-'));
  try {
    execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${png}`,
        `--window-size=${width},${height}`,
        pathToFileURL(file).href,
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
