"""How `lambdalab serve` starts a learner's session quickly: forked from a process that has already imported the app.

- sessions.py: the server's side: starts the preloaded process (the zygote), restarts it if it dies,
  stops it with the server, and gives textual-serve the command that asks it for a session.
- zygote.py: the preloaded process itself: forks one child per session, each child the app.
- relay.py: that command: hands its stdin/stdout/stderr to the zygote and waits for its session to end
  (or, with no zygote to ask, becomes a fresh `python -m lambdalab.tui`).
"""
