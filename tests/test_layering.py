"""The rooms' arrows point down: the engine and its inputs never import Textual, and never read the wall clock."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

CORE = ["lambdalab.engine", "lambdalab.engine.report", "lambdalab.engine.report_text", "lambdalab.inputs",
        "lambdalab.charts", "lambdalab.tables", "lambdalab.commands.sim",
        # plain mode is the accessible path: it must work without Textual (or rich)
        "lambdalab.course.loader", "lambdalab.course.rules", "lambdalab.course.quiz", "lambdalab.course.progress",
        "lambdalab.course.plain_text", "lambdalab.commands.lessons", "lambdalab.commands.read",
        "lambdalab.commands.quiz", "lambdalab.commands.validate",
        # real handlers: the runtime, the engine's bridge to it, and the invoke command
        "lambdalab.runtime", "lambdalab.engine.real_code", "lambdalab.commands.invoke",
        "lambdalab.iam", "lambdalab.commands.iam",
        # class analytics: an instructor's report, on any machine that can run `lambdalab grade`
        "lambdalab.grading.class_report", "lambdalab.grading.class_report_html", "lambdalab.grading.class_report_text",
        "lambdalab.commands.classroom"]


def test_core_rooms_do_not_import_textual():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_engine_never_reads_the_wall_clock():
    clock_calls = re.compile(r"\b(time\.(time|monotonic|perf_counter|sleep)|datetime\.(now|utcnow|today)|date\.today)\b")
    offenders = [f"{path.relative_to(REPO)}:{n}" for path in (REPO / "lambdalab" / "engine").glob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if clock_calls.search(line)]
    assert offenders == []
