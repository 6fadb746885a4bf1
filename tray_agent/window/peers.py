"""Whose is the other end of a loopback connection: this OS user's, or another user's of this computer?

:func:`same_user` answers for one accepted TCP connection, given both of its ends: ``peer`` (the
connecting socket, the accepted socket's ``peername``) and ``server`` (our own end, its ``sockname``).
True: a process of this same user holds the peer's socket. False: another user's does, or nothing we
can see does. None: this computer gives no way to tell (then the window's cookie is what guards it).

The rule is the same on every OS (:func:`judge`): we look up **both** ends of the connection, each by
its exact pair of addresses (local and remote), in the OS's table of sockets.

- Our own end must be there, owned by us. If it is not, this way of looking does not work here (no
  ``/proc``, an API that fails, a table layout we misread): we cannot tell, None.
- Once our own end is seen, the peer's end must be listed too, with an owner who is this user. A peer
  end listed nowhere is **not** "cannot tell": it counts as another user (False). Think of what an
  attacker can do to be *not found*: hold the socket in a process we may not read (macOS shows us only
  our own), or make it where we do not look (a dual-stack IPv6 socket reaching 127.0.0.1 through
  ``::ffff:127.0.0.1`` is listed with the IPv6 sockets: we read those too, but a table we do not know
  of must not let anyone through), or close it before we look (then nobody is waiting for the answer).
  None of these is the agent's own browser. A socket listed twice with different owners is refused too.

Per OS, what "the table" and "owned by this user" mean:

- **Linux:** ``/proc/net/tcp`` and ``/proc/net/tcp6``, whose ``uid`` column is the socket's owner.
- **Windows:** ``GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL)`` for IPv4 and IPv6 gives every
  connection of the computer with its owning process; that process's token user (``TokenUser``) must
  be ours (``EqualSid``). A process we may not open or whose token we may not read (another user's:
  access denied; or one that is gone, or pid 0 of a closing socket) counts as another user.
- **macOS:** libproc. Another user's processes cannot be read without root (``PROC_PIDLISTFDS`` and
  even ``PROC_PIDTBSDINFO`` fail for them), so we look only in this user's own processes: of
  ``proc_listallpids``, those whose ``pbi_uid`` (effective uid) is ours, their socket descriptors
  (``PROC_PIDLISTFDS``) and each socket's ends (``PROC_PIDFDSOCKETINFO``). A peer socket that no
  process of ours holds is therefore someone else's, and refused: we need not read another user's
  processes to know that a socket is not among ours. Our own end is looked up first, in the agent's
  own process, to prove that this works on this macOS. ``lsof`` would see no more (it uses the same
  calls, with the same limits) and would cost a process and its start-up per connection.

The layouts read here (Windows' ``MIB_TCPROW_OWNER_PID`` rows, macOS' ``socket_fdinfo``) are parsed
by pure functions from bytes (:func:`windows_tcp_table`, :func:`mac_tcp_ends`), tested on every
platform with constructed bytes; only the ``_Windows`` and ``_LibProc`` classes touch the OS, and only
there (type-checked with ``mypy --platform win32`` / ``darwin``). Both OSes are little-endian only.
"""

from __future__ import annotations

import ctypes
import functools
import ipaddress
import logging
import os
import re
import struct
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

Endpoint = tuple[str, int]  # ("127.0.0.1", 49152); an IPv4-mapped IPv6 address is given as its IPv4 address
PeerCheck = Callable[[Endpoint, Endpoint], bool | None]  # (peer, server) → same user / another / cannot tell


@dataclass(frozen=True, slots=True)
class Socket:
    """One TCP socket of a table: its own end, the end it is connected to, and who holds it (a uid on
    Linux and macOS, a process id on Windows)."""

    local: Endpoint
    remote: Endpoint
    owner: int


def same_user(peer: Endpoint, server: Endpoint) -> bool | None:
    """Is the connection ``peer`` → ``server`` (on this computer) from this same OS user? None: cannot tell here."""
    if sys.platform == "win32":
        return _windows_same_user(peer, server)
    if sys.platform == "darwin":
        return _mac_same_user(peer, server)
    if sys.platform.startswith("linux"):
        return linux_same_user(peer, server)
    return None


def owner_of(sockets: Iterable[Socket], local: Endpoint, remote: Endpoint) -> int | None:
    """Who holds the socket ``local`` → ``remote``: None when it is not listed, or listed with different owners."""
    owners = {s.owner for s in sockets if s.local == local and s.remote == remote}
    return owners.pop() if len(owners) == 1 else None


