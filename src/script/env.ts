/**
 * The machine a script runs on: which personality, which script options (`--tolerance_usecs=...`), which
 * addresses, and what the sysctl commands of a script do to it.
 *
 * packetdrill runs a script against a kernel whose sysctls the script may change (FreeBSD `sysctl -w`,
 * Linux defaults.sh and set_sysctls.py). synack has no sysctls: each command the scripts use is mapped
 * onto the personality (a private, mutable copy per run, shared by every connection of that run, so a
 * sysctl applies at once as a global one does) or onto the Host's listen settings. A sysctl this file
 * cannot map is unsupported: the script is skipped, never run with the setting silently ignored.
 */
import { seededRandom } from '../tcp/random.js';
import { isIpv4, isIpv6 } from '../wire/address.js';
import type { ListenSettings, SynCookieMode } from '../socket/queues.js';
import { freebsd, linux, linux311 } from '../tcp/personality.js';
import type { Personality } from '../tcp/personality.js';
import type { Random } from '../tcp/env.js';
import type { Script, ScriptOption } from './ast.js';

export type PersonalityName = 'linux' | 'linux-3.11' | 'freebsd';

export const PERSONALITY_NAMES: readonly PersonalityName[] = ['linux', 'linux-3.11', 'freebsd'];

export function personalityByName(name: PersonalityName): Personality {
  switch (name) {
    case 'linux':
      return linux;
    case 'linux-3.11':
      return linux311;
    case 'freebsd':
      return freebsd;
    default: {
      const never: never = name;
      return never;
    }
  }
}

export function isPersonalityName(s: string): s is PersonalityName {
  return (PERSONALITY_NAMES as readonly string[]).includes(s);
}

/** A personality a run may change field by field (sysctls). */
export type MutablePersonality = { -readonly [K in keyof Personality]: Personality[K] };

/** Which family of sysctls (and of default defines) a personality answers to. */
export function familyOf(p: Personality): 'linux' | 'freebsd' {
  return p.name === 'freebsd' ? 'freebsd' : 'linux';
}

/*
 * Addresses. The runner's host and its peer live on a virtual link inside the process: nothing is sent
 * on any network. The IPv4 pair is from 198.18.0.0/15 (RFC 2544 benchmarking, never routed), the IPv6
 * pair from 2001:2::/48 (RFC 5180 benchmarking). packetdrill's own defaults (192.168.0.1 / 192.0.2.1)
 * are not observable in any script: addresses appear in no script line, and the MSS depends only on the
 * family (1460 for IPv4, 1440 for IPv6 on a 1500-byte link), which these addresses keep.
 */
export const DEFAULT_ADDRESSES = {
  4: { local: '198.18.0.1', remote: '198.18.0.2' },
  6: { local: '2001:2::1', remote: '2001:2::2' },
} as const;

/** MACs of the virtual link (locally administered). */
export const LOCAL_MAC = '02:00:00:00:00:01';
export const REMOTE_MAC = '02:00:00:00:00:02';

/** The script options, with packetdrill's defaults (config.c set_default_config). */
export interface ScriptConfig {
  ipVersion: 4 | 6;
  localIp: string;
  remoteIp: string;
  /** `bind(fd, ..., ...)` binds this port; the peer of a passive connection talks to it. */
  bindPort: number;
  /** `connect(fd, ..., ...)` connects to remote:connectPort. */
  connectPort: number;
  /** The timing tolerance floor (µs). */
  toleranceUsecs: number;
  /**
   * The dynamic tolerance: this percentage of the time since the previous event, when larger. google
   * packetdrill: 12.5 on Linux (config.c: the worst-case timer-wheel inaccuracy since Linux 4.8), 5 on
   * FreeBSD; the nplab fork the FreeBSD suite is run with has none (0).
   */
  tolerancePercent: number;
  /** `--tcp_ts_tick_usecs`: check TS val against the script, one tick = this many µs; 0 = don't. */
  tsTickUsecs: number;
  /**
   * `--mss`: packetdrill writes inbound packets to tun with this gso_size. A segment no longer than it is
   * an ordinary segment; a longer one (a GSO packet) is unsupported.
   */
  gsoMss: number | null;
  /** `--mtu`: the link MTU; our MSS is the MTU less the IP and TCP headers. */
  mtu: number;
  /** `--strict_segments`: no aggregation of outbound segments. */
  strictSegments: boolean;
  /** Names defined for `#ifdef` (and, with a value, substituted in expressions). */
  defines: Map<string, string | null>;
}

