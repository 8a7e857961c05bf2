/**
 * DESIGN.md: folders under src/ are layers and imports only point down the list; nothing below the
 * real-time shell reads a clock, draws random numbers or sets timers (everything is injected via Env).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, test } from 'vitest';

const ORDER = ['wire', 'tcp', 'socket', 'stack', 'capture', 'replay', 'script', 'report', 'cli', 'testing'];
// Files allowed to touch the real clock and timers: the live shell and the CLI (progress, signals).
const REAL_TIME = [/^src\/capture\/live/, /^src\/cli\//, /^src\/live\//];
const SRC = resolve(__dirname, '..', 'src');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function layerOf(path: string): string | null {
  const rel = relative(SRC, path).split('/');
  return rel.length > 1 ? (rel[0] as string) : null;
}

const all = files(SRC);

describe('layering', () => {
  test('src/ has files to check', () => {
    expect(all.length).toBeGreaterThan(0);
  });

  test('every import points down the layer list', () => {
    const bad: string[] = [];
    for (const f of all) {
      const from = layerOf(f);
      if (from === null) continue; // src/index.ts is the package face: it may re-export anything
      const fromRank = ORDER.indexOf(from);
      expect(fromRank, `unknown layer folder ${from}`).toBeGreaterThanOrEqual(0);
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
        const target = resolve(dirname(f), m[1] as string);
        const to = layerOf(target);
        if (to === null || to === from) continue;
        if (ORDER.indexOf(to) > fromRank) bad.push(`${relative(SRC, f)} imports ${to}/ (${m[1]})`);
      }
    }
    expect(bad).toEqual([]);
  });

  test('no clock, randomness or timers outside the real-time shell', () => {
    const bad: string[] = [];
    for (const f of all) {
      const rel = relative(resolve(SRC, '..'), f);
      if (REAL_TIME.some((r) => r.test(rel))) continue;
      const code = readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      for (const word of ['Date.now', 'new Date(', 'performance.now', 'Math.random', 'setTimeout', 'setInterval', 'process.hrtime']) {
        if (code.includes(word)) bad.push(`${rel}: ${word}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
