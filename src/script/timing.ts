/**
 * Script time as packetdrill reads it (run.c adjust_relative_event_times, verify_time): when an event
 * should happen, and whether what happened is close enough.
 */
import type { TimeSpec } from './ast.js';
import type { ScriptConfig } from './env.js';

/** When an event happens, once relative times are resolved. */
export interface Timing {
  readonly kind: TimeSpec['kind'];
  /** The event's time (µs; for `*`: when it was reached); the start of a range. */
  readonly t: number;
  /** The end of a range, else equal to t. */
  readonly tEnd: number;
  /** What relative times were added to. */
  readonly offset: number;
}

/** Seconds as packetdrill prints them: 0.100000. */
export function secs(us: number): string {
  return (us / 1e6).toFixed(6);
}

/**
 * run.c verify_time: null when `actual` is close enough to the script's time, else packetdrill's
 * message. The tolerance is --tolerance_usecs, or tolerance_percent of the time since the previous
 * event (`lastT`) when that is larger.
 */
export function timingProblem(
  config: ScriptConfig,
  timing: Timing,
  actual: number,
  lastT: number | null,
  description: string,
): string | null {
  const { kind, t, tEnd, offset } = timing;
  if (kind === 'any') return null;
  let tol = config.toleranceUsecs;
  if (lastT !== null) {
    const dynamic = Math.trunc((config.tolerancePercent / 100) * (t - lastT));
    if (dynamic > tol) tol = dynamic;
  }
  if (kind === 'absolute-range' || kind === 'relative-range') {
    if (actual >= t - tol && actual <= tEnd + tol) return null;
    if (kind === 'absolute-range') return `timing error: expected ${description} in time range ${secs(t)}~${secs(tEnd)} sec but happened at ${secs(actual)} sec`;
    const sign = (x: number): string => `${x < 0 ? '-' : '+'}${secs(Math.abs(x))}`;
    return `timing error: expected ${description} in relative time range +${secs(t - offset)}~+${secs(tEnd - offset)} sec but happened at ${sign(actual - offset)} sec`;
  }
  if (actual >= t - tol && actual <= t + tol) return null;
  return `timing error: expected ${description} at ${secs(t)} sec but happened at ${secs(actual)} sec; tolerance ${secs(tol)} sec`;
}