export interface ConfigProblem {
  option: ScriptOption;
  message: string;
}

function intOption(o: ScriptOption, min: number, max: number): number | string {
  const v = o.value ?? '';
  if (!/^[0-9]+$/.test(v)) return `--${o.name} needs a whole number, got '${v}'`;
  const n = Number(v);
  if (n < min || n > max) return `--${o.name}=${v} is out of range (${min}..${max})`;
  return n;
}

/** The configuration a script's options ask for, on the given personality, plus `defines` from the caller. */
export function scriptConfig(script: Script, personality: Personality, defines: Iterable<string>): { config: ScriptConfig; problems: ConfigProblem[] } {
  const family = familyOf(personality);
  const problems: ConfigProblem[] = [];
  let ipVersion: 4 | 6 = 4;
  for (const o of script.options) if (o.name === 'ip_version' && o.value === 'ipv6') ipVersion = 6;
  const config: ScriptConfig = {
    ipVersion,
    localIp: DEFAULT_ADDRESSES[ipVersion].local,
    remoteIp: DEFAULT_ADDRESSES[ipVersion].remote,
    bindPort: 8080,
    connectPort: 8080,
    toleranceUsecs: 4000,
    tolerancePercent: family === 'freebsd' ? 0 : 12.5,
    tsTickUsecs: 0,
    gsoMss: null,
    mtu: 1500,
    strictSegments: false,
    // packetdrill defines the name of the OS it runs on (config.c set_default_config).
    defines: new Map([[family === 'freebsd' ? 'FreeBSD' : 'Linux', null]]),
  };
  for (const d of defines) addDefine(config.defines, d);
  for (const o of script.options) {
    const set = (r: number | string, f: (n: number) => void): void => {
      if (typeof r === 'string') problems.push({ option: o, message: r });
      else f(r);
    };
    switch (o.name) {
      case 'ip_version':
        if (o.value !== 'ipv4' && o.value !== 'ipv6') problems.push({ option: o, message: `--ip_version=${o.value ?? ''} is not supported` });
        break;
      case 'tolerance_usecs':
        set(intOption(o, 1, 2 ** 31), (n) => (config.toleranceUsecs = n));
        break;
      case 'tolerance_percent': {
        const n = Number(o.value);
        if (!Number.isFinite(n) || n < 0 || n > 100) problems.push({ option: o, message: `bad --tolerance_percent: ${o.value ?? ''}` });
        else config.tolerancePercent = n;
        break;
      }
      case 'tcp_ts_tick_usecs':
        set(intOption(o, 0, 1_000_000), (n) => (config.tsTickUsecs = n));
        break;
      case 'mss':
        set(intOption(o, 1, 65535), (n) => (config.gsoMss = n));
        break;
      case 'mtu':
        set(intOption(o, 576, 65535), (n) => (config.mtu = n));
        break;
      case 'bind_port':
        set(intOption(o, 1, 65535), (n) => (config.bindPort = n));
        break;
      case 'connect_port':
        set(intOption(o, 1, 65535), (n) => (config.connectPort = n));
        break;
      case 'local_ip':
      case 'remote_ip': {
        // packetdrill accepts a prefix for the remote address (192.0.2.1/24); the address is what matters.
        const addr = (o.value ?? '').replace(/\/[0-9]+$/, '');
        if (!(ipVersion === 4 ? isIpv4(addr) : isIpv6(addr))) problems.push({ option: o, message: `--${o.name}=${o.value ?? ''} is not an IPv${ipVersion} address` });
        else if (o.name === 'local_ip') config.localIp = addr;
        else config.remoteIp = addr;
        break;
      }
      case 'strict_segments':
        config.strictSegments = true;
        break;
      case 'define':
        addDefine(config.defines, o.value ?? '');
        break;
      default:
        problems.push({ option: o, message: `option --${o.name} is not supported` });
    }
  }
  return { config, problems };
}

function addDefine(defines: Map<string, string | null>, text: string): void {
  const eq = text.indexOf('=');
  if (eq < 0) defines.set(text, null);
  else defines.set(text.slice(0, eq), text.slice(eq + 1));
}

/** Our MSS on this configuration's link: the MTU less 40 (IPv4 + TCP) or 60 (IPv6 + TCP) octets. */
export function linkMss(config: ScriptConfig): number {
  return config.mtu - (config.ipVersion === 4 ? 40 : 60);
}

