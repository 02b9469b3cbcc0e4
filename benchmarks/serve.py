"""Workshop benchmark for `lambdalab serve`: a room of learners opening the app at once.

Run from the repository root (textual-serve is needed: pip install -e '.[serve]'); Linux (/proc):

    python benchmarks/serve.py                  # 20 sessions at once, about half a minute
    python benchmarks/serve.py --sessions 40    # another classroom size (at most 200)
    python benchmarks/serve.py --no-preload     # the same room, each session a fresh interpreter (before)
    python benchmarks/serve.py --json           # one JSON object instead of the table

It starts `lambdalab serve` on a free local port (with a temporary LAMBDALAB_HOME and --data, a
join token, and --max-learners as large as the room), then plays a classroom with local
websocket clients speaking textual-serve's protocol (binary frames from the app; ["stdin", keys]
JSON text frames to it), each a learner of their own (learner-1, learner-2, ...: a progress file
and an exercise workspace made for each as they join), in three phases:

1. Everyone opens the page at the same moment. Time to first screen, per session: from
   opening the websocket to the course map's text arriving. Target: under 3 s for every
   one of 20 sessions on a 2-core machine. Also the CPU each session took to get there.
2. Once all have their course map, everyone presses F4, then Enter on the picker's first
   scenario, at the same moment. Time to the simulator, per session: from F4 to the
   simulator's screen arriving (the picker, Enter, the scenario built and drawn).
3. Everyone's simulator plays (--hold seconds): the CPU a playing session costs, in % of
   one core; and the memory per session: how much the server's process tree grew with all
   the sessions in the simulator, over the number of sessions. PSS (a page shared by k
   processes counts 1/k in each) adds up to the machine's memory; RSS counts shared pages
   in every process, so it overstates what forked sessions cost.
4. Everyone opens the exercises (F5) and checks the first exercise's untouched starter (c),
   the presses spread evenly over the same ten seconds: time to the result, per session, from
   pressing c to the result line arriving. Target: every result within 15 s (issue 19). Each
   check runs the learner's handler in worker processes of its own, shut in as in grading.

Then it stops the server with SIGTERM (as Ctrl+C does) and counts the processes left
behind: every process the server started carries a marker in its environment, found in
/proc. From the memory and CPU it estimates how many learners this machine serves.

This machine may be busy with other work: the report says how many cores other processes
kept busy during phase 1, and the load average before; the CPU figures per session do not
depend on it. Everything is bounded: at most 200 sessions, --timeout seconds for each step,
and the server and anything it left are stopped at the end whatever happens. Targets are
reported, never asserted; the script exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

TARGET_FIRST_SCREEN_S = 3.0
MAX_SESSIONS = 200
WIDTH, HEIGHT = 120, 40
F4, F5, ENTER = "\x1bOS", "\x1b[15~", "\r"  # what the browser's terminal (xterm.js) sends for these keys
COURSE_MAP, PICKER, SIMULATOR, EXERCISES = "Course map", "Choose a scenario", "Play/pause", "Press c to check"
CHECKED = re.compile(r"\((?:not yet|passed|could not be checked), ")  # the result line of a check
CHECK_WINDOW_S = 10.0  # the room's checks start within this many seconds
TARGET_CHECK_S = 15.0
TOKEN = "serve-benchmark"
MARKER = "LAMBDALAB_SERVE_BENCHMARK"  # in the server's environment, inherited by every process it starts
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the processes, from /proc -------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """pid and every process below it."""
    children, found, todo = _children_map(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; (0, 0) once it is gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.split()[1].isdigit()}
    return values.get("Rss", 0), values.get("Pss", 0)


def cpu_seconds(pid: int, children: bool = False) -> float:
    """A process's CPU seconds; with children=True, those of its children that ended and were reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    first = 13 if children else 11  # cutime + cstime, or utime + stime
    return (int(fields[first]) + int(fields[first + 1])) / CLOCK_TICKS


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (all cores; idle and iowait excluded)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS  # user nice system [idle iowait] irq softirq steal


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment holds MARKER=marker (this user's: others' environ is unreadable)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
            except OSError:
                pass
    return found


