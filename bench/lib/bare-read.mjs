#!/usr/bin/env node
/**
 * The floor for any reader of a classic pcap file: read 8 MiB chunks and walk the 16-byte record
 * headers, nothing else (no frame objects, no checks beyond what the walk needs). bench/readers.mjs
 * and bench/run.mjs compare real readers with it.
 *
 *   node bench/lib/bare-read.mjs FILE     prints {"frames","bytes","ms"} as one JSON line
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BARE_CHUNK = 8 * 1024 * 1024;

/** Classic pcap magics as read little-endian: the file's own byte order decides how lengths read. */
const MAGIC_LE = new Set([0xa1b2c3d4, 0xa1b23c4d]);
const MAGIC_BE = new Set([0xd4c3b2a1, 0x4d3cb2a1]);

/** Counts the records of a classic pcap file and the captured bytes they hold. Throws on a non-pcap file. */
export function bareRead(file, chunk = BARE_CHUNK) {
  const fd = fs.openSync(file, 'r');
  try {
    const u8 = new Uint8Array(chunk);
    const dv = new DataView(u8.buffer);
    let end = fs.readSync(fd, u8, 0, u8.length, null);
    if (end < 24) throw new Error(`${file}: shorter than a pcap file header`);
    const magic = dv.getUint32(0, true);
    const le = MAGIC_LE.has(magic);
    if (!le && !MAGIC_BE.has(magic)) throw new Error(`${file}: not a classic pcap file (magic 0x${magic.toString(16)})`);
    let pos = 24; // after the file header
    let frames = 0;
    let bytes = 0;
    let eof = false;
    for (;;) {
      // Carry the unread tail to the front and refill.
      if (!eof) {
        u8.copyWithin(0, pos, end);
        end -= pos;
        pos = 0;
        const n = fs.readSync(fd, u8, end, u8.length - end, null);
        if (n === 0) eof = true;
        end += n;
      }
      let walked = false;
      while (end - pos >= 16) {
        const cap = dv.getUint32(pos + 8, le);
        if (end - pos < 16 + cap) {
          if (16 + cap > u8.length) throw new Error(`${file}: a ${cap}-byte record does not fit a ${u8.length}-byte chunk`);
          break;
        }
        frames++;
        bytes += cap;
        pos += 16 + cap;
        walked = true;
      }
      if (eof && !walked) break;
    }
    return { frames, bytes };
  } finally {
    fs.closeSync(fd);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node bench/lib/bare-read.mjs FILE');
    process.exit(2);
  }
  const t0 = performance.now();
  const r = bareRead(file);
  process.stdout.write(JSON.stringify({ ...r, ms: performance.now() - t0 }) + '\n');
}