// ---------------------------------------------------------------------------------------------------
// sysctls

/** What a run's sysctls act on. */
export interface Knobs {
  personality: MutablePersonality;
  listen: ListenSettings;
  /** FreeBSD net.inet.tcp.sendspace: the send buffer of new sockets. */
  sendSpace: number | null;
}

type Apply = (v: number, k: Knobs) => void;

interface SysctlRule {
  /** Values synack runs (others are unsupported); null: any whole number. */
  readonly values: readonly number[] | null;
  readonly apply: Apply;
}

const noop: Apply = () => {};
const ms = (v: number): number => v * 1000;

/**
 * FreeBSD sysctls (tcp(4), sysctl -d). Times are in milliseconds (sysctl_msec_to_ticks).
 * - rfc1323 1 offers window scaling and timestamps; 0 neither (tcp_output.c TF_REQ_SCALE | TF_REQ_TSTMP).
 * - insecure_rst / insecure_syn 0 (the default) are RFC 5961 §3 / §4; 1 is RFC 793 behaviour.
 * - blackhole 0 (the default): closed ports answer with a RST, as synack does.
 * - ecn.enable 0 or 2: synack never asks for ECN (2 = only answer a peer that asks; no script here asks).
 * - hostcache.purgenow 1: synack keeps no host cache between connections, so there is nothing to purge.
 * - rexmit_drop_options 0 (the default): SYN retransmissions keep their options, as synack's do.
 */
const FREEBSD_SYSCTLS: Readonly<Record<string, SysctlRule>> = {
  'net.inet.tcp.rfc1323': { values: [0, 1], apply: (v, k) => { k.personality.timestamps = v !== 0; k.personality.windowScaling = v !== 0; } },
  'net.inet.tcp.sack.enable': { values: [0, 1], apply: (v, k) => { k.personality.sack = v !== 0; } },
  'net.inet.tcp.insecure_rst': { values: [0, 1], apply: (v, k) => { k.personality.rfc5961 = { ...k.personality.rfc5961, rst: v === 0 }; } },
  'net.inet.tcp.insecure_syn': { values: [0, 1], apply: (v, k) => { k.personality.rfc5961 = { ...k.personality.rfc5961, syn: v === 0 }; } },
  'net.inet.tcp.blackhole': { values: [0], apply: noop },
  'net.inet.tcp.ecn.enable': { values: [0, 2], apply: noop },
  'net.inet.tcp.hostcache.purgenow': { values: [1], apply: noop },
  'net.inet.tcp.rexmit_initial': { values: null, apply: (v, k) => { k.personality.rtoInitialUs = ms(v); } },
  'net.inet.tcp.rexmit_min': { values: null, apply: (v, k) => { k.personality.rtoMinUs = ms(v); } },
  'net.inet.tcp.rexmit_slop': { values: null, apply: (v, k) => { k.personality.rtoSlopUs = ms(v); } },
  'net.inet.tcp.rexmit_drop_options': { values: [0], apply: noop },
  'net.inet.tcp.keepinit': { values: null, apply: (v, k) => { k.personality.connectTimeoutUs = ms(v); } },
  'net.inet.tcp.recvspace': { values: null, apply: (v, k) => { k.personality.rcvSpace = v; } },
  'net.inet.tcp.sendspace': { values: null, apply: (v, k) => { k.sendSpace = v; } },
  'net.inet.tcp.mssdflt': { values: null, apply: (v, k) => { k.personality.defaultMssIpv4 = v; } },
  // sb_max decides the window scale offered (tcp_output.c: the smallest shift with TCP_MAXWIN << shift >= sb_max).
  'kern.ipc.maxsockbuf': { values: null, apply: (v, k) => { k.personality.rcvSpaceMax = v; } },
};

const COOKIES: readonly SynCookieMode[] = ['off', 'on-overflow', 'always'];