# --- one learner ------------------------------------------------------------------------------------


class Screen:
    """What a session's browser has received, as text without escape sequences."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.text = ""
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode

    async def until(self, words: str | re.Pattern, deadline: float) -> None:
        import aiohttp

        while not (words.search(self.text) if isinstance(words, re.Pattern) else words in self.text):
            if time.monotonic() > deadline:  # a session that keeps drawing (a blinking cursor) never falls silent
                raise TimeoutError(f"{words!r} did not arrive in time")
            message = await self.ws.receive(timeout=max(0.01, deadline - time.monotonic()))
            if message.type == aiohttp.WSMsgType.BINARY:
                self.text = ESCAPES.sub("", self.text[-4000:] + self._decode(message.data))
            elif message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                raise ConnectionError(f"the websocket closed before {words!r} arrived")

    async def drain(self, until: asyncio.Event) -> None:
        """Keep reading (a browser always does), so the app never waits on a full pipe."""
        while not until.is_set() and not self.ws.closed:
            try:
                await self.ws.receive(timeout=0.2)
            except TimeoutError:
                pass
        if not until.is_set():
            raise ConnectionError("the websocket closed while the simulator played")

    async def press(self, keys: str) -> None:
        self.text = ""
        await self.ws.send_str(json.dumps(["stdin", keys]))


async def learner(url: str, room: Room, timeout: float, place: int) -> dict:
    """One browser: open the page, wait for the course map; when the whole room has it, F4 and Enter on
    the picker's first scenario, wait for the simulator; when the room has played, F5 and, at its `place`
    in the ten seconds of checks, c; then keep reading until the room is done."""
    import aiohttp

    result: dict = {"first_screen_s": None, "simulator_s": None, "check_s": None, "error": None}
    await room.opening.wait()
    began = time.monotonic()
    try:
        async with aiohttp.ClientSession() as client, client.ws_connect(url, timeout=timeout) as ws:
            screen = Screen(ws)
            await screen.until(COURSE_MAP, began + timeout)
            result["first_screen_s"] = round(time.monotonic() - began, 3)
            room.arrived()
            await room.simulators.wait()
            pressed = time.monotonic()
            await screen.press(F4)
            await screen.until(PICKER, pressed + timeout)
            await screen.press(ENTER)
            await screen.until(SIMULATOR, pressed + timeout)
            result["simulator_s"] = round(time.monotonic() - pressed, 3)
            room.arrived()
            await screen.drain(room.checking)
            await screen.press(F5)
            await screen.until(EXERCISES, time.monotonic() + timeout)
            await asyncio.sleep(max(0.0, room.checks_start + CHECK_WINDOW_S * place / room.size - time.monotonic()))
            pressed = time.monotonic()
            await screen.press("c")
            await screen.until(CHECKED, pressed + timeout)
            result["check_s"] = round(time.monotonic() - pressed, 3)
            room.arrived()
            await screen.drain(room.done)
    except (TimeoutError, OSError, ConnectionError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:200]
        room.failed(result["first_screen_s"] is None)
    return result


class Room:
    """The classroom's phases: everyone opens the page at once; once all have their first screen (or
    failed), everyone opens the simulator at once; once all are in it, the simulators play a while."""

    def __init__(self, sessions: int) -> None:
        self.opening, self.simulators, self.done = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.checking = asyncio.Event()
        self.checks_start = 0.0  # when the ten seconds of checks begin (time.monotonic)
        self.all_arrived = asyncio.Event()
        self.sessions, self.waiting_for, self.size = sessions, sessions, sessions

    def arrived(self) -> None:
        self.waiting_for -= 1
        if self.waiting_for == 0:
            self.all_arrived.set()

    def failed(self, before_first_screen: bool) -> None:
        self.arrived()
        if before_first_screen:  # it will not arrive at the simulator either
            self.sessions -= 1

    async def phase(self, start: asyncio.Event, timeout: float) -> None:
        """Start a phase and wait (bounded) until every session still in the room has arrived."""
        self.all_arrived.clear()
        self.waiting_for = self.sessions
        if self.waiting_for == 0:
            self.all_arrived.set()
        start.set()
        try:
            await asyncio.wait_for(self.all_arrived.wait(), timeout)
        except TimeoutError:
            pass


# --- the run ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"lambdalab serve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("lambdalab serve never answered")


def tree_memory(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        r, p = memory_kb(pid)
        rss, pss = rss + r, pss + p
    return rss, pss


class Usage:
    """CPU and memory of the server's process tree: the serve process, and what it started since `idle`."""

    def __init__(self, server_pid: int, idle: list[int]) -> None:
        self.server_pid, self.idle = server_pid, idle
        self.cpu = self.read_cpu()
        self.machine = machine_cpu_seconds()
        self.wall = time.monotonic()

    def sessions(self) -> list[int]:
        return [pid for pid in descendants(self.server_pid) if pid not in self.idle]

    def read_cpu(self) -> dict[int, float]:
        """CPU seconds per process below the server, every one's reaped children included (short-lived
        helpers such as the command textual-serve runs per session), the server's own under its pid and
        its reaped children's under -1 (they were session helpers too)."""
        cpu = {pid: cpu_seconds(pid) + cpu_seconds(pid, children=True) for pid in descendants(self.server_pid)}
        cpu[-1] = cpu_seconds(self.server_pid, children=True)
        cpu[self.server_pid] -= cpu[-1]
        return cpu

    def cpu_since(self) -> tuple[float, float, float, float]:
        """Since the last call: (the serve process's CPU seconds, its sessions' and their helpers', the
        cores other processes on the machine kept busy on average, and this benchmark's own CPU seconds: its
        websocket clients, the room's browsers, which in a workshop run on the learners' laptops). A process
        that ended meanwhile and was reaped counts in its parent's; the sessions stay open until the end so
        that none is lost."""
        now, machine, wall = self.read_cpu(), machine_cpu_seconds(), time.monotonic()
        spent = {pid: max(0.0, seconds - self.cpu.get(pid, 0.0)) for pid, seconds in now.items()}
        server, sessions = spent.pop(self.server_pid, 0.0), sum(spent.values())
        browsers = self.own()
        others = max(0.0, machine - self.machine - server - sessions - browsers) / max(wall - self.wall, 1e-9)
        self.cpu, self.machine, self.wall = now, machine, wall
        return server, sessions, others, browsers

    def own(self) -> float:
        """This benchmark's own CPU since the last call (its websocket clients)."""
        total = sum(os.times()[:2])
        spent, self._own = total - getattr(self, "_own", total), total
        return spent


