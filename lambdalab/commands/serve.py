"""`lambdalab serve`: the app in browsers, for a workshop (textual-serve, the optional `serve` extra)."""

from __future__ import annotations

import argparse
import shlex
import sys

from lambdalab.commands import UsageError

NAME = "serve"
HELP = "serve the app to web browsers, for a workshop (needs: pip install 'lambdalab[serve]')"
EXAMPLES = """\
  lambdalab serve                                         http://localhost:8000 on this machine
  lambdalab serve --host 0.0.0.0 --public-url http://192.168.1.20:8000
                                                          students on the network open the public URL
  lambdalab serve --port 9000"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="localhost", help="address to listen on (0.0.0.0: every network interface)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--public-url", metavar="URL",
                        help="the URL students type, when it differs from host:port (e.g. this machine's IP address)")


def run(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server  # optional: only workshops need it
    except ImportError:
        raise UsageError("serving needs textual-serve; install it with: pip install 'lambdalab[serve]'") from None
    # Each browser gets its own app process, started with this very interpreter: it works from a
    # virtual environment that is not activated, where a bare `python` would not find lambdalab.
    command = f"{shlex.quote(sys.executable)} -m lambdalab.tui"
    server = Server(command, host=args.host, port=args.port, title="lambdalab", public_url=args.public_url)
    print(f"Serving lambdalab at {server.public_url}  (open it in a browser; Ctrl+C stops)", flush=True)
    server.serve()
    return 0
