/**
 * Personalities: every place where Linux and FreeBSD answer the same segment differently, in one table.
 * `linux` (Linux 6.x with default sysctls) is the default and the reference; `freebsd` (FreeBSD 13/14
 * defaults, as the freebsd-net/tcp-testsuite packetdrill scripts expect) is the second.
 *
 * Each value says where it comes from: a kernel constant or sysctl default, and where it was checked
 * (the packetdrill scripts in /work/shared/conformance/packetdrill, "pd:" below). Times are microseconds.
 */

/**
 * How arriving segments are validated (the first checks of RFC 9293 §3.10.7.4 and what surrounds them).
 */
export type Validation =
  /** RFC 9293's four-case acceptability table (zero-length/zero-window cases), data trimmed to the window. */
  | 'rfc9293'
  /**
   * Linux tcp_validate_incoming: tcp_sequence (SEG.SEQ+SEG.LEN, SYN/FIN counted, >= RCV.WUP and
   * SEG.SEQ <= RCV.NXT+RCV.WND), PAWS first with a one-tick window, segments with none of ACK/RST/SYN
   * dropped before anything else, a RST at RCV.NXT-1 after a FIN or at the highest SACK edge accepted,
   * an ACK for unsent data dropped silently in ESTABLISHED, a SYN-ACK's TSecr checked in SYN-SENT.
   */
  | 'linux'
  /**
   * BSD tcp_input.c trimming (Stevens vol. 2 p. 960): a wholly old segment is not dropped — its text is
   * trimmed away, its ACK field still processed, and an ACK is sent; beyond the window: ACK and drop.
   */
  | 'bsd';

export type DelayedAck =
  /**
   * Linux (tcp_input.c __tcp_ack_snd_check, tcp_output.c tcp_send_delayed_ack): quick-ack mode for the
   * first data segments of a connection (up to `maxQuickAcks`, at most one per two receive-MSS of
   * window), then an ACK at least every second full segment, otherwise after `ato` (starts at
   * TCP_ATO_MIN 40 ms, bounded by TCP_DELACK_MAX 200 ms). An interactive exchange (we send within `ato`
   * of receiving) enters "pingpong" mode and delays ACKs.
   */
  | { kind: 'linux'; atoMinUs: number; delAckMaxUs: number; maxQuickAcks: number }
  /**
   * BSD (tcp_input.c DELAY_ACK): delay the ACK of an in-order segment by `delayUs` unless one is
   * already delayed (so every second segment is acked at once); a FIN is acked at once.
   */
  | { kind: 'every-second'; delayUs: number };

export interface Personality {
  readonly name: 'linux' | 'linux-3.11' | 'freebsd';

  // ---- Options in SYN and SYN-ACK ------------------------------------------------------------------
  /**
   * Where MSS, SACK-permitted, timestamps and window scale go, with their NOP/EOL padding.
   * linux (tcp_output.c tcp_options_write): MSS; SACK-permitted+TS together, or NOP NOP TS, or NOP NOP
   * SACK-permitted; NOP wscale. SYN `<mss 1460,sackOK,TS val .. ecr 0,nop,wscale 7>` (pd:
   * blocking-connect.pkt, tcp_basic_client.pkt); SYN-ACK without TS `<mss 1460,nop,nop,sackOK,nop,wscale 8>`
   * (pd: tcp_basic_server.pkt), with TS and no wscale `<mss 1460,sackOK,TS val 100 ecr 100>` (pd: fin_tsval.pkt).
   * freebsd (tcp_output.c tcp_addoptions, in TOF_* bit order, each option aligned, EOL-padded to 4):
   * `<mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>` (pd: snd-syn-with-default-options-ipv4.pkt),
   * SYN-ACK `<mss 1460,sackOK,eol,eol>` (pd: rcv-syn-without-data-listen-ipv4.pkt).
   */
  readonly optionLayout: 'linux' | 'freebsd';
  /** Offer timestamps (RFC 7323): Linux tcp_timestamps=1, FreeBSD net.inet.tcp.rfc1323=1. */
  readonly timestamps: boolean;
  /** Offer SACK (RFC 2018): Linux tcp_sack=1, FreeBSD net.inet.tcp.sack.enable=1. */
  readonly sack: boolean;
  /** Offer window scaling (RFC 7323): Linux tcp_window_scaling=1, FreeBSD rfc1323=1. */
  readonly windowScaling: boolean;
  /** Timestamp clock rate: both use a 1 ms clock (Linux TCP_TS_HZ 1000, FreeBSD tcp_ts_getticks ms). */
  readonly tsHz: number;
  /**
   * The peer's MSS when its SYN carries none (RFC 9293 §3.7.1, RFC 6691): 536 over IPv4, 1220 over IPv6.
   * Linux TCP_MSS_DEFAULT / tcp_v6 mss_clamp; FreeBSD tcp_mssdflt / tcp_v6mssdflt.
   */
  readonly defaultMssIpv4: number;
  readonly defaultMssIpv6: number;