/** Linux sysctls (Documentation/networking/ip-sysctl.rst). */
const LINUX_SYSCTLS: Readonly<Record<string, SysctlRule>> = {
  'net.ipv4.tcp_syn_retries': { values: null, apply: (v, k) => { k.personality.synRetries = v; } },
  'net.ipv4.tcp_synack_retries': { values: null, apply: (v, k) => { k.personality.synackRetries = v; } },
  'net.ipv4.tcp_timestamps': { values: [0, 1], apply: (v, k) => { k.personality.timestamps = v !== 0; } },
  'net.ipv4.tcp_sack': { values: [0, 1], apply: (v, k) => { k.personality.sack = v !== 0; } },
  'net.ipv4.tcp_window_scaling': { values: [0, 1], apply: (v, k) => { k.personality.windowScaling = v !== 0; } },
  'net.ipv4.tcp_syncookies': { values: [0, 1, 2], apply: (v, k) => { k.listen.syncookies = COOKIES[v] as SynCookieMode; } },
  'net.ipv4.tcp_rfc1337': { values: [0, 1], apply: (v, k) => { k.personality.timeWaitRstKills = v === 0; } },
  'net.ipv4.tcp_fin_timeout': { values: null, apply: (v, k) => { k.personality.finWait2TimeoutUs = v * 1_000_000; } },
  'net.ipv4.tcp_abort_on_overflow': { values: [0, 1], apply: (v, k) => { k.listen.abortOnOverflow = v !== 0; } },
  'net.ipv4.tcp_max_syn_backlog': { values: null, apply: (v, k) => { k.listen.maxSynBacklog = v; } },
};

function ruleFor(name: string, family: 'linux' | 'freebsd'): SysctlRule | undefined {
  return (family === 'freebsd' ? FREEBSD_SYSCTLS : LINUX_SYSCTLS)[name];
}

/** Why `name=value` cannot run under this family, or null when it can. */
export function sysctlProblem(name: string, value: string, family: 'linux' | 'freebsd'): string | null {
  const rule = ruleFor(name, family);
  if (rule === undefined) {
    const other = ruleFor(name, family === 'freebsd' ? 'linux' : 'freebsd');
    return other !== undefined ? `sysctl ${name} (a ${family === 'freebsd' ? 'Linux' : 'FreeBSD'} sysctl) under the ${family} personality` : `sysctl ${name}`;
  }
  if (!/^[0-9]+$/.test(value)) return `sysctl ${name}=${value}`;
  if (rule.values !== null && !rule.values.includes(Number(value))) return `sysctl ${name}=${value}`;
  return null;
}

/** Whether any personality runs `name=value` (for unsupportedOf, which does not know the personality). */
export function sysctlKnown(name: string, value: string): boolean {
  return sysctlProblem(name, value, 'linux') === null || sysctlProblem(name, value, 'freebsd') === null;
}

/** Why `name=value` runs under no personality (unsupportedOf's wording), or null. */
export function sysctlUnsupported(name: string, value: string): string | null {
  if (sysctlKnown(name, value)) return null;
  return ruleFor(name, 'linux') === undefined && ruleFor(name, 'freebsd') === undefined ? `sysctl ${name}` : `sysctl ${name}=${value}`;
}

/** Applies `name=value` (which sysctlProblem accepted). */
export function applySysctl(name: string, value: string, k: Knobs): void {
  const rule = ruleFor(name, familyOf(k.personality));
  if (rule === undefined) throw new Error(`applySysctl: ${name} was not checked`);
  rule.apply(Number(value), k);
}

/**
 * What packetdrill's Linux init script (gtests/net/common/defaults.sh, NOTES.md §1.9) sets that synack
 * models: tcp_rmem "4096 540000 15728640" (the window space is half of tcp_rmem[1] at the default
 * scaling ratio; tcp_rmem[2] decides wscale 8), tcp_timestamps=1, tcp_sack=1, tcp_syn_retries=5,
 * tcp_synack_retries=5, tcp_syncookies=1. The rest of it (congestion control, pacing, RACK, TSO, ECN,
 * Fast Open keys, qdisc) concerns nothing synack does.
 */
export function applyLinuxDefaults(k: Knobs): void {
  const p = k.personality;
  p.rcvSpace = 270000;
  p.rcvSpaceMax = 15728640;
  p.timestamps = true;
  p.sack = true;
  p.synRetries = 5;
  p.synackRetries = 5;
  k.listen.syncookies = 'on-overflow';
}

/**
 * A deterministic random source for the run's Host (ISNs, timestamp offsets, ephemeral ports): random
 * enough that the runner's sequence-number mapping is exercised, the same on every run of a script.
 * (tcp/random.ts's seeded mulberry32.)
 */
export function runRandom(seed: number): Random {
  return seededRandom(seed);
}
