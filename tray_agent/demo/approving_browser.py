"""A stand-in for the agent's browser, for the demo and tests on the simulator only.

It does what a browser does with an auto-approved sign-in: load the authorize URL, then either follow
the redirect (query response mode) or submit the auto-posting form (``form_post``) to the app's
loopback listener — over real HTTP, so the listener, state check and code exchange all run for real.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlparse

import httpx

from tray_agent.clients.http import tls_context

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1"}
_FORM_ACTION = re.compile(r"<form[^>]*\baction='([^']*)'")
_HIDDEN_INPUT = re.compile(r"<input type='hidden' name='([^']*)' value='([^']*)'>")


class ApprovingBrowser:
    def __init__(self, ca_file: str) -> None:
        self._ca_file = ca_file

    async def __call__(self, url: str) -> None:
        async with httpx.AsyncClient(verify=tls_context(self._ca_file), follow_redirects=False, timeout=15) as client:
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
                target = urlparse(location)
                if target.scheme == "http" and target.hostname in _LOOPBACK_HOSTS:
                    # Browsers resolve "localhost" to the loopback address; the listener is on 127.0.0.1.
                    await client.get(location.replace("//localhost", "//127.0.0.1", 1))
                    return
                answer = await client.get(location)
            raise RuntimeError("too many redirects during sign-in")

    @staticmethod
    async def _submit_form(client: httpx.AsyncClient, page: str) -> None:
        action = _FORM_ACTION.search(page)
        if action is None:
            raise RuntimeError("the sign-in page's answer form has no action")
        target = html.unescape(action.group(1))
        if urlparse(target).hostname not in _LOOPBACK_HOSTS:
            raise RuntimeError("the sign-in answer form does not post to this computer")
        fields = {html.unescape(name): html.unescape(value) for name, value in _HIDDEN_INPUT.findall(page)}
        await client.post(target.replace("//localhost", "//127.0.0.1", 1), data=fields)
