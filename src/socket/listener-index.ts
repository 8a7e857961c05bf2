/**
 * Listeners by local port, then local address (DESIGN.md decision 4, steps two and three): a SYN
 * that matched no connection goes to the listener bound to its exact destination address if there
 * is one, else to one bound to the wildcard. That is Linux's __inet_lookup_listener: it scores the
 * sockets of the (address, port) bucket, and only when that finds nothing does it score the
 * (INADDR_ANY, port) bucket. Inside a pass the highest score wins (compute_score): a socket bound
 * to the frame's device (here: its VLAN key) scores 2, an unbound one 1, and an AF_INET socket one
 * more than an AF_INET6 one for an IPv4 frame; ties go to the listener added last (Linux adds to
 * the head of the bucket's list).
 *
 * IPv4 frames also reach AF_INET6 listeners, as in Linux: one bound to :: unless it set
 * IPV6_V6ONLY, and one bound to a v4-mapped address (::ffff:a.b.c.d, or ::ffff:0.0.0.0 as a
 * wildcard). IPv6 frames reach only AF_INET6 listeners. SO_REUSEPORT groups are out of scope.
 *
 * Lookups take numbers a view can read without allocating; the API side adds and removes with a
 * text record. A port's listeners sit in a small array scanned twice, which beats any hashing for
 * the one or two listeners a port has in practice.
 */
import type { Bytes } from '../wire/bytes.js';
import { ipKeyOrThrow, ipKeyText, isAnyKey, isMappedWords, isV4Like, parseIp } from './ip.js';

export interface ListenerKey {
  /** Bound address: "0.0.0.0", "::", a unicast address, or a v4-mapped "::ffff:a.b.c.d". */
  address: string;
  port: number;
  /** IPV6_V6ONLY on an AF_INET6 listener: IPv4 frames never reach it. */
  v6only?: boolean;
  /** Bound to one VLAN key (like SO_BINDTODEVICE); absent = any VLAN. */
  vlan?: number;
}

/** Which pass found the listener, as the trace names demux steps. */
export type ListenerStep = 'listener-exact' | 'listener-any' | 'none';

interface Entry<L> {
  readonly key: ListenerKey;
  readonly family: 4 | 6;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  /** Takes IPv4 frames: AF_INET, or AF_INET6 bound to :: without V6ONLY, or v4-mapped. */
  readonly v4ok: boolean;
  /** Matches any IPv4 destination (0.0.0.0, :: without V6ONLY, ::ffff:0.0.0.0). */
  readonly v4any: boolean;
  /** Bound to :: (the IPv6 wildcard). */
  readonly v6any: boolean;
  /** VLAN key it is bound to, or -1. */
  readonly vlan: number;
  readonly value: L;
}

export class ListenerIndex<L> {
  private readonly byPort = new Map<number, Array<Entry<L>>>();
  private readonly byValue = new Map<L, Entry<L>>();
  /** The pass that answered the last lookup (so the Host can name the demux step without a second call). */
  lastStep: ListenerStep = 'none';

  get size(): number {
    return this.byValue.size;
  }

  has(listener: L): boolean {
    return this.byValue.has(listener);
  }

  /** Linux __inet_hash for a listening socket. A listener object can be added once. */
  add(key: ListenerKey, listener: L): void {
    if (this.byValue.has(listener)) throw new RangeError('ListenerIndex.add: listener already added');
    if (!Number.isInteger(key.port) || key.port < 0 || key.port > 0xffff) throw new RangeError(`not a port: ${key.port}`);
    const k = ipKeyOrThrow(key.address);
    const mapped = k.family === 6 && isV4Like(k);
    const any = isAnyKey(k);
    const v6only = k.family === 6 && key.v6only === true;
    const e: Entry<L> = {
      key: { ...key },
      family: k.family,
      w0: k.w0,
      w1: k.w1,
      w2: k.w2,
      w3: k.w3,
      v4ok: k.family === 4 || (!v6only && (any || mapped)),
      v4any: k.family === 4 ? any : !v6only && (any || (mapped && k.w3 === 0)),
      v6any: k.family === 6 && any,
      vlan: key.vlan ?? -1,
      value: listener,
    };
    let list = this.byPort.get(key.port);
    if (list === undefined) {
      list = [];
      this.byPort.set(key.port, list);
    }
    list.push(e);
    this.byValue.set(listener, e);
  }

  /** Linux inet_unhash for a listening socket; false when it was not there. */
  remove(listener: L): boolean {
    const e = this.byValue.get(listener);
    if (e === undefined) return false;
    this.byValue.delete(listener);
    const list = this.byPort.get(e.key.port) as Array<Entry<L>>;
    list.splice(list.indexOf(e), 1);
    if (list.length === 0) this.byPort.delete(e.key.port);
    return true;
  }