  // ---- Receive window --------------------------------------------------------------------------------
  /**
   * Receive space in window bytes without SO_RCVBUF. Linux: tcp_rmem[1] 131072 bytes at the default 50 %
   * scaling ratio (TCP_DEFAULT_SCALING_RATIO) = 65536 (tcp_full_space). FreeBSD: net.inet.tcp.recvspace
   * 65536 (pd: getsockopt SO_RCVBUF [65536]).
   */
  readonly rcvSpace: number;
  /**
   * What getsockopt(SO_SNDBUF) reports before any setsockopt. Linux: sk_sndbuf starts at tcp_wmem[1]
   * 16384 (and a set value is stored doubled). FreeBSD: net.inet.tcp.sendspace 32768, reported as is.
   */
  readonly sndBufDefault: number;
  /**
   * The largest receive buffer, which decides the window scale we offer. Linux: tcp_rmem[2], which
   * tcp_init() sets to min(32 MiB, memory-based limit) since 6.16 (6 MiB before) → ilog2(33554432) - 15 =
   * wscale 10 (tcp_select_initial_window), as every capture in fixtures/ shows; packetdrill's defaults.sh
   * sets 15728640 → 8; a 6 MiB host offers 7. FreeBSD: kern.ipc.maxsockbuf 2097152 → the
   * smallest shift with 65535 << shift >= sb_max = 6 (pd: wscale 6).
   */
  readonly rcvSpaceMax: number;
  /**
   * RFC 2883 D-SACK: report a duplicate in the first SACK block. Linux tcp_dsack=1; generated here only for
   * the duplicate SYN of a crossed simultaneous-open SYN-ACK so far. FreeBSD: not modelled.
   */
  readonly dsack: boolean;
  /** linux: ilog2(space) - 15; freebsd: smallest shift with 65535 << shift >= space. Both capped at 14. */
  readonly wscaleRule: 'linux' | 'freebsd';
  /**
   * How windows are chosen. In SYN and SYN-ACK (unscaled): linux (tcp_select_initial_window) rounds the
   * space down to a multiple of the MSS (less 12 when timestamps are on, for the SYN-ACK:
   * tcp_openreq_init_rwin), at most 65535: 64240 = 44 × 1460 in a SYN, 65160 = 45 × 1448 in a SYN-ACK
   * with timestamps; freebsd takes min(space, 65535) = 65535 (pd: `win 65535`). Afterwards: linux
   * (__tcp_select_window) offers the free space capped by rcv_ssthresh, rounded up to the scale unit;
   * freebsd the free space rounded down, with receiver silly-window avoidance.
   */
  readonly windowRule: 'linux' | 'freebsd';
  /**
   * Nagle's test (RFC 9293 §3.7.4). minshall (Linux tcp_nagle_check/tcp_minshall_check): a sub-MSS
   * segment waits only while an earlier sub-MSS segment is unacknowledged. classic (FreeBSD): while
   * anything is unacknowledged.
   */
  readonly nagle: 'minshall' | 'classic';
  /**
   * FreeBSD rounds the receive buffer up to a multiple of the MSS once established (tcp_mss_update:
   * SO_RCVBUF 65536 → 65700, pd: established-ipv4.pkt); Linux does not.
   */
  readonly rcvBufRoundToMss: boolean;

