import { constants } from 'node:os';
import { describe, expect, test } from 'vitest';
import { ERRNO, ErrnoError, errnoName, errnoNumber, isErrno, orThrow, type Errno, type Result } from '../../src/socket/errno.js';

describe('errno table', () => {
  test('numbers are Linux numbers (checked against Node, which takes them from the C library)', () => {
    const libc = constants.errno as Record<string, number>;
    const missing: string[] = [];
    for (const [name, n] of Object.entries(ERRNO)) {
      if (libc[name] === undefined) missing.push(name);
      else expect(n, name).toBe(libc[name]);
    }
    // Node lists no constant for these; the values are from include/uapi/asm-generic/errno.h.
    expect(missing.sort()).toEqual(['EHOSTDOWN', 'EPFNOSUPPORT', 'ESHUTDOWN', 'ESOCKTNOSUPPORT', 'ETOOMANYREFS']);
    expect([ERRNO.ESOCKTNOSUPPORT, ERRNO.EPFNOSUPPORT, ERRNO.ESHUTDOWN, ERRNO.ETOOMANYREFS, ERRNO.EHOSTDOWN]).toEqual([94, 96, 108, 109, 112]);
  });

  test('the names the socket calls use, with the numbers the brief fixes', () => {
    const want: Array<[Errno, number]> = [
      ['EPERM', 1], ['EBADF', 9], ['EAGAIN', 11], ['EINVAL', 22], ['EMFILE', 24], ['EPIPE', 32],
      ['ENOTSOCK', 88], ['ENOPROTOOPT', 92], ['EOPNOTSUPP', 95], ['EAFNOSUPPORT', 97], ['EADDRINUSE', 98],
      ['EADDRNOTAVAIL', 99], ['ECONNABORTED', 103], ['ECONNRESET', 104], ['EISCONN', 106], ['ENOTCONN', 107],
      ['ETIMEDOUT', 110], ['ECONNREFUSED', 111], ['EHOSTUNREACH', 113], ['EALREADY', 114], ['EINPROGRESS', 115],
    ];
    for (const [name, n] of want) {
      expect(errnoNumber(name)).toBe(n);
      expect(errnoName(n)).toBe(name);
    }
  });

  test('numbers map back to one name each; unknown numbers give undefined', () => {
    const numbers = Object.values(ERRNO);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const name of Object.keys(ERRNO) as Errno[]) expect(errnoName(errnoNumber(name))).toBe(name);
    expect(errnoName(0)).toBeUndefined();
    expect(errnoName(15)).toBeUndefined(); // ENOTBLK: not a socket error, not listed
    expect(errnoName(9999)).toBeUndefined();
  });
});

describe('Result convention', () => {
  const ok: Result<number> = 3;
  const bad: Result<number> = 'EMFILE';

  test('isErrno tells values from errno names', () => {
    expect(isErrno(ok)).toBe(false);
    expect(isErrno(bad)).toBe(true);
    expect(isErrno<object>({})).toBe(false);
    expect(isErrno<boolean>(true)).toBe(false);
    expect(isErrno('toString' as Result<number>)).toBe(false); // not fooled by Object.prototype
  });

  test('orThrow unwraps a value and throws ErrnoError with name and number', () => {
    expect(orThrow(ok)).toBe(3);
    expect(() => orThrow(bad, 'socket')).toThrow(ErrnoError);
    try {
      orThrow(bad, 'socket');
    } catch (e) {
      expect(e).toBeInstanceOf(ErrnoError);
      expect((e as ErrnoError).errno).toBe('EMFILE');
      expect((e as ErrnoError).code).toBe(24);
      expect((e as ErrnoError).message).toBe('socket: EMFILE (24)');
    }
  });
});
