"""One module per subcommand of `lambdalab`."""


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""
