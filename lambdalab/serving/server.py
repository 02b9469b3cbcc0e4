"""textual-serve's Server, made a room: a join token, one learner per session, a cap, and a clean stop.

textual-serve itself is not patched; this subclass replaces its two request handlers, adds routes, and bounds
the stop (serve()):

- `GET /?token=T&learner=NAME`: the app's page (textual-serve's own template), whose websocket URL is
  `/ws/T/NAME`. Without the token: 403 and one line saying what is missing. Without a name: a small form that
  asks for one (and the same form, saying why, for a name the room refuses). A room that is full: 503, saying
  so. textual-serve's page script appends `?width=..&height=..` to the websocket URL it is given, and never
  passes the page's own query on: that is why the token and the name travel in the websocket's path.
- `GET /ws/{token}/{learner}`: the session. The same checks (a script may skip the page), then textual-serve's
  AppService runs the session command with the learner's folder as its current folder and LAMBDALAB_HOME
  (progress.json there, the exercise workspace in it: see room.py), and LAMBDALAB_LEARNER naming them. The
  command is a shell line (textual-serve runs it with the shell), so these are set there, quoted.
- `GET /ws` (textual-serve's own websocket, no token possible): 403.
- `GET /instructor?token=I`: the instructor's live view of the room (room_view.py, room_page.py), with the
  instructor's own token; `GET /instructor.json?token=I`: the same as JSON, for scripts. Without it: 403.
- A learner who connects again (a reconnect, a second tab) takes their session over: the older one is closed
  first and waited for, so two apps never write one learner's files at once, and a reconnect never counts twice
  against --max-learners.

On Ctrl+C (or SIGTERM) aiohttp calls the on_shutdown hook, then waits for the websocket handlers, then closes
its event loop. Left alone, sessions still quitting when the loop closed made asyncio print "Event loop is
closed" tracebacks as their pipes were collected. Stopping the zygote here (it SIGTERMs its sessions, which
quit as on textual-serve's own `quit`, and waits for them) means every session has ended, and its pipes have
closed, while the loop still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import shlex
import signal
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from lambdalab.serving.room import MAX_NAME, BadName, Room, exercises, learner_name
from lambdalab.serving.room_page import render_page
from lambdalab.serving.room_view import RoomView, read_room, shared_course
from lambdalab.serving.sessions import Preloaded

log = logging.getLogger("lambdalab-serve")

NO_INSTRUCTOR_TOKEN = (
    "This is the instructor's view of a lambdalab room: open the instructor URL `lambdalab serve` printed.\n"
)
NO_TOKEN = (
    "This lambdalab room needs its join token: open the whole URL your instructor gave you (it ends in ?token=...).\n"
)
LEAVE_TIMEOUT_S = 10.0  # for a learner's older session to quit when they connect again
SHUTDOWN_TIMEOUT_S = 5.0  # for websocket handlers to finish once every session has been stopped
CLOSE_TIMEOUT_S = 3.0  # for a browser to answer a websocket's close (one does at once; a gone one never does)


class RedactedAccessLog(AbstractAccessLogger):
    """The request log, without the tokens: the instructor's page reloads every few seconds, and each line
    showed its token (and each session's line, the room's) on the server's terminal, often the one on the
    room's projector."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s', request.remote, request.method, redacted(request), response.status)


def redacted(request: web.BaseRequest) -> str:
    """The request's path and query with every token replaced by an ellipsis."""
    path = request.path
    if path.startswith("/ws/") and path.count("/") >= 3:  # /ws/{token}/{learner}
        _, _, _token, rest = path.split("/", 3)
        path = f"/ws/…/{rest}"
    query = "&".join(f"{key}={'…' if key == 'token' else value}" for key, value in request.query.items())
    return f"{path}?{query}" if query else path


def room_full(room: Room) -> str:
    return (
        f"This lambdalab room is full: {room.max_learners} learners are connected (the instructor's --max-learners). "
        "Ask your instructor, or try again when someone leaves.\n"
    )