async def classroom(port: int, server_pid: int, sessions: int, timeout: float, hold: float) -> dict:
    url = f"ws://127.0.0.1:{port}/ws/{TOKEN}/learner-{{}}?width={WIDTH}&height={HEIGHT}"
    idle = descendants(server_pid)
    idle_rss, idle_pss = tree_memory(idle)
    usage = Usage(server_pid, idle)
    usage.own()
    room = Room(sessions)
    tasks = [asyncio.create_task(learner(url.format(n), room, timeout, n - 1)) for n in range(1, sessions + 1)]
    await room.phase(room.opening, timeout + 5)  # everyone opens the page at once
    opening_server_cpu, opening_cpu, opening_others, opening_browsers = usage.cpu_since()
    await room.phase(room.simulators, timeout + 5)  # everyone opens the simulator at once
    _server, simulator_cpu, _others, _browsers = usage.cpu_since()
    # Everyone is in the simulator (or failed): the tree's growth is the sessions' memory.
    new = usage.sessions()
    busy_rss, busy_pss = tree_memory(idle + new)
    began = time.monotonic()
    await asyncio.sleep(hold)
    playing_server_cpu, playing_cpu, _others, _browsers = usage.cpu_since()
    wall = max(time.monotonic() - began, 1e-9)
    room.checks_start = time.monotonic() + 3.0  # time for everyone's exercises screen (F5) to arrive first
    await room.phase(room.checking, 3.0 + CHECK_WINDOW_S + timeout + 5)  # the checks, spread over ten seconds
    room.done.set()
    results = await asyncio.gather(*tasks)
    per = 1 / sessions
    return {
        "results": results,
        "processes_per_session": round(len(new) * per, 2),
        "cpu_to_first_screen_per_session_s": round(opening_cpu * per, 3),
        "server_cpu_to_first_screen_per_session_s": round(opening_server_cpu * per, 3),
        "other_processes_cores_busy_during_opening": round(opening_others, 2),
        "browsers_cpu_to_first_screen_per_session_s": round(opening_browsers * per, 3),
        "cpu_to_simulator_per_session_s": round(simulator_cpu * per, 3),
        "idle_server_rss_mb": round(idle_rss / 1024, 1),
        "idle_server_pss_mb": round(idle_pss / 1024, 1),
        "pss_per_session_mb": round((busy_pss - idle_pss) / 1024 * per, 1),
        "rss_per_session_mb": round((busy_rss - idle_rss) / 1024 * per, 1),
        "cpu_per_playing_session_pct": round(100 * (playing_cpu + playing_server_cpu) / wall * per, 1)
        if hold
        else None,
    }