  // ---- Sending ---------------------------------------------------------------------------------------
  /** Initial congestion window in segments (RFC 6928): Linux TCP_INIT_CWND 10, FreeBSD initcwnd_segments 10. */
  readonly initialCwndSegments: number;
  /**
   * Zero-window probe. linux (tcp_output.c tcp_write_wakeup → tcp_xmit_probe_skb): a bare ACK with
   * SEG.SEQ = SND.UNA - 1 that the peer must answer. freebsd (tcp_timer_persist, TF_FORCEDATA): one
   * byte of new data beyond the window.
   */
  readonly zeroWindowProbe: 'old-seq' | 'one-byte';
  /**
   * Which data segments carry PSH. linux: the last segment of a burst, where a TSO super-segment ends
   * (pd: mss-setsockopt-tcp_maxseg-server.pkt `P. 1:11001(11000)` while 1000 more octets wait for cwnd).
   * freebsd (tcp_output.c): the segment that empties the send buffer.
   */
  readonly pshRule: 'burst-end' | 'buffer-end';
  /**
   * FreeBSD answers through tcp_output, which resends an unacknowledged FIN with every ACK it sends
   * (pd: closing-ipv4.pkt `> F. 1:1(0) ack 2` on the peer's FIN in FIN-WAIT-1); its challenge and
   * TIME-WAIT ACKs are bare (tcp_respond). Linux ACKs are always bare.
   */
  readonly ackCarriesUnackedFin: boolean;

