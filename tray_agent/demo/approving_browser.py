"""A stand-in for the agent's browser, for the demo and tests on the simulator only.

It does what a browser does with an auto-approved sign-in: open the address the app gives it (the
listener's one-time link, which redirects to the sign-in page), load the sign-in page, then either
follow the redirect (query response mode) or submit the auto-posting form (``form_post``) to the app's
loopback listener — over real HTTP, so the listener, state check and code exchange all run for real.
Addresses are used as they are: ``localhost`` is resolved by the system, as a browser would.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlparse

import httpx

from tray_agent.clients.http import tls_context

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
_FORM_ACTION = re.compile(r"<form[^>]*\baction='([^']*)'")
_HIDDEN_INPUT = re.compile(r"<input type='hidden' name='([^']*)' value='([^']*)'>")


def _is_loopback(url: str) -> bool:
    target = urlparse(url)
    return target.scheme == "http" and (target.hostname or "") in _LOOPBACK_HOSTS


class ApprovingBrowser:
    def __init__(self, ca_file: str) -> None:
        self._ca_file = ca_file
        self.authorized: list[str] = []  # every sign-in page address loaded (after the one-time link)

    def authorize(self, url: str) -> str:
        """The sign-in page address as loaded (a test's impostor changes it here)."""
        return url

    async def __call__(self, url: str) -> None:
        async with httpx.AsyncClient(verify=tls_context(self._ca_file), follow_redirects=False, timeout=15) as client:
            if _is_loopback(url):  # the listener's one-time link: it redirects to the sign-in page
                start = await client.get(url)
                location = start.headers.get("location")
                if start.status_code not in (302, 303, 307) or not location:
                    raise RuntimeError(f"the sign-in link did not redirect (HTTP {start.status_code})")
                url = location
            url = self.authorize(url)
            self.authorized.append(url)
            answer = await client.get(url)
            for _ in range(5):
                if answer.status_code == 200 and "id='response'" in answer.text:
                    await self._submit_form(client, answer.text)
                    return
                location = answer.headers.get("location")
                if answer.status_code not in (301, 302, 303, 307) or not location:
                    raise RuntimeError(
                        f"the sign-in page did not redirect (HTTP {answer.status_code}); is auto-approve on?"
                    )
                if _is_loopback(location):
                    await client.get(location)
                    return
                answer = await client.get(location)
            raise RuntimeError("too many redirects during sign-in")

    @staticmethod
    async def _submit_form(client: httpx.AsyncClient, page: str) -> None:
        action = _FORM_ACTION.search(page)
        if action is None:
            raise RuntimeError("the sign-in page's answer form has no action")
        target = html.unescape(action.group(1))
        if not _is_loopback(target):
            raise RuntimeError("the sign-in answer form does not post to this computer")
        fields = {html.unescape(name): html.unescape(value) for name, value in _HIDDEN_INPUT.findall(page)}
        await client.post(target, data=fields)