def run(sessions: int, timeout: float, hold: float, preload: bool, server_log: Path | None) -> dict:
    port = free_port()
    marker = uuid.uuid4().hex
    command = [sys.executable, "-m", "lambdalab", "serve", "--host", "127.0.0.1", "--port", str(port), "--token", TOKEN]
    command += ["--max-learners", str(sessions)]
    with (
        tempfile.TemporaryDirectory(prefix="lambdalab-serve-bench-") as home,
        open(Path(home) / "serve.log", "w+") as log,
    ):
        env = dict(os.environ, LAMBDALAB_HOME=home, **{MARKER: marker})
        command += ["--data", str(Path(home) / "room")]
        server = subprocess.Popen(
            command + ([] if preload else ["--no-preload"]), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/?token={TOKEN}", server, timeout=30)
            time.sleep(1.0)  # the server (and anything it starts in advance) settles before the room arrives
            load = Path("/proc/loadavg").read_text().split()[0]
            report = asyncio.run(classroom(port, server.pid, sessions, timeout, hold))
            report["load_average_before"] = float(load)
            stopped = time.monotonic()
            server.send_signal(signal.SIGTERM)  # what Ctrl+C does
            server.wait(timeout=30)
            deadline = time.monotonic() + 5  # sessions finish quitting after the server is gone
            while (left := marked_processes(marker)) and time.monotonic() < deadline:
                time.sleep(0.1)
            report["stop_s"] = round(time.monotonic() - stopped, 2)
            report["left_behind"] = len(left)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            for pid in marked_processes(marker):  # never leave the machine dirty, whatever happened
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            log.seek(0)
            text = log.read()
    if server_log:
        server_log.write_text(text)
    errors = [line for line in text.splitlines() if "Error" in line or "Traceback" in line]
    report["server_log_errors"] = errors[:10]
    return report


def summarize(report: dict, sessions: int, preload: bool) -> dict:
    results = report["results"]
    first = [r["first_screen_s"] for r in results if r["first_screen_s"] is not None]
    sim = [r["simulator_s"] for r in results if r["simulator_s"] is not None]
    checks = [r["check_s"] for r in results if r["check_s"] is not None]
    cores = os.cpu_count() or 1
    mem_available_mb = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemAvailable:")
            )
        )
        / 1024
    )
    pss, cpu = report["pss_per_session_mb"], report["cpu_per_playing_session_pct"]
    return {
        "sessions": sessions,
        "preload": preload,
        "cores": cores,
        "completed": len(checks),
        "errors": [r["error"] for r in results if r["error"]],
        "first_screen_median_s": round(statistics.median(first), 2) if first else None,
        "first_screen_max_s": max(first) if first else None,
        "first_screen_target_s": TARGET_FIRST_SCREEN_S,
        "first_screen_target_met": len(first) == sessions and max(first) < TARGET_FIRST_SCREEN_S,
        "simulator_median_s": round(statistics.median(sim), 2) if sim else None,
        "simulator_max_s": max(sim) if sim else None,
        "check_median_s": round(statistics.median(checks), 2) if checks else None,
        "check_max_s": max(checks) if checks else None,
        "check_target_s": TARGET_CHECK_S,
        "check_target_met": len(checks) == sessions and max(checks) <= TARGET_CHECK_S,
        **{k: v for k, v in report.items() if k != "results"},
        "memory_available_mb": round(mem_available_mb),
        # A fifth of the memory kept for the system; CPU: every simulator playing at once, 80 % of the cores.
        "learners_by_memory": int(0.8 * mem_available_mb / pss) if pss > 0 else None,
        "learners_by_cpu_all_playing": int(100 * cores * 0.8 / cpu) if cpu else None,
        "per_session": results,
    }


