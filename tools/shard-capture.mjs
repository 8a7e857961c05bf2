#!/usr/bin/env node
/**
 * Splits a capture into K files by the hash `synack replay --workers K` shards with (src/replay/shard.ts:
 * a symmetric hash of the 4-tuple, so both directions of a connection and every reuse of its 4-tuple
 * land in one file), for replaying a capture too big for one machine on K machines.
 *
 *   npx tsc -p tsconfig.json && node tools/shard-capture.mjs FILE --of K [--out-dir DIR] [--json]
 *
 * Writes DIR/<name>.shard-<i>-of-<K>.pcapng (DIR: beside FILE), every input interface in each. A TCP
 * frame goes to shard hash mod K; IP fragments go with the datagram they rebuild (held back until it is
 * complete, so each file keeps the capture's order); every other frame (not TCP, fragments of a datagram
 * never completed) goes to shard 0, so the files hold every frame once. Frame numbers are each file's own.
 */
import * as path from 'node:path';
import { loadDist } from './lib/dist.mjs';

const { openCapture, PcapngWriter } = await loadDist('shard-capture', 'capture/index.js');
const { FrameDecoder } = await loadDist('shard-capture', 'wire/frame-decoder.js');
const { tupleHash } = await loadDist('shard-capture', 'replay/shard.js');

function usage(msg) {
  console.error(`shard-capture: ${msg}\nusage: node tools/shard-capture.mjs FILE --of K [--out-dir DIR] [--json]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let file = null;
let of = NaN;
let outDir = null;
let json = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--of') of = Number(argv[++i]);
  else if (a === '--out-dir') outDir = argv[++i];
  else if (a === '--json') json = true;
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (file === null) file = a;
  else usage('one FILE expected');
}
if (file === null) usage('FILE missing');
if (!Number.isInteger(of) || of < 1 || of > 1024) usage('--of needs a number of shards from 1 to 1024');
outDir ??= path.dirname(file);

const reader = openCapture(file);
const base = path.basename(file).replace(/\.(pcap|pcapng)$/, '');
const outPaths = Array.from({ length: of }, (_, i) => path.join(outDir, `${base}.shard-${i}-of-${of}.pcapng`));
const writers = outPaths.map((p) => PcapngWriter.toFile(p));
const counts = new Array(of).fill(0);
let interfaces = 0;
const dec = new FrameDecoder();

/** Frames waiting for an earlier fragment's shard to be known, in capture order: { shard (-1: unknown), packet }. */
const held = [];
/** Frame number → its held entry, for fragments still pending. */
const pending = new Map();

function write(shard, p) {
  writers[shard].write(p);
  counts[shard]++;
}

function settle(frames, shard) {
  for (const n of frames) {
    const e = pending.get(n);
    if (e === undefined) continue;
    e.shard = shard;
    pending.delete(n);
  }
}

function drain() {
  let i = 0;
  while (i < held.length && held[i].shard >= 0) write(held[i].shard, held[i++].packet);
  if (i > 0) held.splice(0, i);
}

for (let f = reader.next(); f !== null; f = reader.next()) {
  // Every output describes the input's interfaces, in order, as they appear.
  while (interfaces < reader.interfaces.length) {
    const i = reader.interfaces[interfaces++];
    for (const w of writers) w.addInterface({ linkType: i.linkType, snaplen: i.snaplen, name: i.name, description: i.description });
  }
  const timeUs = f.tsSec * 1e6 + ((f.tsNsec / 1000) | 0);
  const d = dec.decode(f.linkType, f.bytes, f.offset, f.capLen, f.index, timeUs);
  const info = d.info;
  let shard = 0;
  if (info.tcp && info.bytes !== null) shard = tupleHash(info.bytes, info.addrOffset, info.addrLen, info.l4Offset) % of;
  const r = d.fragment;
  if (r !== undefined) {
    for (const x of r.alsoDropped) settle(x.frames, 0);
    if (r.kind === 'dropped') settle(r.frames, 0);
    else if (r.kind === 'complete') settle(r.datagram.frames, shard);
  }
  const packet = { tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.bytes.u8.slice(f.offset, f.offset + f.capLen), origLen: f.origLen, interfaceId: f.interfaceId, comment: f.comment };
  if (r !== undefined && r.kind === 'pending') {
    const e = { shard: -1, packet };
    pending.set(f.index, e);
    held.push(e);
  } else if (held.length > 0) held.push({ shard, packet });
  else write(shard, packet);
  drain();
}
// Fragments of datagrams the capture never completed.
for (const e of pending.values()) e.shard = 0;
drain();
for (const w of writers) w.close();
reader.close();
if (reader.error !== null) {
  console.error(`shard-capture: ${reader.error.message} (the files hold every frame before it)`);
}
const summary = { file, of, frames: counts.reduce((a, b) => a + b, 0), shards: outPaths.map((p, i) => ({ file: p, frames: counts[i] })) };
if (json) console.log(JSON.stringify(summary));
else for (const s of summary.shards) console.log(`${s.file}: ${s.frames} frames`);
process.exitCode = reader.error !== null ? 2 : 0;
