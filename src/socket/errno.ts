/**
 * Errors are values (DESIGN.md decision 6): a socket call returns its result or an errno NAME
 * ('ECONNREFUSED'), never throws. This is the one table of names with their Linux numbers
 * (include/uapi/asm-generic/errno-base.h and errno.h), so a trace or a packetdrill script can print
 * either form. Aliases Linux defines to the same number (EWOULDBLOCK = EAGAIN, ENOTSUP = EOPNOTSUPP)
 * are left out so that a number maps back to exactly one name; use the canonical one.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  ENOSYS: 38,
  EPROTO: 71,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EPFNOSUPPORT: 96,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

export type Errno = keyof typeof ERRNO;

/**
 * A socket call's outcome: the value, or the errno name a C caller would find in `errno`.
 * Meant for non-string T (descriptors, records, `true`), so that `isErrno` can tell the two apart.
 */
export type Result<T> = T | Errno;

const BY_NUMBER = new Map<number, Errno>();
for (const name of Object.keys(ERRNO) as Errno[]) BY_NUMBER.set(ERRNO[name], name);

export function errnoNumber(name: Errno): number {
  return ERRNO[name];
}

/** The name for a Linux errno number, or undefined for a number this table does not list. */
export function errnoName(n: number): Errno | undefined {
  return BY_NUMBER.get(n);
}

export function isErrno<T>(r: Result<T>): r is Errno {
  return typeof r === 'string' && Object.prototype.hasOwnProperty.call(ERRNO, r);
}

/** What `orThrow` throws: the name and number of the failed call, for scripts that prefer exceptions. */
export class ErrnoError extends Error {
  readonly errno: Errno;
  readonly code: number;
  constructor(errno: Errno, what?: string) {
    super(what === undefined ? `${errno} (${ERRNO[errno]})` : `${what}: ${errno} (${ERRNO[errno]})`);
    this.name = 'ErrnoError';
    this.errno = errno;
    this.code = ERRNO[errno];
  }
}

/** The only throwing helper: unwraps a Result, throwing an ErrnoError for an errno name. */
export function orThrow<T>(r: Result<T>, what?: string): T {
  if (isErrno(r)) throw new ErrnoError(r, what);
  return r as T;
}