  // ---- Retransmission timers -----------------------------------------------------------------------
  /** RFC 6298 §2.1 initial RTO 1 s: Linux TCP_TIMEOUT_INIT, FreeBSD net.inet.tcp.rexmit_initial 1000 ms. */
  readonly rtoInitialUs: number;
  /** Linux TCP_RTO_MIN 200 ms (tcp_rto_min_us); FreeBSD net.inet.tcp.rexmit_min 30 ms. */
  readonly rtoMinUs: number;
  /** Linux TCP_RTO_MAX 120 s (tcp_rto_max_ms); FreeBSD TCPTV_REXMTMAX 64 s. */
  readonly rtoMaxUs: number;
  /**
   * Floor of the K×RTTVAR term (RFC 6298 "max(G, K*RTTVAR)"): Linux keeps rttvar at least tcp_rto_min,
   * so RTO = SRTT + max(200 ms, 4×RTTVAR) (tcp_input.c tcp_rtt_estimator / __tcp_set_rto). FreeBSD 0.
   */
  readonly rtoVarFloorUs: number;
  /** Added to every RTO after the initial one: FreeBSD TCPT_RANGESET adds tcp_rexmit_slop 200 ms; Linux 0. */
  readonly rtoSlopUs: number;
  /**
   * How the timer grows per retransmission. linux: RTO doubles (icsk_rto << 1, capped). freebsd: base ×
   * tcp_backoff[n] + slop, capped, base = rexmit_initial in SYN states (pd: SYN at +1 s, +2.2 s:
   * snd-syn-rtx-max-number-ipv4.pkt).
   */
  readonly backoffRule: 'linux' | 'freebsd';
  /**
   * SYN retransmissions before ETIMEDOUT. Linux tcp_syn_retries 6, and since 6.5 another
   * tcp_syn_linear_timeouts (4) on top (tcp_timer.c tcp_write_timeout: max_retransmits = syn_retries +
   * linear): SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, ETIMEDOUT at 131 s. FreeBSD TCP_MAXRXTSHIFT
   * 12: SYNs at 0, 1, 3.2, 7.4, 15.6, 31.8, 64, 128, ... s (pd: snd-syn-rtx-max-number-ipv4.pkt), though
   * its connection-establishment timer (`connectTimeoutUs`) normally ends the attempt first.
   */
  readonly synRetries: number;
  /**
   * Linux tcp_syn_linear_timeouts = 4: the RTO of a SYN-SENT socket stays at 1 s until the backoff count
   * exceeds it (tcp_retransmit_timer), so the first five retransmissions are 1 s apart. FreeBSD: 0.
   */
  readonly synLinearTimeouts: number;
  /**
   * A limit on the whole connection attempt in SYN-SENT, whatever the retransmissions: FreeBSD's
   * keepalive timer armed with net.inet.tcp.keepinit (TCPTV_KEEP_INIT 75 s; tcp_timer_keep drops with
   * ETIMEDOUT; the TCP_KEEPINIT socket option changes it — pd: snd-syn-rtx-max-number-ipv4.pkt sets 363 s
   * and sees ETIMEDOUT after the 11th SYN). Linux has none (null).
   */
  readonly connectTimeoutUs: number | null;
  /**
   * SYN-ACK retransmissions of a passively opened connection before it is dropped. Linux
   * tcp_synack_retries 5 (SYN-ACKs at 0, 1, 3, 7, 15, 31 s, dropped at 63 s; pd: init_rto_passive_open.pkt
   * shows the first at +1 s). FreeBSD net.inet.tcp.syncache.rexmtlimit 3.
   */
  readonly synackRetries: number;
  /**
   * Data/FIN retransmissions before ETIMEDOUT. Linux tcp_retries2 15, judged by time as tcp_model_timeout
   * does (≈ 924.6 s with a 200 ms base RTO); FreeBSD TCP_MAXRXTSHIFT 12, by count.
   */
  readonly dataRetries: number;
  readonly dataRetriesRule: 'linux-time' | 'count';
  /**
   * Linux, on a SYN-ACK whose ACK is unacceptable, rearms the SYN timer to TCP_TIMEOUT_MIN (2 jiffies)
   * if no SYN was retransmitted yet ("Previous FIN/ACK or RST/ACK might be ignored",
   * tcp_rcv_synsent_state_process). 2 ms assumes HZ=1000. FreeBSD keeps its timer (pd: SYN again at 1 s).
   */
  readonly synSentBadAckRearmUs: number | null;
  /**
   * Persist (zero-window probe) timer bounds. Linux: RTO-based (max(RTO, TCP_RTO_MIN) << backoff, capped at
   * TCP_RTO_MAX; tcp_probe0_when). FreeBSD: TCPTV_PERSMIN 5 s .. TCPTV_PERSMAX 60 s (tcp_setpersist).
   */
  readonly persistMinUs: number;
  readonly persistMaxUs: number;

  // ---- Closing -----------------------------------------------------------------------------------------
  /** TIME-WAIT length: Linux TCP_TIMEWAIT_LEN 60 s; FreeBSD 2 × net.inet.tcp.msl (30 s) = 60 s. */
  readonly timeWaitUs: number;
  /**
   * How long FIN-WAIT-2 waits for the peer's FIN once the application has closed: Linux tcp_fin_timeout
   * 60 s; FreeBSD TP_MAXIDLE = tcp_keepcnt 8 × tcp_keepintvl 75 s = 600 s.
   */
  readonly finWait2TimeoutUs: number;
  /**
   * close() with unread received data sends RST instead of FIN (RFC 2525 §2.17): Linux tcp_close
   * ("data_was_unread"); FreeBSD closes with a FIN.
   */
  readonly rstOnCloseWithUnreadData: boolean;

  // ---- Acknowledgements ----------------------------------------------------------------------------
  readonly delayedAck: DelayedAck;
  /**
   * A FIN's ACK. linux: follows the delayed-ACK rules (tcp_fin schedules an ACK and enters pingpong mode:
   * immediate if no data was received yet, else ~40 ms; pd: tcp_basic_server.pkt `+.04 > . ack 1002`,
   * close-remote-fin-then-close.pkt `+0 > . ack 2`). freebsd: at once ("since we received a FIN then no
   * more input can be expected, send ACK now").
   */
  readonly finAck: 'delayed' | 'immediate';

