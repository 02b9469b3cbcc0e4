"""textual-serve's Server, which ends the forked sessions first when it stops.

On Ctrl+C (or SIGTERM) aiohttp calls the on_shutdown hook, then waits for the websocket handlers,
then closes its event loop. Left alone, sessions still quitting when the loop closed made asyncio
print "Event loop is closed" tracebacks as their pipes were collected. Stopping the zygote here (it
SIGTERMs its sessions, which quit as on textual-serve's own `quit`, and waits for them) means every
session has ended, and its pipes have closed, while the loop still runs.
"""

from __future__ import annotations

import asyncio

from textual_serve.server import Server

from lambdalab.serving.sessions import Preloaded


class LambdalabServer(Server):
    def __init__(self, *args, preloaded: Preloaded | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.preloaded = preloaded

    async def on_shutdown(self, app) -> None:
        await super().on_shutdown(app)
        if self.preloaded is not None:
            await asyncio.to_thread(self.preloaded.stop)
