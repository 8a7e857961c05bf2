/**
 * emit(parse(frame)) == frame for every frame of every capture: the shared corpus and fixtures/.
 * Frames cut short by the snap length are excepted and counted (their records still round-trip: a
 * truncated layer is kept raw), and the count must equal tshark's truncated-frame count in truth/.
 */
import { describe, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { parseFrame, emitFrame } from '../../src/wire/frame.js';
import { decodeFrame, FrameInfo } from '../../src/wire/decode.js';
import { hex } from '../../src/wire/bytes.js';
import { ALL_CAPTURES, CAPTURE_FILES, truthOf } from '../corpus.js';

describe('frame round trip on every capture', () => {
  for (const { name, path } of ALL_CAPTURES) {
    test(name, () => {
      const reader = openCapture(path);
      const info = new FrameInfo();
      let frames = 0;
      let truncated = 0;
      const mismatches: string[] = [];
      try {
        for (let f = reader.next(); f; f = reader.next()) {
          frames++;
          if (f.capLen < f.origLen) truncated++;
          const original = f.bytes.u8.subarray(f.offset, f.offset + f.capLen);
          const repr = parseFrame(f.linkType, f.bytes, f.offset, f.capLen);
          const again = emitFrame(repr);
          if (hex(again) !== hex(original)) mismatches.push(`frame ${f.index}`);
          // The fast decoder must agree with the record parser on where it stopped, if it stopped.
          decodeFrame(f.linkType, f.bytes, f.offset, f.capLen, info);
          if (repr.problem && info.error === null && !(repr.problem.layer === 'tcp' && info.fragment)) {
            mismatches.push(`frame ${f.index}: parseFrame reports ${repr.problem.layer} ${repr.problem.reason}, decodeFrame nothing`);
          }
        }
        expect(reader.error).toBeNull();
      } finally {
        reader.close();
      }
      expect(frames).toBeGreaterThan(0);
      expect(mismatches).toEqual([]);
      if (CAPTURE_FILES.includes(name)) expect(truncated).toBe(truthOf(name).truncated_packets);
    });
  }
});