def judge(
    sockets: Iterable[Socket], peer: Endpoint, server: Endpoint, *, ours: int, is_mine: Callable[[int], bool]
) -> bool | None:
    """The rule (module docstring): our end ``server`` → ``peer`` must be listed as ``ours``, or we
    cannot tell; then the peer's end ``peer`` → ``server`` must be listed with an owner ``is_mine`` accepts."""
    sockets = list(sockets)
    peer, server = _normal(peer), _normal(server)
    if owner_of(sockets, server, peer) != ours:
        _cannot_tell("our own end of the connection is not in the socket table")
        return None
    theirs = owner_of(sockets, peer, server)
    return theirs is not None and is_mine(theirs)


@functools.lru_cache(maxsize=64)
def _cannot_tell(why: str) -> None:
    """Said once per reason: the window then relies on its cookie alone."""
    log.warning("the agent's window cannot tell which user connects (%s); its session cookie still guards it", why)


def _normal(endpoint: Endpoint) -> Endpoint:
    host, port = endpoint
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return endpoint
    return _host(address.packed), port


def _host(packed: bytes) -> str:
    """An address's text from its 4 or 16 bytes; an IPv4-mapped IPv6 address as its IPv4 address."""
    address = ipaddress.ip_address(packed)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


# --- Linux: /proc/net/tcp and /proc/net/tcp6 ----------------------------------------------------

_PROC_ADDRESS = re.compile(r"([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})")


def linux_sockets(table: str) -> list[Socket]:
    """``/proc/net/tcp`` or ``/proc/net/tcp6`` → its sockets, each owned by the ``uid`` column. The
    addresses are 32-bit words in hexadecimal, each in this machine's byte order; the ports are plain
    hexadecimal. A line that does not read that way is left out."""
    sockets = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) <= 7 or not (fields[7].isascii() and fields[7].isdigit()):
            continue
        local, remote = _proc_endpoint(fields[1]), _proc_endpoint(fields[2])
        if local is not None and remote is not None:
            sockets.append(Socket(local, remote, int(fields[7])))
    return sockets


