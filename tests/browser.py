"""Headless Chromium over the DevTools protocol, for pages that draw client-side (the Streamlit workbench).

``--dump-dom --virtual-time-budget`` does not wait for a page that fills itself over a websocket, so
this drives Chromium directly: open the page, poll a JavaScript condition in real time, then return the
DOM and (optionally) a PNG screenshot. Uses tornado's websocket client (installed with Streamlit).

Also a tool: ``python tests/browser.py docs/workbench.png`` starts the workbench and takes the README's
screenshot at 1400x900.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def workbench(scenario: str = "conghua", timeout: float = 60.0):
    """Run ``streamlit run app.py`` headless on 127.0.0.1 and a free port; yield its URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    env = {**os.environ, "HEALTHSIM_SCENARIO": scenario}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the workbench did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def _drive(
    ws_url: str, url: str, ready_js: str, size: tuple[int, int], timeout: float, screenshot: bool
) -> tuple[bool, str, bytes | None]:
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(ws_url, max_message_size=64 * 2**20)
    counter = 0

    async def call(method: str, **params):
        nonlocal counter
        counter += 1
        await conn.write_message(json.dumps({"id": counter, "method": method, "params": params}))
        while True:
            reply = json.loads(await conn.read_message())
            if reply.get("id") == counter:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    async def evaluate(expr: str):
        return (await call("Runtime.evaluate", expression=expr, returnByValue=True))["result"].get("value")

    await call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)
    await call("Page.navigate", url=url)
    deadline, ready = time.monotonic() + timeout, False
    while time.monotonic() < deadline and not ready:
        await asyncio.sleep(0.5)
        ready = bool(await evaluate(ready_js))
    await asyncio.sleep(1.0)  # let the charts finish their transitions
    dom = await evaluate("document.documentElement.outerHTML")
    png = base64.b64decode((await call("Page.captureScreenshot", format="png"))["data"]) if screenshot else None
    conn.close()
    return ready, dom, png


def render(
    url: str, ready_js: str, size: tuple[int, int] = (1400, 900), timeout: float = 60.0, screenshot: bool = False
) -> tuple[bool, str, bytes | None]:
    """Open ``url`` in headless Chromium until ``ready_js`` is true (or ``timeout`` s); return (ready, DOM, PNG)."""
    profile = tempfile.mkdtemp(prefix="healthsim-chromium-")
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "about:blank",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stderr:
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = m.group(1)
                break
        if port is None:
            raise RuntimeError("Chromium did not open its DevTools port")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        return asyncio.run(_drive(page["webSocketDebuggerUrl"], url, ready_js, size, timeout, screenshot))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)


# The workbench has drawn: the plan table and a plotly chart's SVG are on the page.
WORKBENCH_READY = (
    "!!document.querySelector('[data-testid=\"stTable\"]') && "
    "!!document.querySelector('[data-testid=\"stPlotlyChart\"] .main-svg') && "
    "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
)

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/workbench.png")
    with workbench(sys.argv[2] if len(sys.argv) > 2 else "conghua") as url:
        ok, _, png = render(url, WORKBENCH_READY, screenshot=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print(f"{'ready' if ok else 'NOT READY'}: {out} ({len(png) / 1024:.0f} KB)")
