"""AWS SAM templates as scenarios: a `template.yaml` with `Transform: AWS::Serverless-2016-10-31` becomes the
scenario it describes, so `sim`, `validate` and scenario checks take it as they take a scenario file.

The subset (lambdalab/schemas/sam.schema.json; exercises/README.md, "SAM templates as scenarios", for authors):
`AWS::Serverless::Function`, `AWS::SQS::Queue`, `AWS::CloudWatch::Alarm` (a deployment's rollback alarm),
`AWS::Serverless::Api` and `HttpApi` (read, nothing to simulate), `Globals.Function`, `Parameters` with a
`Default`, and the intrinsics `!Ref`, `!GetAtt` and `!Sub`. Everything else is refused with its file, line and key,
never ignored in silence. SAM says nothing about what code does, so a function's model is its
`Metadata: {lambdalab: {behaviour: ...}}`, or `CodeUri` + `Handler` name real Python code; what a template cannot say
at all (how long to run, the traffic, expectations) goes in the template's own `Metadata: {lambdalab: ...}`.

The result is a Document whose positions are the template's, so the engine's later checks (limits, references)
still point at template lines; `Translation.rename` turns their scenario key paths back into template ones.

Sources: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html,
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-sqs.html,
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-deploymentpreference.html,
https://docs.aws.amazon.com/lambda/latest/dg/automating-updates-to-serverless-apps.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lambdalab.inputs.errors import InputError, InputErrors, did_you_mean
from lambdalab.inputs.schema_check import check
from lambdalab.inputs.yaml_source import Document, Path_, dotted

TRANSFORM = "AWS::Serverless-2016-10-31"
FUNCTION, QUEUE, ALARM = "AWS::Serverless::Function", "AWS::SQS::Queue", "AWS::CloudWatch::Alarm"
INTRINSICS = ("Ref", "Fn::GetAtt", "Fn::Sub")
SUBSET = "lambdalab's SAM subset"
# The template's Metadata.lambdalab keys copied into the scenario as they are; a run needs a length.
SCENARIO_KEYS = ("name", "description", "seed", "duration", "account", "traffic", "expect")
DEFAULT_DURATION = "1m"


def is_template(data: Any) -> bool:
    """Whether parsed YAML is a (SAM or CloudFormation) template rather than a scenario."""
    return isinstance(data, dict) and any(k in data for k in ("Transform", "Resources", "AWSTemplateFormatVersion"))


@dataclass(frozen=True)
class Translation:
    """The scenario a template describes, and how to name its key paths in template terms."""

    doc: Document  # the scenario; its positions are the template's lines
    paths: dict[str, str]  # dotted scenario path -> dotted template path

    def rename(self, error: InputError) -> InputError:
        """An error the engine found in the scenario, named by the template's key path."""
        best = max(
            (k for k in self.paths if error.path == k or error.path.startswith((f"{k}.", f"{k}["))),
            key=len,
            default=None,
        )
        if best is None:
            return error
        return replace(error, path=self.paths[best] + error.path[len(best) :])


def as_scenario(doc: Document) -> Document:
    """`doc` itself when it is a scenario, else the scenario its template describes (InputErrors if it cannot)."""
    return translate(doc).doc if is_template(doc.data) else doc


def translate(doc: Document) -> Translation:
    """The scenario a SAM template describes; InputErrors names every problem by the template's file:line and key."""
    errors = _unsupported_intrinsics(doc, doc.data, ())
    refused = {e.path for e in errors}
    for error in map(_subset_word, check(doc, "sam")):
        inside = any(error.path == p or error.path.startswith((f"{p}.", f"{p}[")) for p in refused)
        around = error.path and SUBSET not in error.message and any(_under(p, error.path) for p in refused)
        if not (inside or around):  # else the intrinsic outside the subset already explains it
            errors.append(error)
    if errors:
        raise InputErrors(errors)
    translator = _Translator(doc)
    translator.run()
    if translator.errors:
        raise InputErrors(translator.errors)
    scenario = Document(doc.name, translator.data, translator.positions)
    return Translation(scenario, translator.paths)


