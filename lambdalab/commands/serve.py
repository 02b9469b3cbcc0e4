"""`lambdalab serve`: the app in browsers, for a workshop (textual-serve, the optional `serve` extra).

Each browser gets its own app process. By default it is forked from a process that has imported the
app already (lambdalab/serving/: a room of learners all get their first screen within seconds);
`--no-preload` starts each one in a fresh interpreter instead, as textual-serve does on its own.
"""

from __future__ import annotations

import argparse

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
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL students type, when it differs from host:port (e.g. this machine's IP address)",
    )
    parser.add_argument(
        "--no-preload",
        action="store_true",
        help="start each session in a fresh interpreter (slower: for comparison and troubleshooting)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        from lambdalab.serving.server import LambdalabServer  # textual-serve: optional, only workshops need it
    except ImportError:
        raise UsageError("serving needs textual-serve; install it with: pip install 'lambdalab[serve]'") from None
    from lambdalab.serving.sessions import Preloaded, can_preload, fresh_command

    # Sessions are started with this very interpreter: it works from a virtual environment that is not
    # activated, where a bare `python` would not find lambdalab.
    preloaded = Preloaded() if can_preload() and not args.no_preload else None
    try:
        server = LambdalabServer(
            preloaded.command if preloaded else fresh_command(),
            host=args.host,
            port=args.port,
            title="lambdalab",
            public_url=args.public_url,
            preloaded=preloaded,
        )
        if preloaded:
            preloaded.start()
        print(f"Serving lambdalab at {server.public_url}  (open it in a browser; Ctrl+C stops)", flush=True)
        server.serve()
    finally:
        if preloaded:
            preloaded.stop()  # done already when the server stopped normally: this is for when it did not
    return 0
