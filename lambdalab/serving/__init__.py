"""How `lambdalab serve` keeps a room of learners, and starts each one's session quickly: forked from a process that
has already imported the app.

- room.py: the join token, learners' names and their folders (progress and workspace), the cap on learners.
- server.py: textual-serve's server with the room's checks in front of its page and its websocket.

- sessions.py: the server's side: starts the preloaded process (the zygote), restarts it if it dies,
  stops it with the server, and gives textual-serve the command that asks it for a session.
- zygote.py: the preloaded process itself: forks one child per session, each child the app.
- relay.py: that command: hands its stdin/stdout/stderr to the zygote and waits for its session to end
  (or, with no zygote to ask, becomes a fresh `python -m lambdalab.serving.learner`).
- containment.py: learners' code shut in as `lambdalab grade` shuts in a submission's; learner.py: a fresh session.
"""