def _proc_endpoint(text: str) -> Endpoint | None:
    match = _PROC_ADDRESS.fullmatch(text)
    if match is None:
        return None
    words = match.group(1)
    packed = b"".join(int(words[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(words), 8))
    return _host(packed), int(match.group(2), 16)


def linux_same_user(peer: Endpoint, server: Endpoint, folder: Path = Path("/proc/net")) -> bool | None:
    """:func:`same_user` on Linux: both ends in ``folder``'s ``tcp`` and ``tcp6`` tables."""
    sockets: list[Socket] = []
    for name in ("tcp", "tcp6"):
        try:
            sockets += linux_sockets((folder / name).read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError):
            continue  # no IPv6 on this machine, or no /proc: then our own end is missing too
    me = _my_uid()
    if me is None:
        return None
    return judge(sockets, peer, server, ours=me, is_mine=lambda uid: uid == me)


def linux_peer_uid(host: str, port: int, table: Path = Path("/proc/net/tcp")) -> int | None:
    """The uid owning the IPv4 socket whose own end is ``host:port``, read from ``table``; None where that
    table does not exist (not Linux) or the socket is not in it. (By one end only: :func:`same_user`
    matches both ends.)"""
    try:
        local = _normal((host, port))
        sockets = linux_sockets(table.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return None
    return next((s.owner for s in sockets if s.local == local), None)


def _my_uid() -> int | None:
    getuid = getattr(os, "getuid", None)  # not on Windows
    return int(getuid()) if getuid is not None else None


# --- Windows: MIB_TCPTABLE_OWNER_PID / MIB_TCP6TABLE_OWNER_PID -----------------------------------

# Each row's DWORDs are little-endian; an address is its bytes in network order; a port is a DWORD
# whose low 16 bits hold the port in network byte order (its high 16 bits are undefined).
_WINDOWS_ROW = struct.Struct("<4x4s2s2x4s2s2xI")  # dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, …Port, dwOwningPid
_WINDOWS_ROW6 = struct.Struct("<16s4x2s2x16s4x2s2x4xI")  # ucLocalAddr, dwLocalScopeId, dwLocalPort, …, dwState, pid


def windows_tcp_table(data: bytes, *, ipv6: bool = False) -> list[Socket]:
    """A ``MIB_TCPTABLE_OWNER_PID`` (or, ``ipv6``, ``MIB_TCP6TABLE_OWNER_PID``) as ``GetExtendedTcpTable``
    fills it: ``dwNumEntries``, then that many rows; each socket owned by its process id. Bytes after
    the rows are ignored (the buffer may be larger); fewer bytes than the rows need raise ValueError."""
    row = _WINDOWS_ROW6 if ipv6 else _WINDOWS_ROW
    if len(data) < 4:
        raise ValueError("no TCP table")
    (count,) = struct.unpack_from("<I", data)
    if 4 + count * row.size > len(data):
        raise ValueError(f"the TCP table says {count} rows but holds fewer")
    sockets = []
    for local, local_port, remote, remote_port, pid in row.iter_unpack(data[4 : 4 + count * row.size]):
        sockets.append(
            Socket(
                (_host(local), int.from_bytes(local_port, "big")),
                (_host(remote), int.from_bytes(remote_port, "big")),
                pid,
            )
        )
    return sockets


# --- macOS: libproc's socket_fdinfo (xnu bsd/sys/proc_info.h) ------------------------------------

PROX_FDTYPE_SOCKET = 2
SOCKINFO_TCP = 2
INI_IPV4, INI_IPV6 = 0x1, 0x2
_PROC_FDINFO = struct.Struct("<iI")  # struct proc_fdinfo: proc_fd, proc_fdtype
BSDINFO_SIZE = 136  # sizeof(struct proc_bsdinfo)


class _ProcFileInfo(ctypes.Structure):
    _fields_ = (
        ("fi_openflags", ctypes.c_uint32),
        ("fi_status", ctypes.c_uint32),
        ("fi_offset", ctypes.c_int64),
        ("fi_type", ctypes.c_int32),
        ("fi_guardflags", ctypes.c_uint32),
    )


class _VinfoStat(ctypes.Structure):
    _fields_ = (
        ("vst_dev", ctypes.c_uint32),
        ("vst_mode", ctypes.c_uint16),
        ("vst_nlink", ctypes.c_uint16),
        ("vst_ino", ctypes.c_uint64),
        ("vst_uid", ctypes.c_uint32),
        ("vst_gid", ctypes.c_uint32),
        ("vst_times", ctypes.c_int64 * 8),  # atime, mtime, ctime, birthtime, each with its nanoseconds
        ("vst_size", ctypes.c_int64),
        ("vst_blocks", ctypes.c_int64),
        ("vst_blksize", ctypes.c_int32),
        ("vst_flags", ctypes.c_uint32),
        ("vst_gen", ctypes.c_uint32),
        ("vst_rdev", ctypes.c_uint32),
        ("vst_qspare", ctypes.c_int64 * 2),
    )


class _SockbufInfo(ctypes.Structure):
    _fields_ = (
        ("sbi_cc", ctypes.c_uint32),
        ("sbi_hiwat", ctypes.c_uint32),
        ("sbi_mbcnt", ctypes.c_uint32),
        ("sbi_mbmax", ctypes.c_uint32),
        ("sbi_lowat", ctypes.c_uint32),
        ("sbi_flags", ctypes.c_int16),
        ("sbi_timeo", ctypes.c_int16),
    )


class _InSockinfo(ctypes.Structure):
    """``struct in_sockinfo`` up to its addresses (``insi_v4`` and ``insi_v6`` follow; not needed)."""

    _fields_ = (
        ("insi_fport", ctypes.c_int),  # a port in network byte order, in an int
        ("insi_lport", ctypes.c_int),
        ("insi_gencnt", ctypes.c_uint64),
        ("insi_flags", ctypes.c_uint32),
        ("insi_flow", ctypes.c_uint32),
        ("insi_vflag", ctypes.c_uint8),
        ("insi_ip_ttl", ctypes.c_uint8),
        ("rfu_1", ctypes.c_uint32),
        ("insi_faddr", ctypes.c_uint8 * 16),  # union: in4in6_addr (the IPv4 address in its last 4) or in6_addr
        ("insi_laddr", ctypes.c_uint8 * 16),
    )


class _SocketFdInfo(ctypes.Structure):
    """``struct socket_fdinfo`` (``pfi`` and ``psi`` flattened) up to ``soi_proto.pri_tcp.tcpsi_ini``'s
    addresses: the kernel fills 792 bytes; only these first ones are read."""

    _fields_ = (
        ("pfi", _ProcFileInfo),
        ("soi_stat", _VinfoStat),
        ("soi_so", ctypes.c_uint64),
        ("soi_pcb", ctypes.c_uint64),
        ("soi_type", ctypes.c_int),
        ("soi_protocol", ctypes.c_int),
        ("soi_family", ctypes.c_int),
        ("soi_shorts", ctypes.c_int16 * 7),  # options, linger, state, qlen, incqlen, qlimit, timeo
        ("soi_error", ctypes.c_uint16),
        ("soi_oobmark", ctypes.c_uint32),
        ("soi_rcv", _SockbufInfo),
        ("soi_snd", _SockbufInfo),
        ("soi_kind", ctypes.c_int),
        ("rfu_1", ctypes.c_uint32),
        ("pri_tcp", _InSockinfo),  # soi_proto's union: pri_tcp.tcpsi_ini starts it
    )


def mac_socket_fds(data: bytes) -> list[int]:
    """``proc_pidinfo(PROC_PIDLISTFDS)``'s answer (``struct proc_fdinfo`` entries) → its socket descriptors."""
    if len(data) % _PROC_FDINFO.size:
        raise ValueError("not a list of proc_fdinfo")
    return [fd for fd, kind in _PROC_FDINFO.iter_unpack(data) if kind == PROX_FDTYPE_SOCKET]


def mac_tcp_ends(data: bytes) -> tuple[Endpoint, Endpoint] | None:
    """``proc_pidfdinfo(PROC_PIDFDSOCKETINFO)``'s answer → the socket's (local, remote) ends, when it is a
    TCP socket over IPv4 or IPv6; None for any other socket or too short an answer."""
    if len(data) < ctypes.sizeof(_SocketFdInfo):
        return None
    info = _SocketFdInfo.from_buffer_copy(data)
    if info.soi_kind != SOCKINFO_TCP:
        return None
    tcp = info.pri_tcp
    if tcp.insi_vflag & INI_IPV4:
        local, remote = bytes(tcp.insi_laddr)[12:], bytes(tcp.insi_faddr)[12:]
    elif tcp.insi_vflag & INI_IPV6:
        local, remote = bytes(tcp.insi_laddr), bytes(tcp.insi_faddr)
    else:
        return None
    return (_host(local), _port(tcp.insi_lport)), (_host(remote), _port(tcp.insi_fport))


def _port(value: int) -> int:
    """An ``in_sockinfo`` port: the int's low 16 bits hold it in network byte order (little-endian machine)."""
    return int.from_bytes((value & 0xFFFF).to_bytes(2, "little"), "big")


def mac_bsd_uid(data: bytes) -> int | None:
    """``proc_pidinfo(PROC_PIDTBSDINFO)``'s answer (``struct proc_bsdinfo``, 136 bytes) → its ``pbi_uid``,
    the effective uid (after ``pbi_flags``, ``pbi_status``, ``pbi_xstatus``, ``pbi_pid``, ``pbi_ppid``)."""
    if len(data) < BSDINFO_SIZE:
        return None
    return int.from_bytes(data[20:24], "little")


# --- the OS calls, each only on its own OS --------------------------------------------------------

if sys.platform == "win32":  # type-checked with mypy --platform win32
    from ctypes import wintypes

    _AF_INET, _AF_INET6 = 2, 23
    _TCP_TABLE_OWNER_PID_ALL = 5
    _NO_ERROR, _ERROR_INSUFFICIENT_BUFFER = 0, 122
    _PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    _TOKEN_QUERY = 0x0008
    _TOKEN_USER = 1  # TOKEN_INFORMATION_CLASS TokenUser
    _TABLE_TRIES = 8

    class _SidAndAttributes(ctypes.Structure):  # TOKEN_USER is one SID_AND_ATTRIBUTES
        _fields_ = (("Sid", ctypes.c_void_p), ("Attributes", wintypes.DWORD))

    class _Windows:
        """iphlpapi, kernel32 and advapi32 with their signatures; this user's SID, read once."""

        def __init__(self) -> None:
            self._iphlpapi = ctypes.WinDLL("iphlpapi", use_last_error=True)
            self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            self._advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
            self._iphlpapi.GetExtendedTcpTable.argtypes = (
                ctypes.c_void_p,
                ctypes.POINTER(wintypes.DWORD),
                wintypes.BOOL,
                wintypes.ULONG,
                ctypes.c_int,
                wintypes.ULONG,
            )
            self._iphlpapi.GetExtendedTcpTable.restype = wintypes.DWORD
            self._kernel32.GetCurrentProcess.argtypes = ()
            self._kernel32.GetCurrentProcess.restype = wintypes.HANDLE
            self._kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
            self._kernel32.OpenProcess.restype = wintypes.HANDLE
            self._kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
            self._kernel32.CloseHandle.restype = wintypes.BOOL
            self._advapi32.OpenProcessToken.argtypes = (
                wintypes.HANDLE,
                wintypes.DWORD,
                ctypes.POINTER(wintypes.HANDLE),
            )
            self._advapi32.OpenProcessToken.restype = wintypes.BOOL
            self._advapi32.GetTokenInformation.argtypes = (
                wintypes.HANDLE,
                ctypes.c_int,
                ctypes.c_void_p,
                wintypes.DWORD,
                ctypes.POINTER(wintypes.DWORD),
            )
            self._advapi32.GetTokenInformation.restype = wintypes.BOOL
            self._advapi32.EqualSid.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
            self._advapi32.EqualSid.restype = wintypes.BOOL
            mine = self._token_user(self._kernel32.GetCurrentProcess())  # a pseudo-handle: never closed
            if mine is None:
                raise ctypes.WinError(ctypes.get_last_error())
            self._mine = mine

        def tcp_table(self, family: int) -> bytes:
            """``GetExtendedTcpTable``'s table, asked again while it grows between the size and the call."""
            size = wintypes.DWORD(0)
            for _ in range(_TABLE_TRIES):
                size.value += 4096  # room for the rows that appear between two calls
                buffer = ctypes.create_string_buffer(size.value)
                status = self._iphlpapi.GetExtendedTcpTable(
                    buffer, ctypes.byref(size), False, family, _TCP_TABLE_OWNER_PID_ALL, 0
                )
                if status == _NO_ERROR:
                    return buffer.raw
                if status != _ERROR_INSUFFICIENT_BUFFER:
                    raise ctypes.WinError(status)
            raise OSError("the TCP table kept growing")

        def sockets(self) -> list[Socket]:
            return [
                *windows_tcp_table(self.tcp_table(_AF_INET)),
                *windows_tcp_table(self.tcp_table(_AF_INET6), ipv6=True),
            ]

        def _token_user(self, process: int | None) -> ctypes.Array[ctypes.c_char] | None:
            """``process``'s token user (a ``TOKEN_USER`` at the start of the buffer); None if we may not read it."""
            token = wintypes.HANDLE()
            if not self._advapi32.OpenProcessToken(process, _TOKEN_QUERY, ctypes.byref(token)):
                return None
            try:
                needed = wintypes.DWORD(0)
                self._advapi32.GetTokenInformation(token, _TOKEN_USER, None, 0, ctypes.byref(needed))
                if ctypes.get_last_error() != _ERROR_INSUFFICIENT_BUFFER or needed.value < ctypes.sizeof(
                    _SidAndAttributes
                ):
                    return None
                buffer = ctypes.create_string_buffer(needed.value)
                if not self._advapi32.GetTokenInformation(token, _TOKEN_USER, buffer, needed, ctypes.byref(needed)):
                    return None
                return buffer
            finally:
                self._kernel32.CloseHandle(token)

        def is_mine(self, pid: int) -> bool:
            """Process ``pid`` runs as this user. One we may not open (another user's: access denied) is not."""
            process = self._kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
            if not process:
                return False
            try:
                theirs = self._token_user(process)
                if theirs is None:
                    return False
                mine_sid = _SidAndAttributes.from_buffer(self._mine).Sid
                return bool(self._advapi32.EqualSid(_SidAndAttributes.from_buffer(theirs).Sid, mine_sid))
            finally:
                self._kernel32.CloseHandle(process)

    @functools.cache
    def _windows() -> _Windows:
        return _Windows()

    def _windows_same_user(peer: Endpoint, server: Endpoint) -> bool | None:
        try:
            windows = _windows()
            sockets = windows.sockets()
        except (OSError, ValueError) as error:
            _cannot_tell(f"Windows' TCP table: {error}")
            return None
        return judge(sockets, peer, server, ours=os.getpid(), is_mine=windows.is_mine)

else:

    def _windows_same_user(peer: Endpoint, server: Endpoint) -> bool | None:
        return None


if sys.platform == "darwin":  # type-checked with mypy --platform darwin
    _PROC_PIDLISTFDS, _PROC_PIDTBSDINFO, _PROC_PIDFDSOCKETINFO = 1, 3, 3
    _SOCKET_FDINFO_SIZE = 1024  # at least sizeof(struct socket_fdinfo), 792 bytes

    class _LibProc:
        """libproc's calls (in libSystem), with their signatures."""

        def __init__(self) -> None:
            self._lib = ctypes.CDLL("/usr/lib/libSystem.B.dylib", use_errno=True)
            self._lib.proc_listallpids.argtypes = (ctypes.c_void_p, ctypes.c_int)
            self._lib.proc_listallpids.restype = ctypes.c_int
            self._lib.proc_pidinfo.argtypes = (
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_uint64,
                ctypes.c_void_p,
                ctypes.c_int,
            )
            self._lib.proc_pidinfo.restype = ctypes.c_int
            self._lib.proc_pidfdinfo.argtypes = (
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_void_p,
                ctypes.c_int,
            )
            self._lib.proc_pidfdinfo.restype = ctypes.c_int

        def pids(self) -> list[int]:
            for _ in range(8):
                room = max(int(self._lib.proc_listallpids(None, 0)), 0) + 256
                pids = (ctypes.c_int * room)()
                count = int(self._lib.proc_listallpids(pids, ctypes.sizeof(pids)))
                if count < 0:
                    raise OSError(ctypes.get_errno(), "proc_listallpids failed")
                if count < room:
                    return [pid for pid in pids[:count] if pid > 0]
            raise OSError("the process list kept growing")

        def uid(self, pid: int) -> int | None:
            buffer = ctypes.create_string_buffer(BSDINFO_SIZE)
            filled = int(self._lib.proc_pidinfo(pid, _PROC_PIDTBSDINFO, 0, buffer, BSDINFO_SIZE))
            return mac_bsd_uid(buffer.raw[: max(filled, 0)])

        def socket_fds(self, pid: int) -> list[int]:
            """``pid``'s socket descriptors; none for a process we may not read (or that is gone)."""
            needed = int(self._lib.proc_pidinfo(pid, _PROC_PIDLISTFDS, 0, None, 0))
            if needed <= 0:
                return []
            room = needed + 64 * _PROC_FDINFO.size  # descriptors opened meanwhile
            buffer = ctypes.create_string_buffer(room)
            filled = int(self._lib.proc_pidinfo(pid, _PROC_PIDLISTFDS, 0, buffer, room))
            return mac_socket_fds(buffer.raw[: filled - filled % _PROC_FDINFO.size]) if filled > 0 else []

        def tcp_ends(self, pid: int, fd: int) -> tuple[Endpoint, Endpoint] | None:
            buffer = ctypes.create_string_buffer(_SOCKET_FDINFO_SIZE)
            filled = int(self._lib.proc_pidfdinfo(pid, fd, _PROC_PIDFDSOCKETINFO, buffer, _SOCKET_FDINFO_SIZE))
            return mac_tcp_ends(buffer.raw[: max(filled, 0)])

        def sockets(self, pid: int, owner: int) -> Iterator[Socket]:
            for fd in self.socket_fds(pid):
                ends = self.tcp_ends(pid, fd)
                if ends is not None:
                    yield Socket(ends[0], ends[1], owner)

    @functools.cache
    def _libproc() -> _LibProc:
        return _LibProc()

    def _mac_same_user(peer: Endpoint, server: Endpoint) -> bool | None:
        me, agent = os.getuid(), os.getpid()
        theirs = _normal(peer), _normal(server)
        try:
            lib = _libproc()
            sockets = list(lib.sockets(agent, me))  # our own end: proves this way of looking works here
            if owner_of(sockets, theirs[1], theirs[0]) == me and owner_of(sockets, *theirs) is None:
                for pid in lib.pids():
                    if pid != agent and lib.uid(pid) == me:  # only this user's processes (module docstring)
                        held = [s for s in lib.sockets(pid, me) if (s.local, s.remote) == theirs]
                        sockets += held
                        if held:
                            break
        except (OSError, AttributeError, ValueError) as error:  # no libproc, or a call it does not have
            _cannot_tell(f"libproc: {error}")
            return None
        return judge(sockets, peer, server, ours=me, is_mine=lambda uid: uid == me)

else:

    def _mac_same_user(peer: Endpoint, server: Endpoint) -> bool | None:
        return None