def print_table(summary: dict) -> None:
    how = "forked from the preloaded process" if summary["preload"] else "each in a fresh interpreter (--no-preload)"
    print(
        f"lambdalab serve: {summary['sessions']} sessions at once on {summary['cores']} cores, {how}; "
        f"load average before: {summary['load_average_before']}\n"
    )
    print(f"{'session':>7}  {'first screen':>12}  {'simulator':>9}  {'check':>7}")
    for n, r in enumerate(summary["per_session"], 1):
        first, sim, check = (
            f"{r[k]:.2f} s" if r[k] is not None else "-" for k in ("first_screen_s", "simulator_s", "check_s")
        )
        print(f"{n:>7}  {first:>12}  {sim:>9}  {check:>7}  {r['error'] or ''}")
    met = "met" if summary["first_screen_target_met"] else "NOT met"
    print(f"""
time to first screen      median {summary["first_screen_median_s"]} s, max {summary["first_screen_max_s"]} s \
(target: every session under {summary["first_screen_target_s"]:.0f} s: {met})
  CPU per session         {summary["cpu_to_first_screen_per_session_s"]} s, \
and {summary["server_cpu_to_first_screen_per_session_s"]} s in the server
  the browsers            {summary["browsers_cpu_to_first_screen_per_session_s"]} s each (this script's clients, \
on the same cores; in a workshop they are the learners' laptops)
  other processes         kept {summary["other_processes_cores_busy_during_opening"]} of the \
{summary["cores"]} cores busy meanwhile (this machine's other work)
time to the simulator     median {summary["simulator_median_s"]} s, max {summary["simulator_max_s"]} s \
(F4 and Enter, all at once)
  CPU per session         {summary["cpu_to_simulator_per_session_s"]} s
time to a check's result  median {summary["check_median_s"]} s, max {summary["check_max_s"]} s \
(c pressed by all within {CHECK_WINDOW_S:.0f} s; target: every one within {summary["check_target_s"]:.0f} s: \
{"met" if summary["check_target_met"] else "NOT met"})
sessions completed        {summary["completed"]} of {summary["sessions"]}
memory per session        PSS {summary["pss_per_session_mb"]} MB, RSS {summary["rss_per_session_mb"]} MB \
({summary["processes_per_session"]} processes each; the idle server: PSS {summary["idle_server_pss_mb"]} MB)
CPU per session playing   {summary["cpu_per_playing_session_pct"]} % of one core
stopping the server       {summary["stop_s"]} s, {summary["left_behind"]} processes left behind
learners on this machine  {summary["learners_by_memory"]} by memory (80 % of {summary["memory_available_mb"]} MB \
available), {summary["learners_by_cpu_all_playing"]} by CPU with every simulator playing at once""")
    for line in summary["server_log_errors"]:
        print(f"server log: {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sessions", type=int, default=20, help=f"sessions opened at once (1 to {MAX_SESSIONS}, default 20)"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds each session may take for each step")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds every simulator plays while CPU is measured")
    parser.add_argument(
        "--no-preload", action="store_true", help="serve with --no-preload: the way before, for comparison"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout instead of the table")
    parser.add_argument("--server-log", type=Path, metavar="FILE", help="keep what the server printed in FILE")
    args = parser.parse_args()
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MAX_SESSIONS}")
    if not (0 < args.timeout <= 600 and 0 <= args.hold <= 60):
        parser.error("--timeout must be in (0, 600] and --hold in [0, 60]")
    preload = not args.no_preload
    summary = summarize(run(args.sessions, args.timeout, args.hold, preload, args.server_log), args.sessions, preload)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