  // ---- Segment validation ----------------------------------------------------------------------------
  readonly validation: Validation;
  /**
   * The receive window the acceptability tests use. advertised: what we last offered beyond RCV.NXT
   * (Linux tcp_receive_window). buffer: the larger of that and the free buffer space (FreeBSD
   * tp->rcv_wnd = max(sbspace, rcv_adv - rcv_nxt); pd: a RST at 65700 is "in the window" of a
   * connection that advertised 65535, rcv-rst-established-right-edge-secure-ipv4.pkt).
   */
  readonly checkWindow: 'advertised' | 'buffer';
  /**
   * The error a reset leaves. linux (tcp_reset): EPIPE in CLOSE-WAIT, ECONNRESET otherwise (SYN-RECEIVED
   * included). freebsd (tcp_input.c): ECONNREFUSED in SYN-RECEIVED, ECONNRESET otherwise (pd:
   * rcv-rst-last-ack-left-edge-secure-ipv4.pkt).
   */
  readonly resetErrno: 'linux' | 'freebsd';
  /**
   * RFC 5961: §3 RST not at RCV.NXT → challenge ACK, §4 SYN in a synchronized state → challenge ACK,
   * §5 ACK below SND.UNA - MAX.SND.WND → challenge ACK. Linux implements all three
   * (tcp_validate_incoming, tcp_ack). FreeBSD: RST and SYN (net.inet.tcp.insecure_rst=0,
   * insecure_syn=0; pd: *-secure-* scripts); §5 is not applied (doubtful, see report).
   */
  readonly rfc5961: { readonly rst: boolean; readonly syn: boolean; readonly ack: boolean };
  /**
   * Challenge ACKs (and, on Linux, dup-ACKs for out-of-window pure ACKs) allowed per window, per
   * connection. Linux 6.x: one per tcp_invalid_ratelimit 500 ms per socket (__tcp_oow_rate_limited; the
   * host-wide tcp_challenge_ack_limit defaults to INT_MAX since 6.0). FreeBSD 14: ack_war_cnt 5 per
   * ack_war_timewindow 1000 ms.
   */
  readonly challengeAckLimit: { readonly count: number; readonly windowUs: number };
  /** Whether out-of-window dup-ACKs for pure ACKs and SYNs share that limit (Linux tcp_oow_rate_limited). */
  readonly rateLimitOutOfWindowAcks: boolean;
  /**
   * A passively opened connection in SYN-RECEIVED. linux: a request socket (tcp_minisocks.c
   * tcp_check_req): a retransmitted SYN (same ISN) gets the SYN-ACK again, an in-window RST kills it, an
   * in-window SYN kills it with a RST, an out-of-window segment gets an ACK — no RFC 5961.
   * rfc9293: the RFC's steps with RFC 5961 (FreeBSD syncache: challenge ACK for an inexact RST, pd:
   * rcv-rst-syn-rcvd-via-listen-right-edge-secure-ipv4.pkt).
   */
  readonly passiveSynReceived: 'linux' | 'rfc9293';
  /** Data or FIN carried on a SYN-ACK: Linux ignores it (tcp_rcv_synsent_state_process); FreeBSD keeps it. */
  readonly synAckText: 'ignore' | 'accept';
  /**
   * A new SYN on a TIME-WAIT 4-tuple. linux (tcp_timewait_state_process → TCP_TW_SYN): reopen when
   * SEG.SEQ > RCV.NXT or the SYN's TSval is newer than TS.Recent, with ISN = SND.NXT + 65537.
   * freebsd (tcp_twcheck): reopen when SEG.SEQ > RCV.NXT, else drop (pd: rcv-syn-time-wait
   * FreeBSD branch). Otherwise both ACK (or drop) as RFC 9293 says.
   */
  readonly timeWaitSyn: 'linux' | 'freebsd';
  /** RFC 1337: a RST in TIME-WAIT is ignored. Linux tcp_rfc1337=0 lets it kill TIME-WAIT; FreeBSD ignores it (pd). */
  readonly timeWaitRstKills: boolean;
}

