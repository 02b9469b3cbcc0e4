"""Handler and edge checks: the learner's handler, in the runtime's worker processes (never here), on the
check's events, in order, in one execution environment unless an event asks for a fresh one. What it
returned, raised, logged, left in /tmp and put in simulated tables becomes an `Observed`."""

from __future__ import annotations

import copy
import dataclasses
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lambdalab import content
from lambdalab.engine.edge import association_problems
from lambdalab.engine.edge import outcome as edge_outcome
from lambdalab.engine.ids import request_id
from lambdalab.engine.units import parse_duration
from lambdalab.grading.assertions import Observed, lookup
from lambdalab.inputs import InputErrors, load_yaml
from lambdalab.paths import environments_dir
from lambdalab.runtime import CodeTooLarge, ConfinementFailed, ExecutionEnvironment, FunctionCode, Invocation
from lambdalab.services import writes

TMP_FILE_LIMIT = 64 * 1024  # bytes of each /tmp file a check reads
# Init errors that mean the code never loaded: the check could not run (an error, in every export), as
# opposed to code that loads and then fails, which is the check's to judge.
DOES_NOT_LOAD = ("Runtime.UserCodeSyntaxError", "Runtime.ImportModuleError", "Runtime.HandlerNotFound")


class CheckCannotRun(Exception):
    """The learner's setup is unusable (a config file that is not YAML, code over the size limit): the
    check is an error, not a failure, and the message says what to fix."""


def observe(
    setup: dict[str, Any], folder: Path, seed: int, trigger: str | None = None
) -> tuple[Observed, list[Invocation]]:
    """Run the handler on the setup's events; `trigger` makes it a Lambda@Edge function on that trigger."""
    code = _function(setup, folder, trigger)
    events = list(_events(setup, trigger))
    # Not under /tmp: each environment sees its own private /tmp, and the tables are shared by all of them.
    environments_dir().mkdir(parents=True, exist_ok=True)
    services = tempfile.TemporaryDirectory(prefix="services-", dir=environments_dir())
    code = dataclasses.replace(code, environment={**code.environment, "LAMBDALAB_SERVICES": services.name})
    invocations: list[Invocation] = []
    tmp_files: dict[str, str] = {}
    environment: ExecutionEnvironment | None = None
    try:
        for number, (event, fresh) in enumerate(events, start=1):
            if environment is None or fresh:
                if environment is not None:
                    tmp_files.update(_tmp_files(environment))
                    environment.shutdown()
                environment = ExecutionEnvironment(code, number)
            invocations.append(environment.invoke(event, request_id(seed, number)))
        if environment is not None:  # None only with no events, which the exercise schema refuses
            tmp_files.update(_tmp_files(environment))
    except (CodeTooLarge, ConfinementFailed) as exc:
        raise CheckCannotRun(str(exc)) from None
    finally:
        if environment is not None:
            environment.shutdown()
        tables = {p.stem: writes(p) for p in Path(services.name).glob("*.jsonl")}
        services.cleanup()
    first_error = invocations[0].error if invocations else None
    if first_error and first_error.get("errorType") in DOES_NOT_LOAD:
        raise CheckCannotRun(
            f"the code does not load: {first_error['errorType']}: {first_error.get('errorMessage', '')}"
        )
    verdicts: list[dict[str, Any] | None] = [None] * len(invocations)
    if trigger:
        verdicts = []
        for (event, _), invocation in zip(events, invocations):
            verdict = edge_outcome(trigger, event, invocation.response, invocation.error, invocation.timed_out)
            verdicts.append({"status": verdict.status, "problems": list(verdict.problems), "summary": verdict.summary})
    seen = Observed(
        [i.response if i.error is None else None for i in invocations],
        [i.error for i in invocations],
        [i.log for i in invocations],
        tmp_files,
        tables,
        verdicts,
    )
    return seen, invocations


def _function(setup: dict[str, Any], folder: Path, trigger: str | None) -> FunctionCode:
    timeout = parse_duration(setup.get("timeout", "5s" if trigger in ("origin-request", "origin-response") else "3s"))
    memory = int(setup.get("memory", 128))
    environment = dict(setup.get("environment", {}))
    if "environment_from" in setup:
        environment.update(_learner_environment(folder / setup["environment_from"]))
    if trigger:
        problems = association_problems(trigger, memory, timeout, environment)
        if problems:
            raise CheckCannotRun(f"CloudFront would refuse this function on {trigger}: " + "; ".join(problems))
    module = setup["handler"].rpartition(".")[0].replace(".", "/")
    if not (folder / f"{module}.py").is_file():
        raise CheckCannotRun(f"{folder.name}/{module}.py is missing: the handler {setup['handler']} lives there")
    return FunctionCode(
        name=folder.name.split("-", 1)[-1],
        code_dir=folder.resolve(),
        handler=setup["handler"],
        memory_mb=memory,
        timeout_s=timeout,
        environment=environment,
    )


def _learner_environment(path: Path) -> dict[str, str]:
    """The `environment:` mapping of a learner's function configuration file."""
    if not path.is_file():
        raise CheckCannotRun(f"{path.parent.name}/{path.name} is missing")
    try:
        doc = load_yaml(path)
    except InputErrors as exc:
        raise CheckCannotRun(str(exc)) from None
    values = doc.data.get("environment") if isinstance(doc.data, dict) else None
    if not isinstance(values, dict):
        raise CheckCannotRun(f"{path.name}: expected an `environment:` mapping of NAME: value")
    bad = [k for k, v in values.items() if isinstance(v, bool) or not isinstance(v, (str, int, float))]
    if bad:
        line = doc.position(("environment", bad[0]))[0]
        raise CheckCannotRun(
            f"{path.name}:{line}: environment.{bad[0]}: environment variables are text; quote the value"
        )
    return {str(k): str(v) for k, v in values.items()}


def _events(setup: dict[str, Any], trigger: str | None) -> Iterator[tuple[Any, bool]]:
    """(event, fresh) for each invocation, in order."""
    for item in setup["events"]:
        event = _event(item, trigger)
        for repeat in range(item.get("repeat", 1)):
            yield copy.deepcopy(event), bool(item.get("fresh")) and repeat == 0


def _event(item: dict[str, Any], trigger: str | None) -> Any:
    if "event" in item:
        event = copy.deepcopy(item["event"])
    else:
        name = item.get("sample") or (f"cloudfront-{trigger}" if trigger else None)
        if name is None:
            return {}
        samples = content.sample_events()
        if name not in samples:
            raise CheckCannotRun(f"no sample event {name!r} (see lambdalab invoke --list-events)")
        event = json.loads(samples[name].read_text("utf-8"))
    for path, value in item.get("set", {}).items():
        _set(event, path, value)
    return event


def _set(event: Any, path: str, value: Any) -> None:
    """Change one value of a sample event; the path's parent must exist."""
    parent_path, _, last = path.rpartition(".")
    parent = lookup(event, parent_path or "$")
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and last.strip("[]").isdigit():
        parent[int(last.strip("[]"))] = value


def _tmp_files(environment: ExecutionEnvironment) -> dict[str, str]:
    tmp = environment.folder / "tmp" if environment.folder else None
    if tmp is None or not tmp.is_dir():
        return {}
    found = {}
    for path in sorted(tmp.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                found[str(path.relative_to(tmp))] = handle.read(TMP_FILE_LIMIT).decode("utf-8", errors="replace")
    return found
