"""The `lambdalab` command: argparse front door; each subcommand is a small module in lambdalab/commands/.

Exit status (shared/spec/cli.md): 0 success, 1 "ran, but the answer is no",
2 bad input or usage, with a message naming the file, line and key; never a
traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from lambdalab import __version__
from lambdalab.commands import UsageError
from lambdalab.inputs import InputErrors

# Command name -> its module in lambdalab/commands/, which has NAME, HELP, EXAMPLES, add_arguments(parser) and
# run(args) -> exit status. A command imports only its own module, so that `check` does not pay for `sim`.
COMMANDS = {
    "sim": "sim",
    "invoke": "invoke",
    "iam": "iam",
    "lessons": "lessons",
    "read": "read",
    "quiz": "quiz",
    "validate": "validate",
    "start": "start",
    "run": "run_exercise",
    "check": "check",
    "watch": "watch",
    "hint": "hint",
    "grade": "grade",
    "classroom": "classroom",
    "serve": "serve",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or, when `only` names a command, the parser with just that one."""
    parser = argparse.ArgumentParser(
        prog="lambdalab",
        description="Learn how AWS Lambda really behaves: offline, in virtual time.",
        epilog="Run `lambdalab` with no command to open the app, and `lambdalab COMMAND --help` for a command's "
        "options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"lambdalab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in [only] if only else COMMANDS:
        command = importlib.import_module(f"lambdalab.commands.{COMMANDS[name]}")
        child = sub.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.HELP,
            epilog="examples:\n" + command.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(child)
        child.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:  # `lambdalab sim x | head`: the reader left; nothing to say
        _quiet_stdout()
        return 0


def _main(argv: list[str]) -> int:
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser.print_help()
            print("\nRun `lambdalab` in a terminal to open the app.")
            return 0
        # Imported here, not at the top: every other command stays free of Textual (and starts faster).
        from lambdalab.tui.app import LambdalabApp

        LambdalabApp().run()
        return 0
    try:
        return args.run(args)
    except InputErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"lambdalab {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # not a bug: main() ends quietly
        raise
    except Exception as exc:  # a bug in lambdalab, not in the user's input
        print(f"lambdalab {args.command}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("This is a bug in lambdalab; set LAMBDALAB_DEBUG=1 to see the traceback.", file=sys.stderr)
        if os.environ.get("LAMBDALAB_DEBUG"):
            traceback.print_exc()
        return 70


def _quiet_stdout() -> None:
    """Python flushes stdout again at exit, into the closed pipe, and complains: point it at nothing
    (as https://docs.python.org/3/library/signal.html#note-on-sigpipe advises)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
