/**
 * Round-trip time estimation and the retransmission timeout (RFC 6298), with the personality's floors,
 * ceilings, slop and backoff rules.
 */
import type { Tcb } from './tcb.js';

/** FreeBSD tcp_backoff[]: the RTO multiplier after n retransmissions (tcp_timer.c). */
const BSD_BACKOFF = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 512, 512, 512];

/** RFC 6298 §2.2/§2.3: feed one RTT measurement `m` (µs). */
export function rttSample(tcb: Tcb, m: number): void {
  const r = Math.max(1, m);
  if (!tcb.hasRtt) {
    tcb.srtt = r;
    tcb.rttvar = r / 2;
    tcb.hasRtt = true;
  } else {
    tcb.rttvar = 0.75 * tcb.rttvar + 0.25 * Math.abs(tcb.srtt - r);
    tcb.srtt = 0.875 * tcb.srtt + 0.125 * r;
  }
  tcb.rto = baseRto(tcb);
}

/**
 * RTO from the estimate, no backoff: SRTT + max(G, 4·RTTVAR) (+ FreeBSD's slop), within the
 * personality's minimum and maximum. Before any measurement: the initial RTO.
 */
export function baseRto(tcb: Tcb): number {
  const p = tcb.p;
  if (!tcb.hasRtt) return p.rtoInitialUs;
  const v = Math.max(p.rtoVarFloorUs, 4 * tcb.rttvar);
  const rto = Math.round(tcb.srtt + v + p.rtoSlopUs);
  return Math.min(p.rtoMaxUs, Math.max(p.rtoMinUs, rto));
}

/**
 * The timeout after the n-th retransmission (n = tcb.retransmits, already counted).
 * linux: the timer doubles (tcp_retransmit_timer), except that a SYN-SENT socket keeps 1 s while
 * n <= tcp_syn_linear_timeouts. freebsd: base × tcp_backoff[n] + slop, base = rexmit_initial in the
 * SYN states (tcp_timer_rexmt, syncache_timeout).
 */
export function backedOffRto(tcb: Tcb): number {
  const p = tcb.p;
  const n = tcb.retransmits;
  if (p.backoffRule === 'linux') {
    if (tcb.state === 'SYN-SENT' && n <= p.synLinearTimeouts) return tcb.rto;
    return Math.min(tcb.rto * 2, p.rtoMaxUs);
  }
  const synState = tcb.state === 'SYN-SENT' || tcb.state === 'SYN-RECEIVED';
  const base = synState || !tcb.hasRtt ? p.rtoInitialUs : Math.round(tcb.srtt + 4 * tcb.rttvar);
  const mult = BSD_BACKOFF[Math.min(n, BSD_BACKOFF.length - 1)] as number;
  return Math.min(p.rtoMaxUs, Math.max(p.rtoMinUs, base * mult + p.rtoSlopUs));
}

/**
 * Linux tcp_model_timeout: how long `boundary` exponentially backed-off retransmissions take from
 * `rtoBase`, with the 120 s ceiling (used to judge tcp_retries2 by time, tcp_write_timeout).
 */
export function linuxModelTimeout(boundary: number, rtoBase: number, rtoMax: number): number {
  const thresh = Math.floor(Math.log2(rtoMax / rtoBase));
  if (boundary <= thresh) return ((2 << boundary) - 1) * rtoBase;
  return ((2 << thresh) - 1) * rtoBase + (boundary - thresh) * rtoMax;
}

/** The zero-window probe interval after `n` unanswered probes (Linux tcp_probe0_when; FreeBSD tcp_setpersist). */
export function persistInterval(tcb: Tcb): number {
  const p = tcb.p;
  const n = tcb.persistBackoff;
  if (p.backoffRule === 'linux') {
    const base = Math.max(tcb.rto, p.rtoMinUs);
    return Math.min(base * 2 ** Math.min(n, 30), p.persistMaxUs);
  }
  const t = tcb.hasRtt ? Math.round((tcb.srtt + 4 * tcb.rttvar) / 2) : p.rtoInitialUs;
  const mult = BSD_BACKOFF[Math.min(n, BSD_BACKOFF.length - 1)] as number;
  return Math.min(p.persistMaxUs, Math.max(p.persistMinUs, t * mult + p.rtoSlopUs));
}
