/**
 * What the dialect knows by name: system calls, errno names, symbolic constants, script options, TCP
 * states (the sysctls the runner maps are in env.ts, next to what they do). Each table separates "known to packetdrill" (a name that is not a typo: using it is
 * at worst unsupported) from "synack's runner implements it". Unknown system calls, errno names and
 * options are errors, as in packetdrill; unknown symbolic constants are unsupported, because
 * packetdrill's own symbol table (symbols_*.c) is far larger than what a TCP handshake needs.
 */
import type { TcpStateName } from './ast.js';

/** Argument count: exact, or [min, max]. */
export type Arity = number | readonly [number, number];

export interface SyscallInfo {
  readonly arity: Arity;
  readonly supported: boolean;
}

/** packetdrill's system calls (run_system_call.c, google and nplab), with the argument counts it checks. */
export const SYSCALLS: Readonly<Record<string, SyscallInfo>> = {
  socket: { arity: 3, supported: true },
  bind: { arity: 3, supported: true },
  listen: { arity: 2, supported: true },
  accept: { arity: 3, supported: true },
  connect: { arity: 3, supported: true },
  read: { arity: 3, supported: true },
  recv: { arity: 4, supported: true },
  recvfrom: { arity: 6, supported: true },
  write: { arity: 3, supported: true },
  send: { arity: 4, supported: true },
  sendto: { arity: 6, supported: true },
  close: { arity: 1, supported: true },
  shutdown: { arity: 2, supported: true },
  getsockopt: { arity: 5, supported: true },
  setsockopt: { arity: 5, supported: true },
  fcntl: { arity: [2, 3], supported: true },
  ioctl: { arity: 3, supported: true },
  getsockname: { arity: 3, supported: true },
  getpeername: { arity: 3, supported: true },
  poll: { arity: 3, supported: true },
  readv: { arity: 3, supported: false },
  writev: { arity: 3, supported: false },
  recvmsg: { arity: 3, supported: false },
  sendmsg: { arity: 3, supported: false },
  sendfile: { arity: 4, supported: false },
  open: { arity: [2, 3], supported: false },
  pipe: { arity: 1, supported: false },
  splice: { arity: 6, supported: false },
  epoll_create: { arity: 1, supported: false },
  epoll_ctl: { arity: 4, supported: false },
  epoll_wait: { arity: 4, supported: false },
  select: { arity: 5, supported: false },
  sctp_sendmsg: { arity: 10, supported: false },
  sctp_recvmsg: { arity: 7, supported: false },
  sctp_send: { arity: 5, supported: false },
  sctp_sendx: { arity: 6, supported: false },
  sctp_sendv: { arity: 7, supported: false },
  sctp_recvv: { arity: 7, supported: false },
  sctp_bindx: { arity: 4, supported: false },
  sctp_connectx: { arity: 4, supported: false },
  sctp_peeloff: { arity: 2, supported: false },
  sctp_getpaddrs: { arity: 3, supported: false },
  sctp_freepaddrs: { arity: 1, supported: false },
  sctp_getladdrs: { arity: 3, supported: false },
  sctp_freeladdrs: { arity: 1, supported: false },
};

/** "3 arguments", "2 or 3 arguments". */
export function arityText(arity: Arity): string {
  if (typeof arity === 'number') return `${arity} argument${arity === 1 ? '' : 's'}`;
  const [min, max] = arity;
  return `${min} ${max - min === 1 ? 'or' : 'to'} ${max} arguments`;
}

export function arityAccepts(arity: Arity, count: number): boolean {
  return typeof arity === 'number' ? count === arity : count >= arity[0] && count <= arity[1];
}

/**
 * errno names a script may expect (Linux's full set, plus the BSD-only names the FreeBSD suite could
 * use). A name outside this list is a typo: packetdrill fails the script on it.
 */
