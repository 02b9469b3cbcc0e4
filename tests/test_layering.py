"""The rooms' arrows point down: the import directions CONTRIBUTING.md states ("Which way imports go").

Most checks read every module's imports with `ast`, so they see the imports inside functions and under
`if TYPE_CHECKING:` too, which merely importing a module would not run. One imports the Textual-free
modules in a fresh interpreter and looks at `sys.modules`, so it sees what they pull in indirectly.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "lambdalab"

CORE = [
    "lambdalab.engine",
    "lambdalab.engine.report",
    "lambdalab.engine.report_text",
    "lambdalab.inputs",
    "lambdalab.charts",
    "lambdalab.tables",
    "lambdalab.commands.sim",
    # plain mode is the accessible path: it must work without Textual (or rich)
    "lambdalab.course.loader",
    "lambdalab.course.rules",
    "lambdalab.course.quiz",
    "lambdalab.course.progress",
    "lambdalab.course.plain_text",
    "lambdalab.commands.lessons",
    "lambdalab.commands.read",
    "lambdalab.commands.quiz",
    "lambdalab.commands.validate",
    # real handlers: the runtime, the engine's bridge to it, and the invoke command
    "lambdalab.runtime",
    "lambdalab.engine.real_code",
    "lambdalab.commands.invoke",
    "lambdalab.iam",
    "lambdalab.commands.iam",
    # class analytics: an instructor's report, on any machine that can run `lambdalab grade`
    "lambdalab.grading.class_report",
    "lambdalab.grading.class_report_html",
    "lambdalab.grading.class_report_text",
    "lambdalab.commands.classroom",
    # what the simulator draws is worked out without Textual: only the widgets that colour it need it
    "lambdalab.tui.live_run",
    "lambdalab.tui.recorder",
    "lambdalab.tui.views",
    "lambdalab.tui.window",
    "lambdalab.tui.knobs",
]

TEXTUAL = ("textual", "rich", "textual_serve")

# The rooms from the bottom up: a room imports only rooms on its own level or below (besides the package's
# __init__, for __version__). The leaves import nothing of lambdalab at all. Within the engine/runtime
# level, the engine imports the runtime only in deferred imports and the runtime nothing of the engine (the
# limits and error names both use are a leaf of their own).
LEAVES = ("inputs", "schemas", "charts", "tables", "content", "paths", "services", "limits")
STACK = [
    LEAVES,
    ("iam",),
    ("engine", "runtime"),
    ("course",),
    ("grading",),
    ("tui",),
    ("serving",),
    ("commands",),
    ("cli", "__main__"),
]
LEVEL = {room: level for level, rooms in enumerate(STACK) for room in rooms}
# Bare scripts (`python -I worker.py`, `python -I forkserver.py`, `python -I -S relay.py`), a file the worker loads
# by its path, and what learners' handlers import: nothing to import but the standard library.
STANDARD_LIBRARY_ONLY = (
    "runtime/worker.py",
    "runtime/forkserver.py",
    "runtime/linux.py",
    "runtime/durable_client.py",
    "serving/relay.py",
    "services.py",
)


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    name: str  # absolute: `from lambdalab.engine import clock` is lambdalab.engine.clock
    deferred: bool  # inside a function, or under `if TYPE_CHECKING:`: not run when the module is imported

    @property
    def where(self) -> str:
        return f"{self.file.relative_to(REPO)}:{self.line} {self.name}"

    @property
    def top(self) -> str:
        return self.name.split(".")[0]


def room_of(module: str) -> str:
    """`lambdalab.engine.clock` -> engine, `lambdalab.cli` -> cli, `lambdalab.__version__` -> lambdalab."""
    parts = module.split(".")
    if parts[0] != "lambdalab" or len(parts) == 1:
        return parts[0]
    return parts[1] if (PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file() else "lambdalab"


def module_of(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Imports(ast.NodeVisitor):
    def __init__(self, path: Path):
        self.path = path
        self.package = module_of(path) if path.name == "__init__.py" else module_of(path).rpartition(".")[0]
        self.found: list[Import] = []
        self.depth = 0  # functions and TYPE_CHECKING blocks we are inside

    def _deferred(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _deferred

    def visit_If(self, node: ast.If) -> None:
        if ast.unparse(node.test) not in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            return self.generic_visit(node)
        self.depth += 1  # its body runs for type checkers only; an `else:` would run
        for child in node.body:
            self.visit(child)
        self.depth -= 1
        for child in node.orelse:
            self.visit(child)

    def _add(self, line: int, name: str) -> None:
        self.found.append(Import(self.path, line, name, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node.lineno, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            anchor = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            self._add(node.lineno, base if alias.name == "*" else f"{base}.{alias.name}")


def imports(path: Path) -> list[Import]:
    visitor = _Imports(path)
    visitor.visit(ast.parse(path.read_text(), str(path)))
    return visitor.found


def files(room: str) -> list[Path]:
    folder = PACKAGE / room
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{room}.py"]


ALL = sorted(PACKAGE.rglob("*.py"))


def test_core_rooms_do_not_import_textual():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_textual_is_imported_only_by_the_app_and_serve():
    offenders = [
        i.where
        for path in ALL
        if room_of(module_of(path)) not in ("tui", "serving")
        for i in imports(path)
        if i.top in TEXTUAL
    ]
    assert offenders == []


def test_only_the_front_door_and_serve_open_the_app():
    """`lambdalab` alone opens the app (cli.py, inside a function, so every other command stays free of
    Textual) and `lambdalab serve` runs it per browser; nothing else imports lambdalab.tui."""
    opening = [
        (room_of(module_of(i.file)), i)
        for path in ALL
        for i in imports(path)
        if room_of(i.name) == "tui" and room_of(module_of(path)) != "tui"
    ]
    assert [i.where for room, i in opening if room not in ("cli", "serving")] == []
    assert [i.where for room, i in opening if room == "cli" and not i.deferred] == []


def test_every_room_has_its_place_in_the_stack():
    rooms = {room_of(module_of(path)) for path in ALL} - {"lambdalab"}
    assert sorted(rooms - set(LEVEL)) == [], "add the new room to STACK here and to CONTRIBUTING.md's map"


def test_every_room_imports_only_rooms_below_it():
    offenders = []
    for path in ALL:
        room = room_of(module_of(path))
        for i in imports(path):
            target = room_of(i.name)
            if i.top != "lambdalab" or target in (room, "lambdalab"):
                continue
            if room in LEAVES or LEVEL.get(target, 0) > LEVEL.get(room, len(STACK)):
                offenders.append(f"{i.where} ({room} is {'a leaf' if room in LEAVES else 'below ' + target})")
    assert offenders == []


def test_the_engine_starts_the_runtime_only_for_real_code():
    """The engine imports the runtime inside the functions that start real code (and for annotations), so
    a scenario without `code:` never loads it."""
    offenders = [
        i.where for path in files("engine") for i in imports(path) if room_of(i.name) == "runtime" and not i.deferred
    ]
    assert offenders == []


def test_the_engines_modules_import_each_other_in_one_direction():
    """No circle among the engine's modules, counting imports for type checkers and deferred ones too: a module
    can be read (and changed) knowing only those below it. The package's __init__ only re-exports."""
    modules = {module_of(path): path for path in files("engine") if path.name != "__init__.py"}

    def target(name: str) -> str | None:  # `from lambdalab.engine.x import y`: the module x (or the module y)
        return name if name in modules else name.rpartition(".")[0] if name.rpartition(".")[0] in modules else None

    below = {m: {t for i in imports(path) if (t := target(i.name)) and t != m} for m, path in modules.items()}
    done: set[str] = set()

    def circle_through(module: str, trail: list[str]) -> list[str]:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module in done:
            return []
        for imported in sorted(below[module]):
            if found := circle_through(imported, [*trail, module]):
                return found
        done.add(module)
        return []

    circles = [found for module in sorted(modules) if (found := circle_through(module, []))]
    assert circles == [], " -> ".join(circles[0])


