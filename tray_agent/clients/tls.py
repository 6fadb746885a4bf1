"""TLS for every channel: the operating system's trust store (through ``truststore``), never certifi.

Enterprises that inspect TLS (Zscaler, Netskope, Palo Alto and the like) re-sign traffic with a
corporate root that IT puts in the OS store: the Windows ROOT store by GPO/Intune, the macOS System
keychain by MDM, ``/etc/ssl/certs`` on Linux. ``requests`` (and so msal) trusts only certifi, and
Python's own default context does not read the macOS keychain, so both fail there. ``truststore``
(the library pip itself uses) gives an :class:`ssl.SSLContext` that verifies with the OS verifier on
Windows, macOS and Linux.

- :func:`tls_context` is the one context for httpx, the websocket and msal's ``requests`` session.
  A private CA (the simulator's) is *added* with ``load_verify_locations``; verification is never
  switched off.
- :func:`certificate_problem` finds a certificate failure inside whatever a library wrapped it in and
  says what it is; when the issuer is not one this computer trusts (not a public CA), it names TLS
  inspection as the likely cause.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import truststore

# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code) for "the issuer is unknown".
_UNKNOWN_ISSUER = {
    2,  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
    18,  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    19,  # X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    20,  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21,  # X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
}
_EXPIRED = {9, 10}  # not yet valid, expired
_WRONG_NAME = {62}  # X509_V_ERR_HOSTNAME_MISMATCH


def tls_context(extra_ca_file: str | None = None) -> ssl.SSLContext:
    """The OS trust store, plus ``extra_ca_file`` (the simulator's CA) when given. Always verifies.

    truststore honours ``load_verify_locations`` on every platform: on Windows and macOS, a chain the OS
    verifier refuses is tried again against the added CAs only (truststore's ``_windows``/``_macos``).
    """
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if extra_ca_file:
        context.load_verify_locations(cafile=extra_ca_file)
    return context


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and the errors libraries keep in ``args`` or ``reason`` (requests, urllib3)."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen or len(seen) > 32:
            continue
        seen.add(id(current))
        yield current
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args):
            if isinstance(linked, BaseException):
                todo.append(linked)


def certificate_problem(error: BaseException, host: str) -> str | None:
    """A plain-language sentence when ``error`` is (or wraps) a certificate failure, else None."""
    verify_code: int | None = None
    reason = ""
    found = False
    for link in error_chain(error):
        if isinstance(link, ssl.SSLCertVerificationError):
            found = True
            verify_code = link.verify_code
            reason = str(link.verify_message or link.reason or "")
            break
        if "CERTIFICATE_VERIFY_FAILED" in str(link):
            found = True
    if not found:
        return None
    detail = f" ({reason[:120]})" if reason else ""
    if verify_code in _EXPIRED:
        return f"the certificate {host} presented is expired or not yet valid{detail}: check this computer's clock"
    if verify_code in _WRONG_NAME:
        return (
            f"the certificate {host} presented is for another name{detail}: something on the network answers "
            "for that host (a proxy or captive portal); ask IT"
        )
    return (
        f"the certificate {host} presented is not trusted by this computer{detail}. Its issuer is not a public CA "
        "that this computer trusts: most likely your network inspects TLS (Zscaler, Netskope, Palo Alto or similar). "
        f"Ask IT to install the inspection root certificate in the system trust store, or to exempt {host} "
        "from inspection"
    )