export const ERRNO_NAMES: ReadonlySet<string> = new Set([
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN',
  'EWOULDBLOCK', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
  'ENOMSG', 'EIDRM', 'ENOSTR', 'ENODATA', 'ETIME', 'ENOSR', 'ENOLINK', 'EPROTO', 'EBADMSG', 'EOVERFLOW',
  'EILSEQ', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE', 'EPROTOTYPE', 'ENOPROTOOPT',
  'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'ENOTSUP', 'EPFNOSUPPORT', 'EAFNOSUPPORT',
  'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN', 'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET',
  'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTDOWN',
  'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE', 'EDQUOT', 'ECANCELED', 'EOWNERDEAD',
  'ENOTRECOVERABLE', 'ERESTART', 'ESTRPIPE', 'EREMOTEIO', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED',
  'EKEYREJECTED', 'ERFKILL', 'EHWPOISON', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECHRNG', 'EL2NSYNC', 'EL3HLT',
  'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI', 'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC',
  'EBADSLT', 'EDEADLOCK', 'EBFONT', 'ENONET', 'ENOPKG', 'EREMOTE', 'EADV', 'ESRMNT', 'ECOMM', 'EDOTDOT',
  'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD', 'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EUCLEAN',
  'ENOTNAM', 'ENAVAIL', 'EISNAM',
  // BSD only.
  'EPROCLIM', 'EBADRPC', 'ERPCMISMATCH', 'EPROGUNAVAIL', 'EPROGMISMATCH', 'EPROCUNAVAIL', 'EFTYPE',
  'EAUTH', 'ENEEDAUTH', 'ENOATTR', 'EDOOFUS', 'ENOTCAPABLE', 'ECAPMODE', 'EINTEGRITY',
]);

/**
 * Symbolic constants synack's runner resolves in system call arguments and results. Errno names count
 * too (`getsockopt(..., SO_ERROR, [ECONNRESET], ...)`). Other words are unsupported, not errors.
 */
export const SYMBOLS: ReadonlySet<string> = new Set([
  'AF_INET', 'AF_INET6', 'AF_UNSPEC', 'PF_INET', 'PF_INET6', 'PF_UNSPEC',
  'SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_NONBLOCK', 'SOCK_CLOEXEC',
  'IPPROTO_IP', 'IPPROTO_IPV6', 'IPPROTO_TCP', 'IPPROTO_UDP',
  'SOL_SOCKET', 'SOL_TCP', 'SOL_IP', 'SOL_IPV6',
  'SO_ACCEPTCONN', 'SO_BROADCAST', 'SO_DEBUG', 'SO_DONTROUTE', 'SO_ERROR', 'SO_KEEPALIVE', 'SO_LINGER',
  'SO_OOBINLINE', 'SO_RCVBUF', 'SO_RCVLOWAT', 'SO_REUSEADDR', 'SO_REUSEPORT', 'SO_SNDBUF', 'SO_SNDLOWAT',
  'SO_TYPE',
  'TCP_MAXSEG', 'TCP_NODELAY', 'TCP_NOOPT', 'TCP_NOPUSH', 'TCP_CORK', 'TCP_KEEPINIT', 'TCP_KEEPIDLE',
  'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_SYNCNT', 'TCP_LINGER2',
  'O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_NONBLOCK', 'O_NDELAY',
  'F_GETFL', 'F_SETFL', 'F_GETFD', 'F_SETFD', 'FD_CLOEXEC',
  'SHUT_RD', 'SHUT_WR', 'SHUT_RDWR',
  'MSG_DONTWAIT', 'MSG_NOSIGNAL', 'MSG_OOB', 'MSG_PEEK', 'MSG_TRUNC', 'MSG_WAITALL',
  'SIOCINQ', 'SIOCOUTQ', 'FIONREAD', 'FIONBIO',
  'POLLIN', 'POLLPRI', 'POLLOUT', 'POLLERR', 'POLLHUP', 'POLLNVAL', 'POLLRDNORM', 'POLLRDBAND',
  'POLLWRNORM', 'POLLWRBAND', 'POLLRDHUP',
  ...ERRNO_NAMES,
]);

/** Functions allowed inside arguments: `htons(8080)`, `inet_addr("192.0.2.1")`. */
export const ARG_FUNCTIONS: ReadonlySet<string> = new Set(['htons', 'htonl', 'inet_addr', 'inet6_addr']);

export type OptionValueKind = 'none' | 'integer' | 'number' | 'text';

export interface OptionInfo {
  readonly value: OptionValueKind;
  readonly supported: boolean;
  /** For text options with a fixed vocabulary: the values synack runs. */
  readonly values?: readonly string[];
}

