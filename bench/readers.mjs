#!/usr/bin/env node
/**
 * Classic-pcap readers compared on one large file: pcap-parser (the listed dependency), synack's
 * openCapture, and a bare loop that reads 8 MiB chunks and walks the record headers (the floor: no
 * frame objects, no checks; bench/lib/bare-read.mjs, shared with bench/run.mjs). Each runs in its own
 * process, so its peak RSS is its own.
 *
 *   npx tsc -p tsconfig.json && node bench/readers.mjs [--mb 300] [--runs 2] [--keep] [--file F]
 *
 * Without --file it writes /tmp/synack-bench-<pid>.pcap (~300 MB: the frames of
 * shared/pcaps/ndpi-reddit-ipv6.pcap repeated, times shifted so they keep increasing) with synack's
 * PcapWriter, and deletes it at the end (unless --keep).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bareRead } from './lib/bare-read.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = path.join(ROOT, '..', 'shared', 'pcaps', 'ndpi-reddit-ipv6.pcap');

async function loadCapture() {
  // tsconfig.json builds src/ into dist/ (rootDir src); accept dist/src/ too, should that change.
  for (const rel of ['dist/capture/index.js', 'dist/src/capture/index.js']) {
    const p = path.join(ROOT, rel);
    if (fs.existsSync(p)) return import(pathToFileURL(p).href);
  }
  console.error('bench/readers.mjs: no dist/capture/index.js; build first: npx tsc -p tsconfig.json');
  process.exit(2);
}

// ---- the three readers (each run in a child process) ------------------------------------------------

async function synack(file) {
  const { openCapture } = await loadCapture();
  const r = openCapture(file);
  let frames = 0;
  let bytes = 0;
  for (let f = r.next(); f !== null; f = r.next()) {
    frames++;
    bytes += f.capLen;
  }
  if (r.error) throw new Error(r.error.message);
  return { frames, bytes };
}

async function pcapParser(file) {
  const { default: pp } = await import('pcap-parser');
  return new Promise((resolve, reject) => {
    let frames = 0;
    let bytes = 0;
    const p = pp.parse(file);
    p.on('packet', (pkt) => {
      frames++;
      bytes += pkt.header.capturedLength;
    });
    p.on('error', reject);
    p.on('end', () => resolve({ frames, bytes }));
  });
}

const MODES = { 'pcap-parser': pcapParser, synack, bare: (file) => bareRead(file) };

async function child(mode, file) {
  const t0 = performance.now();
  const r = await MODES[mode](file);
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ...r, ms, maxRssKB: process.resourceUsage().maxRSS }) + '\n');
}

// ---- the parent: make the file, run each reader, print the table ------------------------------------

async function makeFile(file, mb) {
  const { openCapture, PcapWriter } = await loadCapture();
  const src = openCapture(SOURCE);
  const frames = [];
  for (let f = src.next(); f !== null; f = src.next()) {
    frames.push({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.bytes.u8.slice(f.offset, f.offset + f.capLen), origLen: f.origLen });
  }
  if (src.error) throw new Error(src.error.message);
  const span = frames[frames.length - 1].tsSec - frames[0].tsSec + 1;
  const w = PcapWriter.toFile(file, { linkType: src.interfaces[0].linkType, snaplen: src.interfaces[0].snaplen });
  const target = mb * 1024 * 1024;
  let written = 24;
  for (let rep = 0; written < target; rep++) {
    for (const f of frames) {
      w.writePacket(f.tsSec + rep * span, f.tsNsec, f.data, 0, f.data.length, f.origLen);
      written += 16 + f.data.length;
    }
  }
  w.close();
}

function args() {
  const a = process.argv.slice(2);
  const o = { mb: 300, runs: 2, keep: false, file: null };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--mb') o.mb = Number(a[++i]);
    else if (a[i] === '--runs') o.runs = Number(a[++i]);
    else if (a[i] === '--keep') o.keep = true;
    else if (a[i] === '--file') o.file = a[++i];
  }
  return o;
}

async function parent() {
  const o = args();
  const file = o.file ?? `/tmp/synack-bench-${process.pid}.pcap`;
  const made = o.file === null;
  try {
    if (made) {
      const t0 = performance.now();
      await makeFile(file, o.mb);
      console.log(`wrote ${file}: ${(fs.statSync(file).size / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s (synack PcapWriter)`);
    }
    const size = fs.statSync(file).size;
    const rows = [];
    for (const mode of Object.keys(MODES)) {
      let best = null;
      for (let run = 0; run < o.runs; run++) {
        const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file], { encoding: 'utf8' });
        if (c.status !== 0) throw new Error(`${mode} failed: ${c.stderr}`);
        const r = JSON.parse(c.stdout.trim().split('\n').pop());
        if (best === null || r.ms < best.ms) best = { ...r, maxRssKB: Math.max(r.maxRssKB, best?.maxRssKB ?? 0) };
        else best.maxRssKB = Math.max(best.maxRssKB, r.maxRssKB);
      }
      rows.push({ mode, ...best });
    }
    const frames = rows[0].frames;
    for (const r of rows) if (r.frames !== frames || r.bytes !== rows[0].bytes) throw new Error(`${r.mode} counted ${r.frames} frames / ${r.bytes} bytes, not ${frames} / ${rows[0].bytes}`);
    console.log(`${frames} frames, ${(size / 1e6).toFixed(1)} MB; best of ${o.runs} runs each; node ${process.version}`);
    console.log('reader        time s   Mframes/s   MB/s   peak RSS MB');
    for (const r of rows) {
      const s = r.ms / 1000;
      console.log(`${r.mode.padEnd(12)} ${s.toFixed(2).padStart(7)} ${(frames / s / 1e6).toFixed(2).padStart(11)} ${(size / s / 1e6).toFixed(0).padStart(6)} ${(r.maxRssKB / 1024).toFixed(0).padStart(13)}`);
    }
  } finally {
    if (made && !o.keep) fs.rmSync(file, { force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await parent();
