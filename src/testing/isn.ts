/**
 * An ISN source for tests: every connection starts at `isn` (plus `step` for each further connection, so
 * several connections can be told apart), and timestamps carry no offset.
 */
import type { IsnSource } from '../tcp/env.js';

export function fixedIsn(isn: number, step = 0): IsnSource {
  let next = isn >>> 0;
  return {
    isn(): number {
      const v = next;
      next = (next + step) >>> 0;
      return v;
    },
    tsOffset(): number {
      return 0;
    },
  };
}
