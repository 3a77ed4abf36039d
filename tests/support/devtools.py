"""A minimal Chromium DevTools client over --remote-debugging-pipe (no Selenium/Playwright).

Chromium's `--remote-debugging-pipe` speaks DevTools JSON over file descriptors 3 (commands in)
and 4 (events and replies out), NUL-terminated, so the standard library is enough and no port
or websocket is involved. Console errors are caught as protocol events (uncaught exceptions,
console.error, and browser log entries such as CSP violations). Used by the browser tests and
by benchmarks/report_browser.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
VIEWPORT = {"width": 1280, "height": 1400}
TIMEOUT = 30.0


class DevTools:
    """Chromium over --remote-debugging-pipe: send a command, wait for its reply; keep events."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--hide-scrollbars", "--mute-audio", "about:blank"]

        def onto_3_and_4() -> None:  # runs in the child, between fork and exec
            # Park both ends above 9 first, so neither dup2 overwrites the other's source.
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)  # dup2 leaves the copies inheritable: they survive exec
            os.dup2(high_w, 4)

        # close_fds=False, or Popen would close 3 and 4 after this hook; every other fd Python
        # opened is close-on-exec anyway.
        self.process = subprocess.Popen(  # noqa: PLW1509 - single-threaded at this point
            args, preexec_fn=onto_3_and_4, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._next(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            event = self._next(deadline, method)
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event

    def _next(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        try:
            item = self._inbox.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError(f"Chromium did not answer {waiting_for} in {TIMEOUT:.0f} s") \
                from None
        if item is None:
            raise RuntimeError(f"Chromium exited (code {self.process.poll()}) while waiting "
                               f"for {waiting_for}")
        return item

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)


class Page:
    """One tab with a file loaded; `errors` are the console/page errors it reported."""

    def __init__(self, browser: DevTools, url: str, viewport: dict[str, int] | None = None
                 ) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {**(viewport or VIEWPORT), "deviceScaleFactor": 1,
                      "mobile": (viewport or VIEWPORT)["width"] < 600}, self.session)
        browser.send("Page.navigate", {"url": url}, self.session)
        browser.wait_for("Page.loadEventFired", self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.browser.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True,
        }, self.session)
        if "exceptionDetails" in result:
            raise AssertionError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append("Uncaught: " + str(details.get("exception", {}).get(
                    "description") or details.get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                 "assert"):
                found.append("console." + params["type"] + ": " + " ".join(
                    str(arg.get("value", arg.get("description", ""))) for arg in
                    params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"log ({params['entry'].get('source')}): "
                             f"{params['entry'].get('text')}")
        return found

    def screenshot(self, full_page: bool = False) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate("({w: document.documentElement.scrollWidth, "
                                 "h: document.documentElement.scrollHeight})")
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["w"], "height": size["h"], "scale": 1})
        data = self.browser.send("Page.captureScreenshot", params, self.session)
        return base64.b64decode(data["data"])
