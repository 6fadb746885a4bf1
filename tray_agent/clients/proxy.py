"""One proxy resolver for all three channels (msal's session, httpx, the websocket).

The agent talks to a fixed, small set of hosts (Entra sign-in, Graph, the Genesys login, API and
streaming hosts). For each, :meth:`ProxyResolver.for_url` decides once, in this order:

1. the **``proxy`` setting** (IT policy ``Proxy``, or settings.toml; ``host:port`` or ``http://host:port``)
   with ``proxy_bypass`` (``ProxyBypass``: ``;`` or ``,`` separated host patterns, ``*.corp.example``,
   ``<local>``), else the **``pac_url`` setting** (``PacUrl``: a PAC file IT points at);
2. the **environment**: ``HTTPS_PROXY``/``ALL_PROXY`` with ``NO_PROXY`` (what httpx, requests and
   websockets ≥ 15 read by themselves — read here once so all three agree);
3. the **OS settings**: on Windows through WinHTTP (:mod:`.winhttp`), so the OS itself evaluates
   PAC/WPAD (``AutoConfigURL``, "Automatically detect settings") and applies ``ProxyOverride``; on macOS
   the static System Settings proxies (urllib's SystemConfiguration reader);
4. otherwise direct.

Decisions are cached per host for the resolver's life (one agent run): a laptop that moves between
networks gets a fresh decision when the agent is restarted (inferred acceptable: PAC answers rarely
change within a day; the lead may rebuild the resolver on network change).

A PAC file named by policy is evaluated by WinHTTP on Windows and by pypac (a maintained PAC
library; JavaScript through dukpy) elsewhere. PAC answers are ``PROXY h:p; DIRECT``-style lists:
the first ``PROXY``/``HTTPS`` entry or ``DIRECT`` is used (``SOCKS`` entries are skipped: the
channels cannot use them). The answer says why it was chosen (:attr:`ProxyChoice.source`), for
``doctor`` and the log.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import sys
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PAC_FETCH_TIMEOUT = 10.0
MAX_PAC_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProxyChoice:
    url: str | None  # "http://host:port", or None for a direct connection
    source: str  # why: "the proxy setting (…)", "the environment (HTTPS_PROXY)", "PAC file …", "no proxy configured"

    def describe(self) -> str:
        return f"{'through ' + self.url if self.url else 'direct'} ({self.source})"


class PacEvaluator(Protocol):
    def __call__(self, pac_url: str, url: str, host: str) -> str:
        """The PAC file's FindProxyForURL answer for ``url``; raises OSError/ValueError when it cannot."""


class SystemProxy(Protocol):
    def __call__(self, url: str) -> ProxyChoice | None:
        """The OS's proxy for ``url`` (None: the OS has no proxy settings to offer)."""