/** packetdrill's command-line flags (config.c, google and nplab), which a script may also set. */
export const OPTIONS: Readonly<Record<string, OptionInfo>> = {
  tolerance_usecs: { value: 'integer', supported: true },
  tolerance_percent: { value: 'number', supported: true },
  ip_version: { value: 'text', supported: true, values: ['ipv4', 'ipv6'] },
  tcp_ts_tick_usecs: { value: 'integer', supported: true },
  mss: { value: 'integer', supported: true },
  mtu: { value: 'integer', supported: true },
  bind_port: { value: 'integer', supported: true },
  connect_port: { value: 'integer', supported: true },
  local_ip: { value: 'text', supported: true },
  remote_ip: { value: 'text', supported: true },
  strict_segments: { value: 'none', supported: true },
  define: { value: 'text', supported: true },
  gateway_ip: { value: 'text', supported: false },
  netmask_ip: { value: 'text', supported: false },
  local_linklocal_ip: { value: 'text', supported: false },
  gateway_linklocal_ip: { value: 'text', supported: false },
  speed: { value: 'integer', supported: false },
  init_scripts: { value: 'text', supported: false },
  code_command: { value: 'text', supported: false },
  code_format: { value: 'text', supported: false },
  code_sockopt: { value: 'text', supported: false },
  wire_client: { value: 'none', supported: false },
  wire_server: { value: 'none', supported: false },
  wire_server_ip: { value: 'text', supported: false },
  wire_server_port: { value: 'integer', supported: false },
  wire_client_dev: { value: 'text', supported: false },
  wire_server_dev: { value: 'text', supported: false },
  non_fatal: { value: 'text', supported: false },
  dry_run: { value: 'none', supported: false },
  verbose: { value: 'none', supported: false },
  debug: { value: 'none', supported: false },
  tcp_md5_secret: { value: 'text', supported: false },
  udp_encapsulation: { value: 'text', supported: false },
  tun_dev: { value: 'text', supported: false },
  persistent_tun_dev: { value: 'none', supported: false },
  no_cleanup: { value: 'none', supported: false },
  so_filename: { value: 'text', supported: false },
  so_flags: { value: 'text', supported: false },
  send_omit_free: { value: 'none', supported: false },
};

/** Every value `--ip_version` accepts in packetdrill (ipv4-mapped-ipv6 is unsupported in synack). */
export const IP_VERSIONS: readonly string[] = ['ipv4', 'ipv6', 'ipv4-mapped-ipv6', 'ipv4_mapped_ipv6'];

/**
 * TCP state names as TCP_INFO (`TCPI_*`, packetdrill's Python) and FreeBSD's sockstat/tcpdrop spell them,
 * mapped to RFC 9293 names.
 */
export const STATE_NAMES: Readonly<Record<string, TcpStateName>> = {
  CLOSED: 'CLOSED',
  CLOSE: 'CLOSED',
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN-SENT',
  SYN_RECV: 'SYN-RECEIVED',
  SYN_RCVD: 'SYN-RECEIVED',
  SYN_RECEIVED: 'SYN-RECEIVED',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN-WAIT-1',
  FIN_WAIT1: 'FIN-WAIT-1',
  FIN_WAIT_2: 'FIN-WAIT-2',
  FIN_WAIT2: 'FIN-WAIT-2',
  CLOSE_WAIT: 'CLOSE-WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST-ACK',
  TIME_WAIT: 'TIME-WAIT',
};

/**
 * TCP option names packetdrill (google or nplab) accepts that this dialect keeps as text only: AccECN,
 * generic and experimental options, MPTCP. Anything else inside `<...>` is a syntax error.
 */
export const OTHER_TCP_OPTIONS: ReadonlySet<string> = new Set([
  'ECN', 'AccECN0', 'AccECN1', 'exp', 'EXP', 'gen', 'mptcp', 'mp_capable', 'mp_join', 'dss', 'add_address',
  'remove_address', 'mp_prio', 'mp_fail', 'mp_fastclose',
]);

/** Packet kinds after the direction that are not TCP (or are encapsulated): kept opaque. */
export const OTHER_PACKETS: Readonly<Record<string, string>> = {
  icmp: 'ICMP packet',
  udp: 'UDP packet',
  udplite: 'UDP-Lite packet',
  sctp: 'SCTP packet',
  ipv4: 'encapsulated packet (ipv4 header)',
  ipv6: 'encapsulated packet (ipv6 header)',
  gre: 'GRE-encapsulated packet',
  mpls: 'MPLS-encapsulated packet',
};