@dataclass
class Seat:
    """One learner's place in the room: their current session."""

    websocket: web.WebSocketResponse | None = None
    replaced: bool = False
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def leave(self) -> None:
        """End this session (its learner connected again) and wait, a bounded while, until it has."""
        self.replaced = True
        if self.websocket is not None:
            await self.websocket.close(message=b"you connected again from another window")
        try:
            await asyncio.wait_for(self.ended.wait(), LEAVE_TIMEOUT_S)
        except TimeoutError:
            log.warning("a learner's older session did not end in %s s", LEAVE_TIMEOUT_S)


class LambdalabServer(Server):
    def __init__(self, *args, room: Room, preloaded: Preloaded | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.room = room
        self.preloaded = preloaded
        self.seats: dict[str, Seat] = {}

    @property
    def join_url(self) -> str:
        return f"{self.public_url}/?token={self.room.token}"

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/ws/{token}/{learner}", self.handle_learner, name="learner")
        app.router.add_get("/instructor", self.handle_instructor)
        app.router.add_get("/instructor.json", self.handle_instructor)
        return app

    async def on_startup(self, app) -> None:
        """Quiet: `lambdalab serve` has said what there is to say (textual-serve would print its logo and the
        session command line)."""

    def serve(self, debug: bool = False) -> None:
        """textual-serve's serve(), with a bound on the stop: after the sessions are stopped (on_shutdown), aiohttp
        waits for every websocket handler to finish, 60 s by default. A handler still waiting then (a browser that
        never answers the close, a session's pipe held open) is cancelled after SHUTDOWN_TIMEOUT_S instead."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises KeyboardInterrupt instead
                loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=lambda *args: None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            access_log_class=RedactedAccessLog,
        )

    async def on_shutdown(self, app) -> None:
        await super().on_shutdown(app)
        if self.preloaded is not None:
            await asyncio.to_thread(self.preloaded.stop)

    def full_for(self, name: str) -> bool:
        """Whether the room has no seat for this learner (one already connected keeps theirs)."""
        return name not in self.seats and len(self.seats) >= self.room.max_learners

    # --- the page ------------------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token")
        if not self.room.admits(token):
            return web.Response(status=403, text=NO_TOKEN)
        assert token is not None
        typed = request.query.get("learner")
        if typed is None:
            return name_form(token, "")
        try:
            name = learner_name(typed.strip())
        except BadName as exc:
            return name_form(token, str(exc), typed, status=400)
        if self.full_for(name):
            return web.Response(status=503, text=room_full(self.room))
        websocket = self.router_url(request, "learner", token=token, learner=name)
        websocket = ("wss:" if websocket.startswith("https:") else "ws:") + websocket.split(":", 1)[1]
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": websocket,
            "config": {"static": {"url": self.router_url(request, "static", filename="/").rstrip("/") + "/"}},
            "application": {"name": f"{self.title}: {name}"},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    def router_url(self, request: web.Request, route: str, **parts: str) -> str:
        return f"{self.public_url}{request.app.router[route].url_for(**parts)}"

    # --- the instructor's view ------------------------------------------------------------------------

    @property
    def instructor_url(self) -> str:
        return f"{self.public_url}/instructor?token={self.room.instructor_token}"

    async def handle_instructor(self, request: web.Request) -> web.Response:
        if not self.room.admits_instructor(request.query.get("token")):
            return web.Response(status=403, text=NO_INSTRUCTOR_TOKEN)
        # Who is connected is read here, in the event loop that changes it; the files in a thread.
        connected = [name for name, seat in self.seats.items() if seat.websocket is not None and not seat.replaced]
        view = await asyncio.to_thread(self.room_view, connected)
        if request.path.endswith(".json"):
            return web.json_response(view.to_dict())
        page = render_page(view, f"{self.title}: the room")
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})

    def room_view(self, connected: list[str]) -> RoomView:
        return read_room(self.room.data, shared_course(), exercises(), connected)

    # --- the session ---------------------------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's own websocket, which carries no token: refused."""
        raise web.HTTPForbidden(text=NO_TOKEN)

    async def handle_learner(self, request: web.Request) -> web.WebSocketResponse:
        if not self.room.admits(request.match_info["token"]):
            raise web.HTTPForbidden(text=NO_TOKEN)
        try:
            name = learner_name(request.match_info["learner"])
        except BadName as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        if self.full_for(name):
            raise web.HTTPServiceUnavailable(text=room_full(self.room))
        previous, seat = self.seats.get(name), Seat()
        self.seats[name] = seat  # taken before any await: two connections at once cannot both pass the cap
        try:
            if previous is not None:
                await previous.leave()
            try:
                folder = await asyncio.to_thread(self.room.prepare, name)
            except OSError as exc:
                log.error("could not make %s's folder: %s", name, exc)
                problem = f"The server could not make your folder ({exc.strerror}): tell your instructor.\n"
                raise web.HTTPInternalServerError(text=problem) from None
            websocket = web.WebSocketResponse(heartbeat=15, timeout=CLOSE_TIMEOUT_S)
            await websocket.prepare(request)
            seat.websocket = websocket  # only now: leave() may close it (one replaced before this never starts)
            if seat.replaced:
                await websocket.close()
            else:
                await self.run_session(request, websocket, self.session_command(name, folder))
            return websocket
        finally:
            if self.seats.get(name) is seat:
                del self.seats[name]
            seat.ended.set()

    def session_command(self, name: str, folder: Path) -> str:
        """The shell line textual-serve runs: the learner's folder and variables, then the session command."""
        where = shlex.quote(str(folder))
        return f"cd -- {where} && export LAMBDALAB_HOME={where} LAMBDALAB_LEARNER={shlex.quote(name)} && {self.command}"

    async def run_session(self, request: web.Request, websocket: web.WebSocketResponse, command: str) -> None:
        """What textual-serve's handle_websocket does once the websocket is open, with this session's command."""
        app_service: AppService | None = None

        async def close() -> None:
            await websocket.close()

        try:
            app_service = AppService(
                command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(
                to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24)
            )
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001  (as textual-serve: logged, the server goes on)
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()


# --- the form that asks for a name ---------------------------------------------------------------------

FORM = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>lambdalab: join the room</title>
<style>
body {{ background: #0c181f; color: rgba(255,255,255,0.95); font-family: "Roboto Mono", menlo, monospace;
       display: flex; align-items: center; justify-content: center; height: 100vh; margin: 0; }}
form {{ background: #12232d; padding: 32px 48px; max-width: 560px; }}
input {{ font: inherit; padding: 8px; margin: 8px 0; width: 100%; box-sizing: border-box; }}
button {{ font: inherit; padding: 12px 32px; background: #5e0ba7; color: white; border: none; cursor: pointer; }}
.problem {{ color: #ffb86c; }}
</style></head>
<body><form method="get" action="/">
<h1>lambdalab</h1>
<p>Your name for this workshop. Your progress and your exercise files are kept under it: type the same
name next time to carry on where you left off.</p>
{problem}<label for="learner">Name (letters, digits, - and _; at most {limit}):</label>
<input id="learner" name="learner" value="{value}" maxlength="{limit}" pattern="[A-Za-z0-9_\\-]+" required autofocus>
<input type="hidden" name="token" value="{token}">
<button type="submit">Join</button>
</form></body></html>
"""


def name_form(token: str, problem: str, typed: str = "", status: int = 200) -> web.Response:
    """The page that asks for a name; every value in it escaped (the token has been checked, the name not)."""
    page = FORM.format(
        problem=f'<p class="problem">{html.escape(problem)}</p>' if problem else "",
        value=html.escape(typed[: MAX_NAME * 2]),
        token=html.escape(token),
        limit=MAX_NAME,
    )
    return web.Response(status=status, text=page, content_type="text/html")
