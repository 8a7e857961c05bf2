/**
 * Why a header could not be decoded. Parsers return one of these instead of throwing (DESIGN.md,
 * decision 1); the frame decoder adds the layer and byte offset, and readers count them per frame.
 */
export type WireError =
  /** Fewer bytes captured than the header (or a length field in it) needs. */
  | 'truncated'
  /** A header-length field below the minimum, or pointing past the packet (IHL < 5, TCP offset < 5, ...). */
  | 'bad-header-length'
  /** A total-length field that contradicts the header or the bytes (IPv4 total length < IHL*4, ...). */
  | 'bad-length'
  /** An IP version nibble that is not the one the layer below announced. */
  | 'bad-version'
  /** An option whose length byte is impossible (0 or 1 for a kind that has a length, or past the end). */
  | 'bad-option'
  /** A field value the protocol forbids (a hardware length that does not fit ARP, ...). */
  | 'bad-field';

export const WIRE_ERRORS: readonly WireError[] = [
  'truncated',
  'bad-header-length',
  'bad-length',
  'bad-version',
  'bad-option',
  'bad-field',
];

export function isWireError(x: unknown): x is WireError {
  return typeof x === 'string';
}
