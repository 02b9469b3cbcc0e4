"""`lambdalab serve`: the app in browsers, for a workshop (textual-serve, the optional `serve` extra).

A room, not an open door: the URL it prints carries a join token (random, or --token) and anyone without it
is refused; it listens on 127.0.0.1 unless --host says otherwise; at most --max-learners sessions at once.
Each browser asks for a name (or takes `&learner=NAME` from the URL) and gets that learner's own progress
and exercise workspace under --data, kept across reconnects and restarts (lambdalab/serving/room.py). Their
checks and runs are shut in as `lambdalab grade` shuts in a submission's (lambdalab/serving/containment.py).
The instructor watches the room live at /instructor with a token of their own (--instructor-token), and
`lambdalab classroom report DATA` shows the same afterwards.

Each browser gets its own app process. By default it is forked from a process that has imported the
app already (lambdalab/serving/: a room of learners all get their first screen within seconds);
`--no-preload` starts each one in a fresh interpreter instead, as textual-serve does on its own.
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path

from lambdalab.commands import UsageError
from lambdalab.paths import data_dir

NAME = "serve"
HELP = "serve the app to web browsers, for a workshop (needs: pip install 'lambdalab[serve]')"
EXAMPLES = """\
  lambdalab serve                                         this machine only: prints http://127.0.0.1:8000/?token=...
  lambdalab serve --host 0.0.0.0 --public-url http://192.168.1.20:8000 --max-learners 25
                                                          a room on the network: give learners the printed URL
  LAMBDALAB_SERVE_TOKEN=lambda-week-3 LAMBDALAB_INSTRUCTOR_TOKEN=teacher-week-3 lambdalab serve --data ~/workshop
                                                          the same URLs and the same learners' data after a restart
                                                          (--token and --instructor-token too, but a command line
                                                          is visible to every process, learners' code included)
  lambdalab serve --port 9000"""
DEFAULT_DATA = "workshop"  # in the learner data folder (paths.data_dir)
# The tokens may come from the environment: a command line is readable by every process on the machine (in
# /proc), learners' code included, and an environment only by its own user.
TOKEN_VARIABLES = {"token": "LAMBDALAB_SERVE_TOKEN", "instructor_token": "LAMBDALAB_INSTRUCTOR_TOKEN"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lambdalab.serving.room import DEFAULT_MAX_LEARNERS

    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every network interface)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL students type, when it differs from host:port (e.g. this machine's IP address)",
    )
    parser.add_argument(
        "--token",
        help="the room's join token, in the URL learners open (8 to 128 letters, digits, - and _; "
        "default: $LAMBDALAB_SERVE_TOKEN, else a new random one each start; the variable keeps it out of the "
        "process list, which learners' code can read)",
    )
    parser.add_argument(
        "--instructor-token",
        metavar="TOKEN",
        help="the token of the instructor's live view of the room (/instructor?token=...; same rules as --token; "
        "default: $LAMBDALAB_INSTRUCTOR_TOKEN, else a new random one each start)",
    )
    parser.add_argument(
        "--max-learners",
        type=int,
        default=DEFAULT_MAX_LEARNERS,
        metavar="N",
        help=f"learners connected at once; the next one is told the room is full (default {DEFAULT_MAX_LEARNERS})",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help=f"where each learner's progress and exercise files are kept, one folder per name (default: "
        f"'{DEFAULT_DATA}' in your lambdalab data folder, ~/.local/share/lambdalab/{DEFAULT_DATA} on Linux, "
        f"$LAMBDALAB_HOME/{DEFAULT_DATA} when that is set)",
    )
    parser.add_argument(
        "--no-preload",
        action="store_true",
        help="start each session in a fresh interpreter (slower: for comparison and troubleshooting)",
    )


def run(args: argparse.Namespace) -> int:
    from lambdalab.serving.room import Room, check_token, new_token

    if not 1 <= args.max_learners <= 1000:
        raise UsageError("--max-learners must be between 1 and 1000")
    tokens, origins = {}, {}
    for option, variable in TOKEN_VARIABLES.items():
        # Taken out of the environment whatever happens: sessions, and so learners' code, must never inherit it.
        from_environment = os.environ.pop(variable, None) or None
        given = getattr(args, option) or from_environment
        flag = "--" + option.replace("_", "-")
        origins[option] = flag if getattr(args, option) else variable if from_environment else ""
        try:
            tokens[option] = check_token(given) if given is not None else new_token()
        except ValueError as exc:
            raise UsageError(f"{origins[option] or flag}: {exc}") from None
    if tokens["token"] == tokens["instructor_token"]:
        raise UsageError("--instructor-token must differ from --token: every learner has the join token")
    data = (args.data or data_dir() / DEFAULT_DATA).expanduser().resolve()
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--data {data}: cannot make this folder ({exc.strerror})") from None
    room = Room(tokens["token"], data, args.max_learners, tokens["instructor_token"])
    try:
        from lambdalab.serving.server import LambdalabServer  # textual-serve: optional, only workshops need it
    except ImportError:
        raise UsageError("serving needs textual-serve; install it with: pip install 'lambdalab[serve]'") from None
    from lambdalab.serving.containment import choose
    from lambdalab.serving.room import warm_up
    from lambdalab.serving.sessions import Preloaded, can_preload, fresh_command

    layers = choose()  # before any session (or the zygote) takes its environment from this process's

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
            room=room,
            preloaded=preloaded,
        )
        if preloaded:
            preloaded.start()
        threading.Thread(target=warm_up, name="lambdalab-catalogue", daemon=True).start()
        print(startup_text(server.join_url, server.instructor_url, args, room, layers, origins), flush=True)
        server.serve()
    finally:
        if preloaded:
            preloaded.stop()  # done already when the server stopped normally: this is for when it did not
    return 0


def startup_text(
    join_url: str,
    instructor_url: str,
    args: argparse.Namespace,
    room,
    layers: tuple[str, ...] = (),
    origins: dict[str, str] | None = None,
) -> str:
    """What the instructor reads: the URL to give, what the room lets in, and how learners' code is shut in."""
    from lambdalab.serving.containment import said

    if args.host in ("127.0.0.1", "localhost", "::1"):
        where = (
            f"listening on {args.host} only: browsers on this machine. For a room on the network: "
            "--host 0.0.0.0 --public-url http://THIS-MACHINE'S-ADDRESS:PORT"
        )
    else:
        where = f"listening on {args.host} (--host): anyone who can reach this port, and has the token, may join"
        if not args.public_url:
            where += "; pass --public-url with this machine's address so the printed URL works for them"
    origins = origins or {}
    token = {
        "--token": "given with --token (visible in the process list: LAMBDALAB_SERVE_TOKEN keeps it out)",
        "LAMBDALAB_SERVE_TOKEN": "given with LAMBDALAB_SERVE_TOKEN",
    }.get(origins.get("token", ""), f"random; to keep this URL after a restart: LAMBDALAB_SERVE_TOKEN={room.token}")
    joined = len(room.learners())
    return "\n".join(
        [
            f"Serving lambdalab at {join_url}  (give learners this URL; Ctrl+C stops)",
            f"  join token   {token}. A browser without it is refused (HTTP 403).",
            f"  network      {where}.",
            f"  learners     at most {room.max_learners} at once (--max-learners); each types a name (or opens "
            "the URL with &learner=NAME) and resumes under it.",
            f"  data         {room.data} (--data): a folder per learner with progress and exercise files"
            + (f"; {joined} joined so far." if joined else "."),
            f"  isolation    {said(layers)}.",
            f"  instructor   {instructor_url}  (the room live: who is where, quiz scores, exercises passed and "
            "the checks learners are stuck on; keep this URL to yourself)"
            + (
                ""
                if origins.get("instructor_token")
                else f"; to keep it after a restart: LAMBDALAB_INSTRUCTOR_TOKEN={room.instructor_token}"
            )
            + ".",
        ]
    )
