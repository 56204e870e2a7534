#!/usr/bin/env python3
"""Open an HTML report in headless Chromium and check that it renders.

    python tools/html-check.py REPORT.html [--screenshot OUT.png] [--width 1280]

Chromium is driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: file descriptors 3 and 4, no port, no
WebSocket library), so every check reads the browser's own events:

- no JavaScript exception and no ``console.error``/``console.warn``
  (``Runtime.exceptionThrown``, ``Runtime.consoleAPICalled``);
- no error or warning in the browser's log (``Log.entryAdded``: failed loads,
  blocked content, bad images);
- no request for anything but the file itself and ``data:`` URIs
  (``Network.requestWillBeSent``): the report must be self-contained;
- a full-page screenshot that is not blank: its pixels must vary (standard
  deviation of the grey levels) and at least 3% of them must differ from the
  background.

Exit status 0 when every check passes, 1 with one line per failure, 2 when
Chromium cannot be started (its name is in $CHROMIUM, else ``chromium`` or
``chromium-browser`` on PATH).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

#: Seconds to wait for the browser, the page load and each reply.
TIMEOUT = 60.0


class Browser:
    """A headless Chromium spoken to over --remote-debugging-pipe."""

    def __init__(self, exe: str, width: int, height: int):
        self.profile = tempfile.mkdtemp(prefix="gilfree-html-check-")
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()
        args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                "--hide-scrollbars", f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "--remote-debugging-pipe", "about:blank"]

        def fds():  # the browser reads commands on fd 3 and writes replies on fd 4
            # via copies above 4: a pipe end may itself be 3 or 4
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        # close_fds=False: subprocess would otherwise close 3 and 4 after fds()
        # ran; every other descriptor of this process is close-on-exec anyway.
        self.proc = subprocess.Popen(args, preexec_fn=fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._next = 0
        self.events: list = []

    def _read_message(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe: " + self._stderr())
                self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def _stderr(self) -> str:
        try:
            self.proc.kill()
            return self.proc.communicate(timeout=5)[1].decode(errors="replace")[-500:]
        except Exception:
            return "(no output)"

    def send(self, method: str, params=None, session=None) -> dict:
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = TIMEOUT) -> dict:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            ev = self._read_message(deadline)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def blank_reason(png: bytes):
    """None if the screenshot shows something, else why it looks blank."""
    try:
        from PIL import Image
    except ImportError:
        return None if len(png) > 20_000 else f"screenshot is only {len(png)} bytes"
    import numpy as np

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    background = np.median(img)
    inked = float(np.mean(np.abs(img - background) > 16))
    if img.std() < 5 or inked < 0.03:
        return (f"screenshot looks blank: grey-level std {img.std():.1f}, "
                f"{inked:.1%} of pixels differ from the background")
    return None


def check(path: str, screenshot: str | None, width: int = 1280) -> list:
    """Render `path`; return the list of problems (empty: it passed)."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    url = "file://" + os.path.abspath(path)
    problems = []
    browser = Browser(exe, width, 900)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        browser.drain(0.5)  # late console messages, image decoding errors
        for ev in browser.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                problems.append(f"JavaScript exception: {d.get('text')} "
                                f"{d.get('exception', {}).get('description', '')}".strip())
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning",
                                                                         "assert"):
                args = " ".join(str(a.get("value", a.get("description", "")))
                                for a in p.get("args", []))
                problems.append(f"console.{p['type']}: {args}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error",
                                                                              "warning"):
                e = p["entry"]
                problems.append(f"browser log {e['level']}: {e.get('text')} {e.get('url', '')}")
            elif m == "Network.requestWillBeSent":
                req = p.get("request", {}).get("url", "")
                if not (req == url or req.startswith("data:")):
                    problems.append(f"fetches {req} (the report must be self-contained)")
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = min(int(size["height"]), 16000)
        shot = browser.send("Page.captureScreenshot",
                            {"format": "png", "captureBeyondViewport": True,
                             "clip": {"x": 0, "y": 0, "width": width, "height": height,
                                      "scale": 1}}, session=session)
        png = base64.b64decode(shot["data"])
        if screenshot:
            with open(screenshot, "wb") as f:
                f.write(png)
        why = blank_reason(png)
        if why:
            problems.append(why)
    finally:
        browser.close()
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", help="the HTML file to check")
    ap.add_argument("--screenshot", metavar="PNG", help="also save the full-page screenshot")
    ap.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.report):
        print(f"html-check: no file {args.report!r}", file=sys.stderr)
        return 2
    try:
        problems = check(args.report, args.screenshot, args.width)
    except (FileNotFoundError, RuntimeError, TimeoutError, OSError) as exc:
        print(f"html-check: cannot run Chromium: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"html-check: {args.report}: {p}")
    if not problems:
        print(f"html-check: {args.report}: renders in Chromium, no console errors, no fetches"
              + (f"; screenshot {args.screenshot}" if args.screenshot else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