def normalise_proxy(value: str) -> str:
    """``host:port`` → ``http://host:port``; raises ValueError for anything that is not a proxy address."""
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not a proxy address (expected host:port or http://host:port)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has no valid port") from None
    if "@" in parts.netloc:  # credentials in a proxy URL would end up in logs and doctor's output
        raise ValueError("a proxy address must not carry a user name or password")
    netloc = parts.netloc
    return (
        f"{parts.scheme}://{netloc}" if port else f"{parts.scheme}://{netloc}:{80 if parts.scheme == 'http' else 443}"
    )


def parse_pac_answer(answer: str) -> tuple[bool, str | None]:
    """First usable entry of a PAC answer: (True, proxy URL or None for DIRECT), or (False, None)."""
    for entry in answer.split(";"):
        words = entry.split()
        if not words:
            continue
        kind = words[0].upper()
        if kind == "DIRECT":
            return True, None
        if kind in ("PROXY", "HTTP", "HTTPS") and len(words) > 1:
            try:
                return True, normalise_proxy(("https://" if kind == "HTTPS" else "http://") + words[1])
            except ValueError:
                continue
    return False, None


def bypassed(host: str, patterns: str) -> bool:
    """Does ``host`` match a bypass list (``ProxyBypass``/``ProxyOverride`` style: ``;`` or ``,`` separated)?"""
    host = host.lower().strip("[]")
    for raw in patterns.replace(",", ";").split(";"):
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if pattern == "<local>":
            if "." not in host or host in ("localhost", "127.0.0.1", "::1"):
                return True
            continue
        if pattern.startswith("."):
            pattern = "*" + pattern
        if fnmatch.fnmatchcase(host, pattern) or (pattern.startswith("*.") and host == pattern[2:]):
            return True
    return False


def environment_proxy(url: str, environ: Mapping[str, str]) -> ProxyChoice | None:
    """``HTTPS_PROXY``/``ALL_PROXY`` (either case) unless ``NO_PROXY`` covers the host, as curl reads them."""
    scheme = urlsplit(url).scheme
    lookup = {key.lower(): value for key, value in environ.items() if value}
    name = next(
        (key for key in (f"{'https' if scheme in ('https', 'wss') else 'http'}_proxy", "all_proxy") if key in lookup),
        None,
    )
    if name is None:
        return None
    host = urlsplit(url).hostname or ""
    no_proxy = lookup.get("no_proxy", "")
    if no_proxy.strip() == "*" or _no_proxy_match(host, no_proxy):
        return ProxyChoice(None, f"the environment (NO_PROXY covers {host})")
    try:
        return ProxyChoice(normalise_proxy(lookup[name]), f"the environment ({name.upper()})")
    except ValueError as error:
        log.warning("ignoring %s: %s", name.upper(), error)
        return None


def _no_proxy_match(host: str, no_proxy: str) -> bool:
    host = host.lower()
    for raw in no_proxy.split(","):
        entry = raw.strip().lower().lstrip("*")
        if not entry:
            continue
        entry = entry.split(":")[0] if entry.count(":") == 1 else entry  # "host:port" → host
        if host == entry.lstrip(".") or host.endswith(entry if entry.startswith(".") else "." + entry):
            return True
    return False


def pypac_evaluator(pac_url: str, url: str, host: str) -> str:
    """Fetch ``pac_url`` (bounded) and evaluate it with pypac. PAC files are often served over plain HTTP
    inside the company; they are fetched without a proxy, as browsers do."""
    from pypac.parser import PACFile  # type: ignore[import-untyped]

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(pac_url, timeout=PAC_FETCH_TIMEOUT) as answer:
        text = answer.read(MAX_PAC_BYTES + 1)
    if len(text) > MAX_PAC_BYTES:
        raise ValueError("the PAC file is too large")
    return str(PACFile(text.decode("utf-8", "replace")).find_proxy_for_url(url, host))


class StaticSystemProxy:
    """The OS's static proxy settings as urllib reads them: on macOS the System Settings proxies
    (SystemConfiguration, through urllib) with their bypass list. (A PAC file set in
    macOS System Settings is not evaluated: set ``PacUrl`` by policy for that.)"""

    def __init__(self, proxies: Callable[[], Mapping[str, str]], bypass: Callable[[str], bool], what: str) -> None:
        self._proxies = proxies
        self._bypass = bypass
        self._what = what

    def __call__(self, url: str) -> ProxyChoice | None:
        found = {key.lower(): value for key, value in self._proxies().items() if value}
        address = found.get("https") or found.get("http")
        if not address:
            return None
        host = urlsplit(url).hostname or ""
        if self._bypass(host):
            return ProxyChoice(None, f"{self._what} (its bypass list covers {host})")
        try:
            return ProxyChoice(normalise_proxy(address), self._what)
        except ValueError:
            return None


def default_system_proxy() -> SystemProxy | None:
    if sys.platform == "win32":
        from tray_agent.clients.winhttp import WinHttpProxy

        return WinHttpProxy()
    if sys.platform == "darwin":
        # On macOS, getproxies()/proxy_bypass() are the environment, then System Settings; the environment
        # was already asked, so what is left here is System Settings (SystemConfiguration).
        return StaticSystemProxy(urllib.request.getproxies, urllib.request.proxy_bypass, "macOS proxy settings")
    return None  # Linux: desktops keep proxies in the environment (HTTPS_PROXY), which comes first anyway


class ProxyResolver:
    def __init__(
        self,
        *,
        policy_proxy: str = "",
        policy_bypass: str = "",
        pac_url: str = "",
        environ: Mapping[str, str] | None = None,
        system: SystemProxy | None = None,
        pac: PacEvaluator | None = None,
    ) -> None:
        """Raises ValueError for a policy ``Proxy`` or ``PacUrl`` that cannot be used."""
        self._proxy = normalise_proxy(policy_proxy) if policy_proxy.strip() else ""
        self._bypass = policy_bypass
        self._pac_url = pac_url.strip()
        if self._pac_url and urlsplit(self._pac_url).scheme not in ("http", "https", "file"):
            raise ValueError(f"PacUrl {pac_url!r} must be an http://, https:// or file:// address")
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._system = system
        self._pac = pac or self._default_pac()
        self._cache: dict[str, ProxyChoice] = {}

    def _default_pac(self) -> PacEvaluator:
        if self._system is not None and hasattr(self._system, "evaluate_pac"):
            evaluate: PacEvaluator = self._system.evaluate_pac
            return evaluate
        return pypac_evaluator

    @classmethod
    def for_this_computer(cls, *, policy_proxy: str = "", policy_bypass: str = "", pac_url: str = "") -> ProxyResolver:
        return cls(
            policy_proxy=policy_proxy, policy_bypass=policy_bypass, pac_url=pac_url, system=default_system_proxy()
        )

    def for_url(self, url: str) -> ProxyChoice:
        key = urlsplit(url)._replace(path="", query="", fragment="").geturl()
        if key not in self._cache:
            self._cache[key] = self._decide(url)
            log.info("proxy for %s: %s", urlsplit(url).hostname, self._cache[key].describe())
        return self._cache[key]

    def proxy_url(self, url: str) -> str | None:
        return self.for_url(url).url

    def _decide(self, url: str) -> ProxyChoice:
        host = urlsplit(url).hostname or ""
        if self._proxy:
            if bypassed(host, self._bypass):
                return ProxyChoice(None, f"the proxy_bypass setting covers {host}")
            return ProxyChoice(self._proxy, "the proxy setting (IT policy Proxy, or settings.toml)")
        if self._pac_url:
            return self._from_pac(url, host)
        from_env = environment_proxy(url, self._environ)
        if from_env is not None:
            return from_env
        if self._system is not None:
            try:
                found = self._system(url)
            except OSError as error:
                log.warning("the system proxy settings could not be read (%s); connecting directly", error)
                found = None
            if found is not None:
                return found
        return ProxyChoice(None, "no proxy configured")

    def _from_pac(self, url: str, host: str) -> ProxyChoice:
        # PAC evaluates http(s) URLs; the websocket's wss:// goes through the same CONNECT as https://.
        asked = "https" + url[3:] if url.startswith("wss") else url
        try:
            answer = self._pac(self._pac_url, asked, host)
        except Exception as error:  # a broken PAC file (fetch, JavaScript) must not stop the agent
            log.warning("the PAC file %s could not be used (%s); connecting directly", self._pac_url, error)
            return ProxyChoice(None, f"PAC file {self._pac_url} could not be used ({type(error).__name__})")
        usable, chosen = parse_pac_answer(answer)
        if not usable:
            return ProxyChoice(None, f"PAC file {self._pac_url} offered nothing usable ({answer[:60]!r})")
        return ProxyChoice(chosen, f"PAC file {self._pac_url} ({answer.strip()[:60]})")


def choose(resolver: ProxyResolver | None) -> Callable[[str], str | None]:
    """``url → proxy URL or None``, for wiring: a missing resolver means the environment alone."""
    return (resolver or ProxyResolver()).proxy_url