def test_the_runtime_takes_nothing_from_the_engine():
    offenders = [i.where for path in files("runtime") for i in imports(path) if room_of(i.name) == "engine"]
    assert offenders == []


def test_scripts_beside_learner_code_import_only_the_standard_library():
    offenders = [
        i.where
        for name in STANDARD_LIBRARY_ONLY
        for i in imports(PACKAGE / name)
        if i.top not in sys.stdlib_module_names
    ]
    assert offenders == []


def test_engine_never_reads_the_wall_clock():
    clock_calls = re.compile(
        r"\b(time\.(time|monotonic|perf_counter|sleep)|datetime\.(now|utcnow|today)|date\.today)\b"
    )
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in (REPO / "lambdalab" / "engine").glob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if clock_calls.search(line)
    ]
    assert offenders == []


def test_engine_draws_only_from_the_scenarios_seeded_generator():
    """Every draw comes from the event loop's one random.Random(seed): no module-level random functions, no
    other source of chance, and no hash() (a string's hash changes from one process to the next). Ids that
    look random are derived from the seed (ids.py) or from a digest (uuid.UUID(bytes=...))."""
    chance = ("os.urandom", "uuid.uuid1", "uuid.uuid4", "random.SystemRandom")
    offenders = []
    for path in files("engine"):
        names = [(i.line, i.name) for i in imports(path)]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                names.append((node.lineno, f"{node.value.id}.{node.attr}"))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hash":
                names.append((node.lineno, "hash()"))
        offenders += [
            f"{path.relative_to(REPO)}:{line} {name}"
            for line, name in names
            if name in chance
            or name == "hash()"
            or name.split(".")[0] == "secrets"
            or (name.startswith("random.") and name != "random.Random")
        ]
    assert offenders == []
