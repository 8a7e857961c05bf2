/**
 * Bytes: one Uint8Array and one DataView over the same memory. Every view in wire/ reads through a
 * Bytes it is given, so a whole capture chunk (or cap's reused buffer) has exactly one DataView, never
 * one per packet (DESIGN.md, decision 1).
 */
export interface Bytes {
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

export function bytesOf(u8: Uint8Array): Bytes {
  return { u8, dv: new DataView(u8.buffer, u8.byteOffset, u8.byteLength) };
}

/** A fresh buffer of `len` bytes; tests fill it with 0xa5 so that fields an emitter forgot show. */
export function allocBytes(len: number, fill = 0): Bytes {
  const u8 = new Uint8Array(len);
  if (fill !== 0) u8.fill(fill);
  return bytesOf(u8);
}

/** A copy of `len` bytes at `off`: for record fields that must outlive a reused buffer. */
export function copyOut(b: Bytes, off: number, len: number): Uint8Array {
  return b.u8.slice(off, off + len);
}

export function hex(u8: Uint8Array): string {
  let s = '';
  for (let i = 0; i < u8.length; i++) s += (u8[i] as number).toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new RangeError(`fromHex: odd number of digits in ${JSON.stringify(s)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
