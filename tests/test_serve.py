"""`lambdalab serve` as an instructor starts it: a web page that is the app, from an unactivated venv."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import aiohttp
from conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def screen_text(url: str, timeout: float = 30.0) -> str:
    """What the app sends a browser, until its course map appears (or the time runs out)."""
    received = ""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        deadline = time.monotonic() + timeout
        while "Course map" not in received and time.monotonic() < deadline:
            try:
                message = await ws.receive(timeout=deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data.decode("utf-8", "replace")
            elif message.type == aiohttp.WSMsgType.TEXT:
                received += message.data
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
    return received


def test_serve_answers_with_the_app_page():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "lambdalab", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_line = server.stdout.readline()
        assert f"Serving lambdalab at http://127.0.0.1:{port}" in first_line
        page = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert page is not None, "the server never answered"
        assert "<div>lambdalab</div>" in page and f"ws://127.0.0.1:{port}/ws" in page
        # A browser's connection starts the app (with this interpreter, not whatever `python` is on
        # PATH): its course map arrives over the websocket.
        assert "Course map" in asyncio.run(screen_text(f"ws://127.0.0.1:{port}/ws?width=100&height=30"))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_without_the_extra_says_how_to_install(tmp_path):
    # A stand-in textual_serve that cannot be imported, first on the path.
    (tmp_path / "textual_serve").mkdir()
    (tmp_path / "textual_serve" / "__init__.py").write_text("raise ImportError('not installed')\n")
    result = subprocess.run([sys.executable, "-m", "lambdalab", "serve"], cwd=REPO, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=30)
    assert result.returncode == 2
    assert "pip install 'lambdalab[serve]'" in result.stderr