  /** The key a listener was added with. */
  keyOf(listener: L): ListenerKey | undefined {
    const e = this.byValue.get(listener);
    return e === undefined ? undefined : { ...e.key };
  }

  /** Listener for an IPv4 frame to localAddr (big-endian u32) : port on VLAN key `vlan`; sets lastStep. */
  lookupV4(localAddr: number, port: number, vlan = 0): L | undefined {
    const list = this.byPort.get(port);
    if (list !== undefined) {
      let best = this.scoreV4(list, localAddr, vlan, false);
      if (best !== undefined) {
        this.lastStep = 'listener-exact';
        return best.value;
      }
      best = this.scoreV4(list, localAddr, vlan, true);
      if (best !== undefined) {
        this.lastStep = 'listener-any';
        return best.value;
      }
    }
    this.lastStep = 'none';
    return undefined;
  }

  /** lookupV4 with the destination address read from bytes (offset of the IPv4 destination). */
  lookupV4Bytes(b: Bytes, localAddrOff: number, port: number, vlan = 0): L | undefined {
    return this.lookupV4(b.dv.getUint32(localAddrOff), port, vlan);
  }

  /** Listener for an IPv6 frame to the 16-byte address at b[localAddrOff]; sets lastStep. */
  lookupV6(b: Bytes, localAddrOff: number, port: number, vlan = 0): L | undefined {
    const dv = b.dv;
    return this.lookupV6Words(dv.getUint32(localAddrOff), dv.getUint32(localAddrOff + 4), dv.getUint32(localAddrOff + 8), dv.getUint32(localAddrOff + 12), port, vlan);
  }

  lookupV6Words(w0: number, w1: number, w2: number, w3: number, port: number, vlan = 0): L | undefined {
    const list = this.byPort.get(port);
    if (list !== undefined) {
      let best = this.scoreV6(list, w0, w1, w2, w3, vlan, false);
      if (best !== undefined) {
        this.lastStep = 'listener-exact';
        return best.value;
      }
      best = this.scoreV6(list, w0, w1, w2, w3, vlan, true);
      if (best !== undefined) {
        this.lastStep = 'listener-any';
        return best.value;
      }
    }
    this.lastStep = 'none';
    return undefined;
  }

  /** By text address (IPv4 text goes the IPv4 way, IPv6 text the IPv6 way); sets lastStep. */
  lookup(localAddress: string, port: number, vlan = 0): L | undefined {
    const k = parseIp(localAddress);
    if (k === undefined) {
      this.lastStep = 'none';
      return undefined;
    }
    return k.family === 4 ? this.lookupV4(k.w3, port, vlan) : this.lookupV6Words(k.w0, k.w1, k.w2, k.w3, port, vlan);
  }

  *entries(): IterableIterator<[ListenerKey, L]> {
    for (const e of this.byValue.values()) yield [{ ...e.key }, e.value];
  }

  /** Text of the address a listener is bound to, normalised ("::ffff:1.2.3.4", "::"). */
  addressOf(listener: L): string | undefined {
    const e = this.byValue.get(listener);
    return e === undefined ? undefined : ipKeyText(e);
  }

  private scoreV4(list: Array<Entry<L>>, addr: number, vlan: number, anyPass: boolean): Entry<L> | undefined {
    let best: Entry<L> | undefined;
    let hi = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as Entry<L>;
      if (!e.v4ok) continue;
      if (anyPass ? !e.v4any : e.v4any || e.w3 !== addr || !isMappedWords(e.w0, e.w1, e.w2)) continue;
      if (e.vlan >= 0 && e.vlan !== vlan) continue;
      const score = (e.vlan >= 0 ? 2 : 1) + (e.family === 4 ? 1 : 0);
      if (score > hi) {
        hi = score;
        best = e;
      }
    }
    return best;
  }

  private scoreV6(list: Array<Entry<L>>, w0: number, w1: number, w2: number, w3: number, vlan: number, anyPass: boolean): Entry<L> | undefined {
    let best: Entry<L> | undefined;
    let hi = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as Entry<L>;
      if (e.family !== 6) continue;
      if (anyPass ? !e.v6any : e.v6any || e.w0 !== w0 || e.w1 !== w1 || e.w2 !== w2 || e.w3 !== w3) continue;
      if (e.vlan >= 0 && e.vlan !== vlan) continue;
      const score = e.vlan >= 0 ? 2 : 1;
      if (score > hi) {
        hi = score;
        best = e;
      }
    }
    return best;
  }
}
