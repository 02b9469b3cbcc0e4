"""Scenario YAML -> validated Scenario model, or every problem with file:line:column and key path.

Three passes: the JSON Schema (shape and spelling), then features that are
written in the contract but not simulated yet, then Lambda's limits and the
references between parts (a DLQ that names a queue, a target that names a
function). All problems are collected so that an author fixes them in one go.

The third pass is the parts in `engine/builder/`, one per concern; this module runs them in the order
their references need (what a part names is built before it) and keeps the package's entry points.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from lambdalab.engine.builder.context import Context, KeyPath, duration, json_path
from lambdalab.engine.builder.edge import edge_associations
from lambdalab.engine.builder.expectations import check_window_expectations, expectation
from lambdalab.engine.builder.functions import account, check_account_concurrency, deployment, function
from lambdalab.engine.builder.managed_instances import capacity_provider
from lambdalab.engine.builder.mappings import mapping
from lambdalab.engine.builder.sources import bus, check_fifo_name, check_queue_redrive, queue, stream, topic
from lambdalab.engine.builder.traffic import check_traffic_volume, requests_sent, traffic
from lambdalab.engine.model import Scenario
from lambdalab.inputs import Document, InputError, InputErrors, load_yaml
from lambdalab.inputs.sam import is_template, translate
from lambdalab.inputs.schema_check import check, load_schema

# json_path and requests_sent live in the builder; grading and the tests import them from here.
__all__ = ["build_scenario", "json_path", "load_scenario", "parse_scenario", "requests_sent"]


def load_scenario(path: str | Path) -> Scenario:
    """Read, check and build a scenario file; InputErrors lists every problem."""
    return build_scenario(load_yaml(path))


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    """The same as load_scenario, for text already in memory (the TUI's editor, tests)."""
    return build_scenario(load_yaml(name, text=text, name=name))


def build_scenario(doc: Document) -> Scenario:
    """A scenario from YAML already read (with positions), checked; InputErrors lists every problem. An AWS SAM
    template is the scenario it describes (lambdalab/inputs/sam.py), its problems named by the template's keys."""
    if is_template(doc.data):
        translation = translate(doc)
        try:
            return build_scenario(translation.doc)
        except InputErrors as exc:
            renamed = {translation.rename(e): None for e in exc.errors}  # a version's copy of $LATEST's error: once
            raise InputErrors(list(renamed)) from None
    if not isinstance(doc.data, dict):
        raise InputErrors([doc.error((), "a scenario is a mapping of keys (name, duration, functions, traffic, ...)")])
    errors = check(doc, "scenario")
    errors += _planned_features(doc)
    if errors:
        raise InputErrors(errors)
    ctx = Context(doc)
    scenario = _scenario(ctx)
    if ctx.errors:
        raise InputErrors(ctx.errors)
    return scenario


def _planned_features(doc: Document) -> list[InputError]:
    """Keys the contract defines but this engine does not simulate yet: say which feature they wait for."""
    schema = load_schema("scenario")
    defs = schema["$defs"]
    where: list[tuple[KeyPath, Any, Any]] = [((), schema["properties"], doc.data)]  # (key path, properties, data)
    functions, traffic = doc.data.get("functions"), doc.data.get("traffic")
    for name, fn in functions.items() if isinstance(functions, dict) else ():
        where.append((("functions", name), defs["function"]["properties"], fn))
    for i, item in enumerate(traffic if isinstance(traffic, list) else ()):
        where.append((("traffic", i), defs["traffic"]["properties"], item))
    mappings = doc.data.get("event_source_mappings")
    for i, item in enumerate(mappings if isinstance(mappings, list) else ()):
        where.append((("event_source_mappings", i), defs["event_source_mapping"]["properties"], item))
    errors = []
    for path, properties, data in where:
        for key in data if isinstance(data, dict) else ():
            planned = properties.get(key, {}).get("x-planned")
            if planned:
                error = doc.error(
                    (*path, key), f"{planned} are not simulated yet; this scenario waits for that feature"
                )
                errors.append(replace(error, waits_for=planned))
    return errors


def _scenario(ctx: Context) -> Scenario:
    """Every part, built in the order their references need; problems go to ctx.errors."""
    data: dict[str, Any] = ctx.doc.data
    account_model = account(ctx, data.get("account") or {})
    queues = {name: queue(ctx, name, q or {}) for name, q in (data.get("queues") or {}).items()}
    ctx.targets = {"queue": queues, "function": data["functions"]}  # what topics and buses may deliver to
    topics = {name: topic(ctx, name, t or {}) for name, t in (data.get("topics") or {}).items()}
    for kind, things in (("queues", queues), ("topics", topics)):
        for name, thing in things.items():
            check_fifo_name(ctx, (kind, name), name, thing.fifo)
    buses = {name: bus(ctx, name, b or {}) for name, b in (data.get("buses") or {}).items()}
    streams = {name: stream(ctx, name, st) for name, st in (data.get("streams") or {}).items()}
    ctx.targets.update(topic=topics, bus=buses, stream=streams)
    declared = data.get("capacity_providers") or {}
    providers = {name: capacity_provider(ctx, name, provider or {}) for name, provider in declared.items()}
    ctx.targets["capacity_provider"] = providers
    functions = {
        name: function(ctx, name, fn or {}, account_model, providers) for name, fn in data["functions"].items()
    }
    check_account_concurrency(ctx, functions, account_model)
    for q in queues.values():
        check_queue_redrive(ctx, q, queues)
    run_time = duration(ctx, ("duration",), data["duration"])
    if run_time <= 0:
        ctx.fail(("duration",), "the run needs a duration above zero, such as 60s")
    edge = edge_associations(ctx, data.get("edge") or [], functions, account_model)
    ctx.targets["edge"] = edge
    sent = tuple(traffic(ctx, i, t, functions) for i, t in enumerate(data.get("traffic") or []))
    check_traffic_volume(ctx, sent, run_time)
    expect = tuple(expectation(ctx, i, e, functions) for i, e in enumerate(data.get("expect") or []))
    mappings = tuple(
        mapping(ctx, i, m, functions, account_model) for i, m in enumerate(data.get("event_source_mappings") or [])
    )
    check_window_expectations(ctx, expect, mappings)
    deployments = tuple(deployment(ctx, i, d, functions) for i, d in enumerate(data.get("deployments") or []))
    return Scenario(
        name=data.get("name") or Path(ctx.doc.name).stem,
        description=data.get("description", "").strip(),
        seed=data.get("seed", 0),
        duration=run_time,
        account=account_model,
        functions=functions,
        queues=queues,
        topics=topics,
        buses=buses,
        streams=streams,
        traffic=sent,
        expect=expect,
        source=ctx.doc.name,
        event_source_mappings=mappings,
        deployments=deployments,
        edge=edge,
        capacity_providers=providers,
    )
