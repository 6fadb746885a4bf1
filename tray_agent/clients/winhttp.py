"""Windows proxy settings through WinHTTP (ctypes), so Windows itself evaluates PAC and WPAD.

``WinHttpGetIEProxyConfigForCurrentUser`` gives the user's settings (what the Internet Options
dialog, GPO or Intune set): "Automatically detect settings" (WPAD), "Use setup script"
(``AutoConfigURL``), a static ``ProxyServer`` and its ``ProxyOverride`` bypass list.
``WinHttpGetProxyForUrl`` evaluates PAC/WPAD for one URL with the OS's own engine.

The decision (:func:`decide`) is pure and tested with fakes on every platform; only :class:`_WinHttpApi`
touches the DLL, and only on Windows (type-checked with ``mypy --platform win32``).
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from dataclasses import dataclass
from typing import Protocol

from tray_agent.clients.proxy import ProxyChoice, bypassed, normalise_proxy, parse_pac_answer

WINHTTP_ACCESS_TYPE_NO_PROXY = 1
WINHTTP_ACCESS_TYPE_NAMED_PROXY = 3
WINHTTP_AUTOPROXY_AUTO_DETECT = 0x1
WINHTTP_AUTOPROXY_CONFIG_URL = 0x2
WINHTTP_AUTO_DETECT_TYPE_DHCP = 0x1
WINHTTP_AUTO_DETECT_TYPE_DNS_A = 0x2


@dataclass(frozen=True, slots=True)
class IEProxyConfig:
    auto_detect: bool
    auto_config_url: str
    proxy: str  # "host:port" or "http=h:p;https=h:p"
    bypass: str  # ProxyOverride: "*.corp;<local>"


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    access_type: int
    proxy: str
    bypass: str


class WinHttpApi(Protocol):
    def current_user_config(self) -> IEProxyConfig: ...

    def proxy_for_url(self, url: str, *, auto_detect: bool, config_url: str) -> ProxyInfo | None:
        """None when no PAC/WPAD script could be found or run (WinHTTP's ERROR_WINHTTP_AUTODETECTION_FAILED…)."""
        ...


def static_proxy_for(proxy_list: str, scheme: str) -> str | None:
    """The entry of a WinINet/WinHTTP proxy list for ``scheme`` (``https=h:p``), or its scheme-less entry."""
    fallback = None
    for raw in proxy_list.replace(" ", ";").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        if "=" in entry:
            name, _, address = entry.partition("=")
            if name.strip().lower() == scheme:
                return address.strip()
        elif fallback is None:
            fallback = entry
    return fallback


def _info_choice(info: ProxyInfo, host: str, why: str) -> ProxyChoice:
    if info.access_type != WINHTTP_ACCESS_TYPE_NAMED_PROXY or not info.proxy:
        return ProxyChoice(None, f"{why}: DIRECT")
    address = static_proxy_for(info.proxy, "https")
    if address is None or bypassed(host, info.bypass):
        return ProxyChoice(None, f"{why}: DIRECT")
    _, chosen = parse_pac_answer(f"PROXY {address}")
    return ProxyChoice(chosen, f"{why}: PROXY {address}")


def decide(api: WinHttpApi, url: str) -> ProxyChoice | None:
    """What the user's Windows settings say for ``url``: PAC/WPAD first (as WinINet does), then the static proxy."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    asked = "https" + url[3:] if url.startswith("wss") else url
    config = api.current_user_config()
    if config.auto_detect or config.auto_config_url:
        info = api.proxy_for_url(asked, auto_detect=config.auto_detect, config_url=config.auto_config_url)
        if info is not None:
            why = f"Windows PAC file {config.auto_config_url}" if config.auto_config_url else "Windows WPAD"
            return _info_choice(info, host, why)
    if config.proxy:
        address = static_proxy_for(config.proxy, "https")
        if address is None:
            return None
        if bypassed(host, config.bypass):
            return ProxyChoice(None, f"Windows proxy settings (ProxyOverride covers {host})")
        try:
            return ProxyChoice(normalise_proxy(address), "Windows proxy settings")
        except ValueError:
            return None
    return None


class WinHttpProxy:
    """The :class:`~tray_agent.clients.proxy.SystemProxy` for Windows."""

    def __init__(self, api: WinHttpApi | None = None) -> None:
        self._api = api

    def _winhttp(self) -> WinHttpApi:
        if self._api is None:
            if sys.platform == "win32":
                self._api = _WinHttpApi()  # defined below, on Windows only
            else:
                raise OSError("WinHTTP exists only on Windows")
        return self._api

    def __call__(self, url: str) -> ProxyChoice | None:
        return decide(self._winhttp(), url)

    def evaluate_pac(self, pac_url: str, url: str, host: str) -> str:
        """A PAC file named by IT policy, evaluated by WinHTTP; answers in PAC syntax for the resolver."""
        info = self._winhttp().proxy_for_url(url, auto_detect=False, config_url=pac_url)
        if info is None:
            raise OSError("WinHTTP could not download or run the PAC file")
        if info.access_type != WINHTTP_ACCESS_TYPE_NAMED_PROXY or not info.proxy:
            return "DIRECT"
        address = static_proxy_for(info.proxy, "https")
        return f"PROXY {address}" if address and not bypassed(host, info.bypass) else "DIRECT"


if sys.platform == "win32":  # the DLL layer; type-checked with mypy --platform win32

    class _IEConfig(ctypes.Structure):
        _fields_ = (
            ("fAutoDetect", wintypes.BOOL),
            ("lpszAutoConfigUrl", ctypes.c_void_p),  # raw pointers: WinHTTP's strings must be GlobalFree'd
            ("lpszProxy", ctypes.c_void_p),
            ("lpszProxyBypass", ctypes.c_void_p),
        )

    class _AutoProxyOptions(ctypes.Structure):
        _fields_ = (
            ("dwFlags", wintypes.DWORD),
            ("dwAutoDetectFlags", wintypes.DWORD),
            ("lpszAutoConfigUrl", wintypes.LPCWSTR),
            ("lpvReserved", wintypes.LPVOID),
            ("dwReserved", wintypes.DWORD),
            ("fAutoLogonIfChallenged", wintypes.BOOL),
        )

    class _ProxyInfo(ctypes.Structure):
        _fields_ = (
            ("dwAccessType", wintypes.DWORD),
            ("lpszProxy", ctypes.c_void_p),
            ("lpszProxyBypass", ctypes.c_void_p),
        )

    def _text(pointer: int | None) -> str:
        return ctypes.wstring_at(pointer) if pointer else ""

    class _WinHttpApi:
        """The real WinHTTP. Strings WinHTTP allocates are released with GlobalFree, as its docs require."""

        def __init__(self) -> None:
            self._winhttp = ctypes.WinDLL("winhttp", use_last_error=True)
            self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            self._winhttp.WinHttpOpen.restype = wintypes.HANDLE
            self._winhttp.WinHttpOpen.argtypes = (
                wintypes.LPCWSTR,
                wintypes.DWORD,
                wintypes.LPCWSTR,
                wintypes.LPCWSTR,
                wintypes.DWORD,
            )
            self._winhttp.WinHttpGetIEProxyConfigForCurrentUser.argtypes = (ctypes.POINTER(_IEConfig),)
            self._winhttp.WinHttpGetIEProxyConfigForCurrentUser.restype = wintypes.BOOL
            self._winhttp.WinHttpGetProxyForUrl.argtypes = (
                wintypes.HANDLE,
                wintypes.LPCWSTR,
                ctypes.POINTER(_AutoProxyOptions),
                ctypes.POINTER(_ProxyInfo),
            )
            self._winhttp.WinHttpGetProxyForUrl.restype = wintypes.BOOL
            self._winhttp.WinHttpCloseHandle.argtypes = (wintypes.HANDLE,)
            self._winhttp.WinHttpSetTimeouts.argtypes = (
                wintypes.HANDLE,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
            )
            self._kernel32.GlobalFree.argtypes = (wintypes.HGLOBAL,)

        def _free(self, *pointers: int | None) -> None:
            for pointer in pointers:
                if pointer:
                    self._kernel32.GlobalFree(pointer)

        def current_user_config(self) -> IEProxyConfig:
            config = _IEConfig()
            if not self._winhttp.WinHttpGetIEProxyConfigForCurrentUser(ctypes.byref(config)):
                raise ctypes.WinError(ctypes.get_last_error())
            try:
                return IEProxyConfig(
                    bool(config.fAutoDetect),
                    _text(config.lpszAutoConfigUrl),
                    _text(config.lpszProxy),
                    _text(config.lpszProxyBypass),
                )
            finally:
                self._free(config.lpszAutoConfigUrl, config.lpszProxy, config.lpszProxyBypass)

        def proxy_for_url(self, url: str, *, auto_detect: bool, config_url: str) -> ProxyInfo | None:
            session = self._winhttp.WinHttpOpen("tray-agent", WINHTTP_ACCESS_TYPE_NO_PROXY, None, None, 0)
            if not session:
                raise ctypes.WinError(ctypes.get_last_error())
            try:
                # Bounded: resolve, connect, send, receive (ms) for fetching the PAC file.
                self._winhttp.WinHttpSetTimeouts(session, 5000, 5000, 5000, 10000)
                options = _AutoProxyOptions()
                if config_url:
                    options.dwFlags |= WINHTTP_AUTOPROXY_CONFIG_URL
                    options.lpszAutoConfigUrl = config_url
                if auto_detect:
                    options.dwFlags |= WINHTTP_AUTOPROXY_AUTO_DETECT
                    options.dwAutoDetectFlags = WINHTTP_AUTO_DETECT_TYPE_DHCP | WINHTTP_AUTO_DETECT_TYPE_DNS_A
                options.fAutoLogonIfChallenged = True
                info = _ProxyInfo()
                if not self._winhttp.WinHttpGetProxyForUrl(session, url, ctypes.byref(options), ctypes.byref(info)):
                    return None
                try:
                    return ProxyInfo(int(info.dwAccessType), _text(info.lpszProxy), _text(info.lpszProxyBypass))
                finally:
                    self._free(info.lpszProxy, info.lpszProxyBypass)
            finally:
                self._winhttp.WinHttpCloseHandle(session)