def _unsupported_intrinsics(doc: Document, value: Any, path: Path_) -> list[InputError]:
    """Intrinsic functions and conditions lambdalab does not evaluate (Fn::If, Fn::Join, ...), wherever they are."""
    found: list[InputError] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str) and (key.startswith("Fn::") or key == "Condition") and key not in INTRINSICS:
                short = "!" + key.removeprefix("Fn::")
                found.append(
                    doc.error(
                        (*path, key),
                        f"{key} ({short}) is not in {SUBSET}: it evaluates !Ref, !GetAtt and !Sub; write the value out",
                    )
                )
            else:
                found += _unsupported_intrinsics(doc, child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _unsupported_intrinsics(doc, child, (*path, i))
    return found


def _under(path: str, ancestor: str) -> bool:
    return path.startswith((f"{ancestor}.", f"{ancestor}["))


def _subset_word(error: InputError) -> InputError:
    """A key the schema does not know is a SAM feature lambdalab does not run (or a typo): say which."""
    found = re.fullmatch(r"unknown key ('.*?')(.*)", error.message)
    if found:
        return replace(error, message=f"{found.group(1)} is not in {SUBSET}{found.group(2)}")
    return error


class _Translator:
    """One template's scenario, built key by key with each key's place in the template."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.template: dict[str, Any] = doc.data
        self.resources: dict[str, Any] = self.template["Resources"]
        self.parameters: dict[str, Any] = self.template.get("Parameters") or {}
        self.globals: dict[str, Any] = (self.template.get("Globals") or {}).get("Function") or {}
        self.meta: dict[str, Any] = (self.template.get("Metadata") or {}).get("lambdalab") or {}
        account: dict[str, Any] = self.meta["account"] if isinstance(self.meta.get("account"), dict) else {}
        self.region = str(account.get("region", "us-east-1"))
        self.account_id = str(account.get("account_id", "123456789012"))
        self.errors: list[InputError] = []
        self.data: dict[str, Any] = {}
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.paths: dict[str, str] = {}

    # -- bookkeeping --------------------------------------------------------------------------------------------

    def fail(self, where: Path_, message: str) -> None:
        self.errors.append(self.doc.error(where, message))

    def at(self, spath: Path_, tpath: Path_, whole: bool = False) -> None:
        """The scenario's `spath` comes from the template's `tpath` (with all it holds, when `whole`)."""
        self.positions[spath] = self.doc.position(tpath)
        self.paths[dotted(spath)] = dotted(tpath)
        if whole:
            n = len(tpath)
            for p, position in self.doc.positions.items():
                if p[:n] == tpath:
                    self.positions[spath + tuple(p[n:])] = position

    def typed(self, name: str, wanted: str) -> bool:
        resource = self.resources.get(name)
        return isinstance(resource, dict) and resource.get("Type") == wanted

    # -- intrinsics ---------------------------------------------------------------------------------------------

    def value(self, value: Any, where: Path_) -> Any:
        """A property's value with !Ref, !GetAtt and !Sub worked out (None after a failure)."""
        if not isinstance(value, dict) or len(value) != 1:
            return value
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(arg, (*where, "Ref"))
        if key == "Fn::GetAtt":
            return self.attribute(arg, (*where, key))
        if key == "Fn::Sub":
            return self.sub(arg, (*where, key))
        return value

    def ref(self, name: str, where: Path_) -> Any:
        """What !Ref gives: a parameter's Default, a pseudo parameter, or a resource's name (a queue's URL)."""
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": Path(self.doc.name).stem,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            parameter = self.parameters[name] or {}
            if "Default" not in parameter:
                self.fail(where, f"parameter {name} has no Default; lambdalab takes no parameter overrides: add one")
                return None
            default = parameter["Default"]
            if parameter.get("Type") == "Number" and isinstance(default, str):
                try:
                    return int(default) if re.fullmatch(r"-?\d+", default.strip()) else float(default)
                except ValueError:
                    self.fail(("Parameters", name, "Default"), f"{default!r} is not a number")
                    return None
            return default
        if name in self.resources:
            # A queue's Ref is its URL (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html)
            if self.typed(name, QUEUE):
                return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{name}"
            return name
        known = [*self.parameters, *self.resources]
        self.fail(where, f"no parameter or resource named {name!r}{did_you_mean(name, known)}")
        return None

    def attribute(self, arg: Any, where: Path_) -> Any:
        """What !GetAtt gives as text: an ARN (lambdalab's subset has no other attribute)."""
        name, attr = arg.split(".", 1) if isinstance(arg, str) else (arg[0], arg[1])
        if name not in self.resources:
            self.fail(where, f"no resource named {name!r}{did_you_mean(name, list(self.resources))}")
            return None
        if attr != "Arn" or not (self.typed(name, QUEUE) or self.typed(name, FUNCTION)):
            self.fail(where, f"{name}.{attr}: {SUBSET} has the Arn of queues and functions only")
            return None
        service = "sqs" if self.typed(name, QUEUE) else "lambda"
        middle = "" if service == "sqs" else "function:"
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{middle}{name}"

    def sub(self, text: str, where: Path_) -> str | None:
        """!Sub with ${Name} and ${Name.Attr} (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html)."""
        failed = False

        def one(match: re.Match[str]) -> str:
            nonlocal failed
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is the text ${Literal}
            got = self.attribute(name, where) if "." in name else self.ref(name, where)
            failed = failed or got is None
            return str(got)

        result = re.sub(r"\$\{([^}]+)\}", one, text)
        return None if failed else result

    def queue_named(self, value: Any, where: Path_, what: str) -> str | None:
        """The logical id of the template's queue that `value` (!GetAtt Q.Arn) names."""
        if isinstance(value, dict) and "Ref" in value and self.typed(str(value["Ref"]), QUEUE):
            name = value["Ref"]
            self.fail(where, f"!Ref {name} gives the queue's URL; {what} takes its ARN: !GetAtt {name}.Arn")
            return None
        arg = value.get("Fn::GetAtt") if isinstance(value, dict) else None
        if arg is None:
            self.fail(where, f"{what} takes the ARN of a queue of this template: !GetAtt QUEUE.Arn")
            return None
        name, attr = arg.split(".", 1) if isinstance(arg, str) else (arg[0], arg[1])
        queues = [n for n in self.resources if self.typed(n, QUEUE)]
        if not self.typed(name, QUEUE):
            self.fail((*where, "Fn::GetAtt"), f"no AWS::SQS::Queue named {name!r}{did_you_mean(name, queues)}")
            return None
        if attr != "Arn":
            self.fail((*where, "Fn::GetAtt"), f"{what} takes the queue's ARN: !GetAtt {name}.Arn")
            return None
        return name

    def number(self, value: Any, where: Path_) -> Any:
        got = self.value(value, where)
        if got is not None and (isinstance(got, bool) or not isinstance(got, (int, float))):
            self.fail(where, f"{got!r} is not a number")
            return None
        return got

    # -- the scenario -------------------------------------------------------------------------------------------

    def run(self) -> None:
        meta_path = ("Metadata", "lambdalab")
        for key in SCENARIO_KEYS:
            if key in self.meta:
                self.data[key] = self.meta[key]
                self.at((key,), (*meta_path, key), whole=True)
        if "description" not in self.data and isinstance(self.template.get("Description"), str):
            self.data["description"] = self.template["Description"]
            self.at(("description",), ("Description",))
        self.data.setdefault("duration", DEFAULT_DURATION)
        self.data["functions"], self.data["queues"] = {}, {}
        self.data["event_source_mappings"], self.data["deployments"] = [], []
        self.at(("functions",), ("Resources",))
        self.at(("queues",), ("Resources",))
        for name, resource in self.resources.items():
            if resource.get("Type") == QUEUE:
                self.queue(name, resource.get("Properties") or {})
        for name, resource in self.resources.items():
            if resource.get("Type") == FUNCTION:
                self.function(name, resource)
        for key in ("queues", "event_source_mappings", "deployments"):
            if not self.data[key]:
                del self.data[key]
        order = ("name", "description", "seed", "duration", "account", "functions", "queues")
        self.data = {k: self.data[k] for k in (*order, *self.data) if k in self.data}

    def queue(self, name: str, props: dict[str, Any]) -> None:
        base = ("Resources", name, "Properties")
        out: dict[str, Any] = {}
        self.data["queues"][name] = out
        self.at(("queues", name), ("Resources", name))
        if "VisibilityTimeout" in props:
            seconds = self.number(props["VisibilityTimeout"], (*base, "VisibilityTimeout"))
            out["visibility_timeout"] = f"{seconds}s"
            self.at(("queues", name, "visibility_timeout"), (*base, "VisibilityTimeout"))
        redrive = props.get("RedrivePolicy")
        if redrive:
            where = (*base, "RedrivePolicy")
            target = "deadLetterTargetArn"
            dlq = self.queue_named(redrive[target], (*where, target), target)
            if dlq is not None:
                out["dead_letter"] = dlq
                self.at(("queues", name, "dead_letter"), (*where, "deadLetterTargetArn"))
            out["max_receive_count"] = self.number(redrive["maxReceiveCount"], (*where, "maxReceiveCount"))
            self.at(("queues", name, "max_receive_count"), (*where, "maxReceiveCount"))

    def function(self, name: str, resource: dict[str, Any]) -> None:
        base = ("Resources", name, "Properties")
        own = resource.get("Properties") or {}
        props = _with_globals(self.globals, own)
        meta = (resource.get("Metadata") or {}).get("lambdalab") or {}
        meta_path = ("Resources", name, "Metadata", "lambdalab")
        spath = ("functions", name)

        def where(*keys: Any) -> Path_:  # the template's place of a (merged) property: the function's, else Globals'
            node: Any = own
            for key in keys:
                if not isinstance(node, dict) or key not in node:
                    return ("Globals", "Function", *keys)
                node = node[key]
            return (*base, *keys)

        out: dict[str, Any] = {}
        self.data["functions"][name] = out
        self.at(spath, ("Resources", name))

        def put(key: str, value: Any, *source: Any) -> None:
            out[key] = value
            self.at((*spath, key), where(*source))

        if "Description" in props:
            put("description", props["Description"], "Description")
        if "Runtime" in props:
            put("runtime", self.value(props["Runtime"], where("Runtime")), "Runtime")
        if "Architectures" in props:
            put("architecture", props["Architectures"][0], "Architectures")
        if "MemorySize" in props:
            put("memory", self.number(props["MemorySize"], where("MemorySize")), "MemorySize")
        if "Timeout" in props:
            put("timeout", f"{self.number(props['Timeout'], where('Timeout'))}s", "Timeout")
        if "EphemeralStorage" in props:
            size = self.number(props["EphemeralStorage"]["Size"], where("EphemeralStorage", "Size"))
            put("ephemeral_storage", size, "EphemeralStorage", "Size")
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if variables:
            put("environment", {}, "Environment", "Variables")
            for key, value in variables.items():
                source = where("Environment", "Variables", key)
                out["environment"][key] = self.value(value, source)
                self.at((*spath, "environment", key), source)
        if "ReservedConcurrentExecutions" in props:
            reserved = self.number(props["ReservedConcurrentExecutions"], where("ReservedConcurrentExecutions"))
            put("reserved_concurrency", reserved, "ReservedConcurrentExecutions")
        if "behaviour" in meta:
            out["behaviour"] = meta["behaviour"]
            self.at((*spath, "behaviour"), (*meta_path, "behaviour"), whole=True)
        elif "CodeUri" in props:
            put("code", props["CodeUri"], "CodeUri")
            if "Handler" not in props:
                self.fail(base, "a function with CodeUri needs its Handler (module.function, such as app.handler)")
            else:
                put("handler", self.value(props["Handler"], where("Handler")), "Handler")
        else:
            self.fail(
                ("Resources", name),
                "SAM says nothing about what the code does: give the function Metadata: {lambdalab: {behaviour: "
                "...}} (a model of its code), or CodeUri (a folder of Python code) and Handler",
            )
        self.alias(name, props, meta, out, where)
        for event, spec in (props.get("Events") or {}).items():
            if spec.get("Type") == "SQS":
                shifting = bool(meta.get("previous"))
                self.sqs_event(name, spec.get("Properties") or {}, where("Events", event), shifting)

    def alias(self, name: str, props: dict[str, Any], meta: dict[str, Any], out: dict[str, Any], where: Any) -> None:
        """AutoPublishAlias, DeploymentPreference and ProvisionedConcurrencyConfig: versions, an alias, a shift."""
        meta_path = ("Resources", name, "Metadata", "lambdalab")
        spath = ("functions", name)
        alias = props.get("AutoPublishAlias")
        preference = props.get("DeploymentPreference")
        provisioned = props.get("ProvisionedConcurrencyConfig")
        previous = meta.get("previous")
        if alias is None:
            # https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-deploymentpreference.html
            for key, value in (("DeploymentPreference", preference), ("ProvisionedConcurrencyConfig", provisioned)):
                if value is not None:
                    self.fail(where(key), f"{key} needs AutoPublishAlias: SAM sets it on the alias it publishes")
            for key in ("previous", "deploy_at"):
                if key in meta:
                    self.fail((*meta_path, key), f"{key} needs AutoPublishAlias: the alias a deployment moves")
            return
        enabled = preference is not None and preference.get("Enabled", True) is not False
        shifting = previous is not None  # a deploy that moves the alias from version 1 to the template's code
        if "deploy_at" in meta and not shifting:
            self.fail((*meta_path, "deploy_at"), "deploy_at needs `previous`: the version the alias moves from")
        if previous is not None:  # the version live before this deploy, and the template's code published as 2
            out["versions"] = {"1": {"behaviour": previous["behaviour"]}, "2": {}}
            self.at((*spath, "versions", "1"), (*meta_path, "previous"), whole=True)
            self.at((*spath, "versions", "2"), meta_path if "behaviour" in meta else where("AutoPublishAlias"))
        else:  # a first deploy: SAM publishes version 1 and points the alias at it, nothing to shift
            out["versions"] = {"1": {}}
            self.at((*spath, "versions"), where("AutoPublishAlias"))
        start = "1"
        out["aliases"] = {alias: {"version": start}}
        self.at((*spath, "aliases"), where("AutoPublishAlias"), whole=False)
        if provisioned is not None:
            if shifting:
                self.fail(
                    where("ProvisionedConcurrencyConfig"),
                    "provisioned concurrency during a traffic shift is not simulated yet",
                )
            else:
                count = self.number(
                    provisioned["ProvisionedConcurrentExecutions"],
                    where("ProvisionedConcurrencyConfig", "ProvisionedConcurrentExecutions"),
                )
                out["versions"][start]["provisioned_concurrency"] = count
                self.at(
                    (*spath, "versions", start, "provisioned_concurrency"),
                    where("ProvisionedConcurrencyConfig", "ProvisionedConcurrentExecutions"),
                )
        thresholds = []
        for i, item in enumerate((preference or {}).get("Alarms") or []):
            alarm = item["Ref"]
            ref_path = (*where("DeploymentPreference", "Alarms", i), "Ref")
            if not self.typed(alarm, ALARM):
                alarms = [n for n in self.resources if self.typed(n, ALARM)]
                self.fail(ref_path, f"no AWS::CloudWatch::Alarm named {alarm!r}{did_you_mean(alarm, alarms)}")
                continue
            threshold_path = ("Resources", alarm, "Properties", "Threshold")
            threshold = self.number(self.resources[alarm]["Properties"]["Threshold"], threshold_path)
            if threshold is not None:
                thresholds.append((threshold, threshold_path))
        if not shifting:
            return
        # Without a (enabled) DeploymentPreference, `sam deploy` points the alias at the new version in one
        # step: lambdalab runs that as an AllAtOnce shift, at deploy_at.
        config = preference["Type"] if enabled and preference else "AllAtOnce"
        plan: dict[str, Any] = {"function": name, "alias": alias, "to": "2", "config": config}
        n = len(self.data["deployments"])
        self.data["deployments"].append(plan)
        dpath = ("deployments", n)
        self.at(dpath, where("DeploymentPreference") if preference else where("AutoPublishAlias"))
        self.at((*dpath, "config"), where("DeploymentPreference", "Type") if preference else where("AutoPublishAlias"))
        if "deploy_at" in meta:
            plan["start"] = meta["deploy_at"]
            self.at((*dpath, "start"), (*meta_path, "deploy_at"))
        if thresholds and enabled:  # any alarm rolls back: the lowest threshold fires first
            threshold, threshold_path = min(thresholds, key=lambda t: t[0])
            plan["alarm"] = {"errors_over": int(threshold)}
            self.at((*dpath, "alarm", "errors_over"), threshold_path)

    def sqs_event(self, function: str, props: dict[str, Any], base: Path_, shifting: bool) -> None:
        """An SQS event: an event source mapping (SAM's defaults are the mapping's: BatchSize 10, no window,
        https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-sqs.html)."""
        where = (*base, "Properties")
        if shifting:
            self.fail(
                base,
                "lambdalab's event source mappings invoke the function, not its alias: the traffic shift of a "
                "function that a queue feeds is not simulated yet (drop `previous`, or feed another function)",
            )
            return
        queue = self.queue_named(props.get("Queue"), (*where, "Queue"), "Queue")
        mapping: dict[str, Any] = {"source": f"queue:{queue}", "function": function}
        n = len(self.data["event_source_mappings"])
        mpath = ("event_source_mappings", n)
        self.data["event_source_mappings"].append(mapping)
        self.at(mpath, base)
        self.at((*mpath, "source"), (*where, "Queue"))

        def put(key: str, value: Any, *source: Any) -> None:
            mapping[key] = value
            self.at((*mpath, key), (*where, *source))

        if "BatchSize" in props:
            put("batch_size", self.number(props["BatchSize"], (*where, "BatchSize")), "BatchSize")
        if "MaximumBatchingWindowInSeconds" in props:
            window = self.number(props["MaximumBatchingWindowInSeconds"], (*where, "MaximumBatchingWindowInSeconds"))
            put("batching_window", f"{window}s", "MaximumBatchingWindowInSeconds")
        if "FunctionResponseTypes" in props:
            reports = "ReportBatchItemFailures" in props["FunctionResponseTypes"]
            put("report_batch_item_failures", reports, "FunctionResponseTypes")
        if "ScalingConfig" in props:
            source = ("ScalingConfig", "MaximumConcurrency")
            most = self.number(props["ScalingConfig"]["MaximumConcurrency"], (*where, *source))
            put("maximum_concurrency", most, *source)
        if "Enabled" in props:
            put("enabled", props["Enabled"], "Enabled")
        if "FilterCriteria" in props:
            patterns = []
            for i, item in enumerate(props["FilterCriteria"]["Filters"]):
                try:
                    patterns.append(json.loads(item["Pattern"]))
                except ValueError as exc:
                    self.fail((*where, "FilterCriteria", "Filters", i, "Pattern"), f"not JSON text: {exc}")
            put("filter_criteria", patterns, "FilterCriteria", "Filters")


def _with_globals(globals_: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A function's properties over Globals.Function: the function's value wins, and maps merge key by key
    (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy-globals.html)."""
    out = dict(globals_)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not set(value) & set(INTRINSICS):
            out[key] = _with_globals(out[key], value)
        else:
            out[key] = value
    return out