export const linux: Personality = {
  name: 'linux',
  optionLayout: 'linux',
  timestamps: true,
  sack: true,
  windowScaling: true,
  tsHz: 1000,
  defaultMssIpv4: 536,
  defaultMssIpv6: 1220,
  rcvSpace: 65536,
  sndBufDefault: 16384,
  rcvSpaceMax: 33554432,
  dsack: true,
  wscaleRule: 'linux',
  windowRule: 'linux',
  nagle: 'minshall',
  rcvBufRoundToMss: false,
  initialCwndSegments: 10,
  zeroWindowProbe: 'old-seq',
  pshRule: 'burst-end',
  ackCarriesUnackedFin: false,
  rtoInitialUs: 1_000_000,
  rtoMinUs: 200_000,
  rtoMaxUs: 120_000_000,
  rtoVarFloorUs: 200_000,
  rtoSlopUs: 0,
  backoffRule: 'linux',
  synRetries: 6,
  synLinearTimeouts: 4,
  connectTimeoutUs: null,
  synackRetries: 5,
  dataRetries: 15,
  dataRetriesRule: 'linux-time',
  synSentBadAckRearmUs: 2_000,
  persistMinUs: 200_000,
  persistMaxUs: 120_000_000,
  timeWaitUs: 60_000_000,
  finWait2TimeoutUs: 60_000_000,
  rstOnCloseWithUnreadData: true,
  delayedAck: { kind: 'linux', atoMinUs: 40_000, delAckMaxUs: 200_000, maxQuickAcks: 16 },
  finAck: 'delayed',
  validation: 'linux',
  checkWindow: 'advertised',
  resetErrno: 'linux',
  rfc5961: { rst: true, syn: true, ack: true },
  challengeAckLimit: { count: 1, windowUs: 500_000 },
  rateLimitOutOfWindowAcks: true,
  passiveSynReceived: 'linux',
  synAckText: 'ignore',
  timeWaitSyn: 'linux',
  timeWaitRstKills: true,
};

export const freebsd: Personality = {
  name: 'freebsd',
  optionLayout: 'freebsd',
  timestamps: true,
  sack: true,
  windowScaling: true,
  tsHz: 1000,
  defaultMssIpv4: 536,
  defaultMssIpv6: 1220,
  rcvSpace: 65536,
  sndBufDefault: 32768,
  rcvSpaceMax: 2097152,
  dsack: false,
  wscaleRule: 'freebsd',
  windowRule: 'freebsd',
  nagle: 'classic',
  rcvBufRoundToMss: true,
  initialCwndSegments: 10,
  zeroWindowProbe: 'one-byte',
  pshRule: 'buffer-end',
  ackCarriesUnackedFin: true,
  rtoInitialUs: 1_000_000,
  rtoMinUs: 30_000,
  rtoMaxUs: 64_000_000,
  rtoVarFloorUs: 0,
  rtoSlopUs: 200_000,
  backoffRule: 'freebsd',
  synRetries: 12,
  synLinearTimeouts: 0,
  connectTimeoutUs: 75_000_000,
  synackRetries: 3,
  dataRetries: 12,
  dataRetriesRule: 'count',
  synSentBadAckRearmUs: null,
  persistMinUs: 5_000_000,
  persistMaxUs: 60_000_000,
  timeWaitUs: 60_000_000,
  finWait2TimeoutUs: 600_000_000,
  rstOnCloseWithUnreadData: false,
  // TCPTV_DELACK is hz/10 = 100 ms in FreeBSD's tcp_timer.h (net.inet.tcp.delacktime).
  delayedAck: { kind: 'every-second', delayUs: 100_000 },
  finAck: 'immediate',
  validation: 'bsd',
  checkWindow: 'buffer',
  resetErrno: 'freebsd',
  rfc5961: { rst: true, syn: true, ack: false },
  challengeAckLimit: { count: 5, windowUs: 1_000_000 },
  rateLimitOutOfWindowAcks: false,
  passiveSynReceived: 'rfc9293',
  synAckText: 'accept',
  timeWaitSyn: 'freebsd',
  timeWaitRstKills: false,
};

