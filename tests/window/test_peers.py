"""Who holds the other end of a loopback connection (tray_agent/window/peers.py).

The rule is tested with socket lists; Linux for real, on this machine's own sockets; Windows' and
macOS' answers are bytes built here by hand from their documented layouts (MIB_TCPROW_OWNER_PID,
xnu's bsd/sys/proc_info.h), since those OSes do not run here."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tray_agent.window.peers import (
    BSDINFO_SIZE,
    Endpoint,
    Socket,
    judge,
    linux_peer_uid,
    linux_same_user,
    linux_sockets,
    mac_bsd_uid,
    mac_socket_fds,
    mac_tcp_ends,
    same_user,
    windows_tcp_table,
)

PEER: Endpoint = ("127.0.0.1", 50123)  # the browser's end
SERVER: Endpoint = ("127.0.0.1", 8080)  # the window's
US, THEM = 1000, 1001
ANY = socket.inet_ntoa(bytes(4))  # a listening socket's unspecified address


def ours(uid: int) -> bool:
    return uid == US


# --- the rule, the same on every OS -----------------------------------------------------------------


def test_a_connection_whose_peer_end_this_user_holds_is_this_users() -> None:
    sockets = [Socket(SERVER, PEER, US), Socket(PEER, SERVER, US)]
    assert judge(sockets, PEER, SERVER, ours=US, is_mine=ours) is True


def test_a_peer_end_held_by_another_user_is_another_users() -> None:
    sockets = [Socket(SERVER, PEER, US), Socket(PEER, SERVER, THEM)]
    assert judge(sockets, PEER, SERVER, ours=US, is_mine=ours) is False


def test_once_our_own_end_is_seen_a_peer_end_seen_nowhere_counts_as_another_user() -> None:
    # macOS shows only this user's processes; a dual-stack socket is in another table; either way, refused
    assert judge([Socket(SERVER, PEER, US)], PEER, SERVER, ours=US, is_mine=ours) is False


def test_without_our_own_end_in_the_table_this_way_of_looking_does_not_work_here_so_we_cannot_tell() -> None:
    assert judge([Socket(PEER, SERVER, THEM)], PEER, SERVER, ours=US, is_mine=ours) is None
    assert judge([], PEER, SERVER, ours=US, is_mine=ours) is None
    assert judge([Socket(SERVER, PEER, THEM), Socket(PEER, SERVER, US)], PEER, SERVER, ours=US, is_mine=ours) is None


def test_a_socket_is_matched_by_both_of_its_ends_not_by_its_port_alone() -> None:
    # a socket of ours on the same local port, connected elsewhere, does not vouch for the peer
    elsewhere = Socket(PEER, ("127.0.0.1", 9999), US)
    sockets = [Socket(SERVER, PEER, US), elsewhere, Socket(PEER, SERVER, THEM)]
    assert judge(sockets, PEER, SERVER, ours=US, is_mine=ours) is False
    assert judge([Socket(SERVER, PEER, US), elsewhere], PEER, SERVER, ours=US, is_mine=ours) is False


def test_a_peer_end_listed_twice_with_different_owners_is_refused() -> None:
    sockets = [Socket(SERVER, PEER, US), Socket(PEER, SERVER, US), Socket(PEER, SERVER, THEM)]
    assert judge(sockets, PEER, SERVER, ours=US, is_mine=ours) is False


def test_an_ipv4_mapped_ipv6_address_is_the_same_address_as_its_ipv4_one() -> None:
    sockets = [Socket(SERVER, PEER, US), Socket(PEER, SERVER, US)]
    assert judge(sockets, ("::ffff:127.0.0.1", PEER[1]), SERVER, ours=US, is_mine=ours) is True


def test_the_owner_is_judged_by_the_os_check_which_may_refuse_a_process_it_cannot_open() -> None:
    # Windows: the owner is a process id; one we may not open (another user's) is not ours
    sockets = [Socket(SERVER, PEER, 11), Socket(PEER, SERVER, 4242)]
    assert judge(sockets, PEER, SERVER, ours=11, is_mine=lambda pid: False) is False
    assert judge(sockets, PEER, SERVER, ours=11, is_mine=lambda pid: pid == 4242) is True


# --- Linux: /proc/net/tcp and tcp6 -------------------------------------------------------------------

HEAD = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def test_the_owner_of_a_loopback_socket_is_read_from_proc_net_tcp(tmp_path: Path) -> None:
    table = tmp_path / "tcp"
    table.write_text(
        HEAD + "   0: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 12345\n",
        encoding="ascii",
    )
    assert linux_peer_uid("127.0.0.1", 0x9C40, table) == 1001
    assert linux_peer_uid("127.0.0.1", 1234, table) is None
    assert linux_peer_uid("127.0.0.1", 0x9C40, tmp_path / "missing") is None


def test_proc_net_tcp6_gives_an_ipv4_mapped_socket_as_its_ipv4_address() -> None:
    # 32-bit words in this machine's byte order: ::ffff:127.0.0.1 on a little-endian machine
    mapped = "0000000000000000FFFF00000100007F" if socket.htonl(1) != 1 else "00000000000000000000FFFF7F000001"
    line = f"   0: {mapped}:C3CB {mapped}:1F90 01 00000000:00000000 00:00000000 00000000  1001 0 1\n"
    assert linux_sockets(HEAD + line) == [Socket(("127.0.0.1", 50123), SERVER, 1001)]


def test_a_proc_net_tcp_line_that_does_not_read_as_documented_is_left_out() -> None:
    lines = [
        "   0: 0x00007F:9C40 0100007F:1F90 01 0:0 0:0 0 1001 0 1",  # not 8 hexadecimal digits
        "   1: 0100007F:9C4 0100007F:1F90 01 0:0 0:0 0 1001 0 1",  # not 4 for the port
        "   2: 0100007F:9C40 0100007F:1F90 01 0:0 0:0 0 -1 0 1",  # no uid
        "   3: 0100007F:9C40 0100007F:1F90 01",  # too short
    ]
    assert linux_sockets(HEAD + "\n".join(lines)) == []


def test_linux_tells_from_the_tables_in_a_folder(tmp_path: Path) -> None:
    def row(local: str, remote: str, uid: int) -> str:
        return f"   0: {local} {remote} 01 00000000:00000000 00:00000000 00000000 {uid} 0 1\n"

    me = os.getuid()
    peer, server = "0100007F:C3CB", "0100007F:1F90"
    (tmp_path / "tcp").write_text(HEAD + row(server, peer, me) + row(peer, server, me + 1), encoding="ascii")
    assert linux_same_user(PEER, SERVER, tmp_path) is False
    (tmp_path / "tcp").write_text(HEAD + row(server, peer, me) + row(peer, server, me), encoding="ascii")
    assert linux_same_user(PEER, SERVER, tmp_path) is True
    assert linux_same_user(PEER, SERVER, tmp_path / "no-proc") is None


@contextmanager
def connection(family: socket.AddressFamily, address: str) -> Iterator[tuple[Endpoint, Endpoint]]:
    """A real loopback connection to a listener on 127.0.0.1: (the connecting end, the server's end)."""
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.socket(family, socket.SOCK_STREAM) as client:
        if family == socket.AF_INET6:
            client.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        client.connect((address, listener.getsockname()[1]))
        accepted, peer = listener.accept()
        with accepted:
            yield (str(peer[0]), int(peer[1])), accepted.getsockname()


linux_only = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")


@linux_only
def test_on_linux_a_real_connection_from_this_user_is_this_users() -> None:
    with connection(socket.AF_INET, "127.0.0.1") as (peer, server):
        assert same_user(peer, server) is True


@linux_only
@pytest.mark.skipif(not socket.has_ipv6 or not Path("/proc/net/tcp6").exists(), reason="needs IPv6")
def test_on_linux_a_dual_stack_connection_through_an_ipv4_mapped_address_is_found_in_tcp6() -> None:
    with connection(socket.AF_INET6, "::ffff:127.0.0.1") as (peer, server):
        assert same_user(peer, server) is True


# --- Windows: GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL) -------------------------------------------


def dword(value: int) -> bytes:
    return value.to_bytes(4, "little")


def port_dword(port: int) -> bytes:
    """A port as the table holds it: network byte order in the low 16 bits; the high 16 are undefined."""
    return port.to_bytes(2, "big") + b"\xde\xad"


def v4_row(state: int, local: Endpoint, remote: Endpoint, pid: int) -> bytes:
    return (
        dword(state)
        + socket.inet_aton(local[0])
        + port_dword(local[1])
        + socket.inet_aton(remote[0])
        + port_dword(remote[1])
        + dword(pid)
    )


def test_a_windows_ipv4_table_gives_each_rows_ends_and_owning_process() -> None:
    listening = v4_row(2, (ANY, 135), (ANY, 0), 4)  # MIB_TCP_STATE_LISTEN, the System process
    rows = [v4_row(5, PEER, SERVER, 4242), v4_row(5, SERVER, PEER, 11), listening]
    table = dword(3) + b"".join(rows) + b"\0" * 100  # the buffer is larger than the table
    assert windows_tcp_table(table) == [
        Socket(PEER, SERVER, 4242),
        Socket(SERVER, PEER, 11),
        Socket((ANY, 135), (ANY, 0), 4),
    ]


def test_a_windows_ipv6_table_gives_an_ipv4_mapped_socket_as_its_ipv4_address() -> None:
    mapped = socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1")
    row = (
        mapped + dword(0) + port_dword(PEER[1])  # ucLocalAddr, dwLocalScopeId, dwLocalPort
        + mapped + dword(0) + port_dword(SERVER[1])  # ucRemoteAddr, dwRemoteScopeId, dwRemotePort
        + dword(5) + dword(4242)  # dwState, dwOwningPid
    )  # fmt: skip
    loopback = socket.inet_pton(socket.AF_INET6, "::1")
    listening = loopback + dword(0) + port_dword(443) + bytes(16) + dword(0) + port_dword(0) + dword(2) + dword(7)
    assert len(row) == 56
    assert windows_tcp_table(dword(2) + row + listening, ipv6=True) == [
        Socket(PEER, SERVER, 4242),
        Socket(("::1", 443), ("::", 0), 7),
    ]


def test_a_windows_table_shorter_than_its_row_count_says_is_refused() -> None:
    row = v4_row(5, PEER, SERVER, 4242)
    with pytest.raises(ValueError, match="says 2 rows"):
        windows_tcp_table(dword(2) + row)
    with pytest.raises(ValueError):
        windows_tcp_table(b"\1\0")
    assert windows_tcp_table(dword(0)) == []


# --- macOS: libproc (xnu bsd/sys/proc_info.h) -------------------------------------------------------

# Offsets in struct socket_fdinfo, worked out by hand from the header: pfi (proc_fileinfo) is 24 bytes;
# psi (socket_info) then has soi_stat (vinfo_stat, 136), soi_so, soi_pcb, soi_type, soi_protocol,
# soi_family, seven shorts, soi_error, soi_oobmark, soi_rcv and soi_snd (24 each), soi_kind, rfu_1,
# and soi_proto at 240 of psi; pri_tcp.tcpsi_ini (in_sockinfo) starts that union.
SOI_KIND, TCPSI_INI = 24 + 232, 24 + 240
INSI_FPORT, INSI_LPORT, INSI_VFLAG, INSI_FADDR, INSI_LADDR = (TCPSI_INI + n for n in (0, 4, 24, 32, 48))
SOCKET_FDINFO_SIZE = 792  # what the kernel fills


def socket_fdinfo(*, kind: int = 2, vflag: int = 1, local: bytes, remote: bytes, lport: int, fport: int) -> bytes:
    info = bytearray(SOCKET_FDINFO_SIZE)
    struct.pack_into("<i", info, SOI_KIND, kind)
    info[INSI_LPORT : INSI_LPORT + 4] = lport.to_bytes(2, "big") + b"\0\0"  # an int holding a network-order port
    info[INSI_FPORT : INSI_FPORT + 4] = fport.to_bytes(2, "big") + b"\0\0"
    info[INSI_VFLAG] = vflag
    if vflag == 1:  # in4in6_addr: three pad words, then the IPv4 address
        info[INSI_LADDR + 12 : INSI_LADDR + 16], info[INSI_FADDR + 12 : INSI_FADDR + 16] = local, remote
    else:
        info[INSI_LADDR : INSI_LADDR + 16], info[INSI_FADDR : INSI_FADDR + 16] = local, remote
    return bytes(info)


def test_a_macos_tcp_socket_gives_its_local_and_remote_ends() -> None:
    loopback = socket.inet_aton("127.0.0.1")
    info = socket_fdinfo(local=loopback, remote=loopback, lport=PEER[1], fport=SERVER[1])
    assert mac_tcp_ends(info) == (PEER, SERVER)


def test_a_macos_dual_stack_socket_gives_its_ipv4_mapped_ends_as_ipv4() -> None:
    mapped = socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1")
    info = socket_fdinfo(vflag=2, local=mapped, remote=mapped, lport=PEER[1], fport=SERVER[1])
    assert mac_tcp_ends(info) == (PEER, SERVER)


def test_a_macos_socket_that_is_not_tcp_over_ip_or_a_short_answer_gives_no_ends() -> None:
    loopback = socket.inet_aton("127.0.0.1")
    unix = socket_fdinfo(kind=3, local=loopback, remote=loopback, lport=1, fport=2)  # SOCKINFO_UN
    neither = socket_fdinfo(vflag=0, local=bytes(16), remote=bytes(16), lport=1, fport=2)
    tcp = socket_fdinfo(local=loopback, remote=loopback, lport=1, fport=2)
    assert mac_tcp_ends(unix) is None and mac_tcp_ends(neither) is None
    assert mac_tcp_ends(tcp[: INSI_LADDR + 15]) is None and mac_tcp_ends(b"") is None


def test_a_macos_descriptor_list_gives_only_its_sockets() -> None:
    # struct proc_fdinfo: proc_fd, proc_fdtype (1 vnode, 2 socket, 6 pipe)
    listed = b"".join(struct.pack("<iI", fd, kind) for fd, kind in ((0, 1), (3, 2), (4, 6), (9, 2)))
    assert mac_socket_fds(listed) == [3, 9]
    with pytest.raises(ValueError):
        mac_socket_fds(listed[:-1])


def test_a_macos_process_gives_its_effective_uid_from_proc_bsdinfo() -> None:
    info = bytearray(BSDINFO_SIZE)
    struct.pack_into("<5I", info, 0, 0x10, 2, 0, 4242, 1)  # pbi_flags, pbi_status, pbi_xstatus, pbi_pid, pbi_ppid
    struct.pack_into("<I", info, 20, 501)  # pbi_uid
    assert mac_bsd_uid(bytes(info)) == 501
    assert mac_bsd_uid(bytes(info[:24])) is None
