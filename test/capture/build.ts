/**
 * Hand-built capture bytes for tests, written straight from the format specs with a DataView and
 * independent of src/capture's writers: so the reader is tested against bytes its own writer did not
 * make, and bad files can be built field by field.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A frame of `len` bytes whose content tells where it came from: byte i = (seed + i) & 0xff. */
export function pattern(len: number, seed: number): Uint8Array {
  const u = new Uint8Array(len);
  for (let i = 0; i < len; i++) u[i] = (seed + i) & 0xff;
  return u;
}

// ---- classic pcap ---------------------------------------------------------------------------------

export interface PcapHeaderSpec {
  le?: boolean;
  nano?: boolean;
  snaplen?: number;
  linkType?: number;
  major?: number;
  minor?: number;
}

export function pcapHeader(s: PcapHeaderSpec = {}): Uint8Array {
  const le = s.le ?? true;
  const u = new Uint8Array(24);
  const dv = new DataView(u.buffer);
  dv.setUint32(0, s.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, s.major ?? 2, le);
  dv.setUint16(6, s.minor ?? 4, le);
  dv.setUint32(16, s.snaplen ?? 65535, le);
  dv.setUint32(20, s.linkType ?? 1, le);
  return u;
}

export function pcapRecord(sec: number, frac: number, data: Uint8Array, le = true, capLen = data.length, origLen = data.length): Uint8Array {
  const u = new Uint8Array(16 + data.length);
  const dv = new DataView(u.buffer);
  dv.setUint32(0, sec, le);
  dv.setUint32(4, frac, le);
  dv.setUint32(8, capLen, le);
  dv.setUint32(12, origLen, le);
  u.set(data, 16);
  return u;
}

// ---- pcapng ---------------------------------------------------------------------------------------

const pad = (n: number): number => (n + 3) & ~3;

/** One option TLV (value padded to 4 bytes). */
export function opt(code: number, value: Uint8Array, le = true): Uint8Array {
  const u = new Uint8Array(4 + pad(value.length));
  const dv = new DataView(u.buffer);
  dv.setUint16(0, code, le);
  dv.setUint16(2, value.length, le);
  u.set(value, 4);
  return u;
}

export const endOpt = (): Uint8Array => new Uint8Array(4);
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A block around `body`, with both lengths right (unless the caller edits them afterwards). */
export function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const len = 12 + body.length;
  const u = new Uint8Array(len);
  const dv = new DataView(u.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  u.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return u;
}

export function shb(le = true, options: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const body = new Uint8Array(16 + options.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 0x1a2b3c4d, le);
  dv.setUint16(4, major, le);
  dv.setUint16(6, 0, le);
  dv.setInt32(8, -1, le);
  dv.setInt32(12, -1, le);
  body.set(options, 16);
  return block(0x0a0d0d0a, body, le);
}

export function idb(linkType: number, snaplen: number, le = true, options: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = new Uint8Array(8 + options.length);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, linkType, le);
  dv.setUint32(4, snaplen, le);
  body.set(options, 8);
  return block(1, body, le);
}

/** An EPB (type 6) or, with `obsolete`, an OPB (type 2: 16-bit interface id + 16-bit drops). */
export function epb(
  ifId: number,
  tsUnits: bigint,
  data: Uint8Array,
  le = true,
  options: Uint8Array = new Uint8Array(0),
  origLen = data.length,
  obsolete = false,
): Uint8Array {
  const body = new Uint8Array(20 + pad(data.length) + options.length);
  const dv = new DataView(body.buffer);
  if (obsolete) {
    dv.setUint16(0, ifId, le);
    dv.setUint16(2, 0, le);
  } else {
    dv.setUint32(0, ifId, le);
  }
  dv.setUint32(4, Number(tsUnits >> 32n), le);
  dv.setUint32(8, Number(tsUnits & 0xffffffffn), le);
  dv.setUint32(12, data.length, le);
  dv.setUint32(16, origLen, le);
  body.set(data, 20);
  body.set(options, 20 + pad(data.length));
  return block(obsolete ? 2 : 6, body, le);
}

export function spb(origLen: number, data: Uint8Array, le = true): Uint8Array {
  const body = new Uint8Array(4 + pad(data.length));
  new DataView(body.buffer).setUint32(0, origLen, le);
  body.set(data, 4);
  return block(3, body, le);
}

/** Rewrites a 32-bit field of a built file in place. */
export function poke32(u: Uint8Array, off: number, v: number, le = true): Uint8Array {
  new DataView(u.buffer, u.byteOffset, u.byteLength).setUint32(off, v >>> 0, le);
  return u;
}

// ---- files ------------------------------------------------------------------------------------------

let tmpDir: string | null = null;

/** A fresh path in a per-process temporary folder (removed by `removeTmp`). */
export function tmpFile(name: string): string {
  if (tmpDir === null) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'synack-capture-'));
  return path.join(tmpDir, name);
}

export function writeTmp(name: string, bytes: Uint8Array): string {
  const p = tmpFile(name);
  fs.writeFileSync(p, bytes);
  return p;
}

export function removeTmp(): void {
  if (tmpDir !== null) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}