/**
 * Linux 3.11 (2013) with its default sysctls, as google/packetdrill's old tests/linux/ scripts expect it
 * (run without an init script; MANIFEST tag `linux-3.11`). Only what differs from `linux` and shows on
 * the wire or in a call's result:
 * - rcvSpaceMax: 3.11 sized tcp_rmem[2] from memory (net/ipv4/tcp.c tcp_init: `limit =
 *   nr_free_buffer_pages() << (PAGE_SHIFT - 7); max_rshare = min(6UL*1024*1024, limit);
 *   sysctl_tcp_rmem[2] = max(87380, max_rshare);`) and tcp_select_initial_window shifted it down to 64 KiB
 *   (`while (space > 65535 && (*rcv_wscale) < 14) { space >>= 1; (*rcv_wscale)++; }`). The scripts'
 *   wscale 6 (pd: listen-incoming-ack.pkt, mss-getsockopt-tcp_maxseg-client.pkt) puts tcp_rmem[2] in
 *   [2 MiB, 4 MiB), a test machine of 256 to 512 MB; 2 MiB is taken.
 * - synLinearTimeouts 0: tcp_syn_linear_timeouts came with Linux 6.5 (commit ccce324dabfe, "tcp: make
 *   the first N SYN RTO backoffs linear"); 3.11's tcp_retransmit_timer always doubled
 *   (`icsk->icsk_rto = min(icsk->icsk_rto << 1, TCP_RTO_MAX)`) and tcp_write_timeout judged the attempt
 *   by tcp_syn_retries alone (retransmits_timed_out with that boundary).
 * - Challenge ACKs (RFC 5961, since 3.6) were limited host-wide to sysctl_tcp_challenge_ack_limit = 100
 *   per second (tcp_input.c tcp_send_challenge_ack); the per-socket limit on out-of-window ACKs
 *   (tcp_oow_rate_limited) came with 4.0 (commit f2b2c582e824, "tcp: mitigate ACK loops for connections
 *   as tcp_sock").
 * The initial receive window 3.11 offered (TCP_DEFAULT_INIT_RCVWND segments) is not modelled: no
 * linux-3.11 script checks the window of a segment synack sends.
 */
export const linux311: Personality = {
  ...linux,
  name: 'linux-3.11',
  rcvSpaceMax: 2097152,
  synLinearTimeouts: 0,
  challengeAckLimit: { count: 100, windowUs: 1_000_000 },
  rateLimitOutOfWindowAcks: false,
};

export const PERSONALITIES = { linux, freebsd } as const;

/** The window scale we offer for a receive space of `spaceMax` bytes (RFC 7323 §2.3 caps it at 14). */
export function offeredWindowScale(p: Personality, spaceMax: number): number {
  if (p.wscaleRule === 'linux') {
    const log = spaceMax > 0 ? Math.floor(Math.log2(spaceMax)) : 0;
    return Math.min(14, Math.max(0, log - 15));
  }
  let shift = 0;
  while (shift < 14 && 65535 * 2 ** shift < spaceMax) shift++;
  return shift;
}

/** The window in our SYN or SYN-ACK (never scaled, RFC 7323 §2.2). `mss` is the segment size it is rounded to. */
export function synWindow(p: Personality, space: number, mss: number): number {
  if (p.windowRule === 'linux') {
    const rounded = space > mss ? space - (space % mss) : space;
    return Math.min(rounded, 65535);
  }
  return Math.min(space, 65535);
}
