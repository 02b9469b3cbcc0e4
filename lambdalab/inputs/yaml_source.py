"""YAML that remembers where every value came from.

PyYAML's composer gives each node a start mark; we keep a map from key path to
(line, column) so that a schema error deep in the data can still say
`burst.yaml:14:5`. Booleans follow YAML 1.2's core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
only true and false are booleans, so a function called `off` or a value `yes` stays the word it is, where
PyYAML's YAML 1.1 rules would turn it into true or false. Guards run before parsing so that an empty, binary or huge
file gets one clear sentence instead of a traceback or a long wait. CloudFormation's short-form tags (`!Ref X`,
`!GetAtt Q.Arn`, `!Sub ...`) load as the long form they stand for (`{Ref: X}`, `{Fn::GetAtt: Q.Arn}`), so a SAM
template reads as CloudFormation means it
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lambdalab.inputs.errors import InputError, InputErrors

MAX_BYTES = 1024 * 1024  # a scenario or lesson file is a page of YAML, not a data set
MAX_NODES = 100_000  # stops alias "billion laughs" expansion long before memory suffers

_SCALAR_LOADER = yaml.SafeLoader("")  # builds one scalar at a time; never sees a whole document
# libyaml's parser when PyYAML has it (about four times faster; the course loads eleven lessons at start-up).
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

BOOL_TAG = "tag:yaml.org,2002:bool"
YAML_1_2_BOOLEANS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
YAML_1_1_ONLY_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})  # compared lower-cased

_DEFAULT_TAG: dict[type, str] = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}

Path_ = tuple  # a key path: ("functions", "api", "memory") or ("traffic", 0, "rate")


@dataclass
class Document:
    """Parsed YAML plus the position of every key and value in it."""

    name: str  # what error messages call the file
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # path -> 1-based (line, column)

    def position(self, path: Path_) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def sub(self, prefix: Path_, data: Any, as_path: Path_ = ()) -> Document:
        """The part of this document at `prefix`, as a document of its own rooted at `as_path`, keeping
        positions (a policy inside a scenario reports the scenario's lines)."""
        prefix, n = tuple(prefix), len(prefix)
        positions = {(*as_path, *p[n:]): pos for p, pos in self.positions.items() if p[:n] == prefix}
        positions.setdefault(tuple(as_path), self.position(prefix))
        return Document(self.name, data, positions)

    def error(self, path: Path_, message: str) -> InputError:
        line, column = self.position(path)
        return InputError(self.name, line, column, dotted(path), message)


def dotted(path: Path_) -> str:
    """("traffic", 0, "rate") -> "traffic[0].rate"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml(source: str | Path, text: str | bytes | None = None, name: str | None = None) -> Document:
    """Read and parse one YAML file (or the given text); InputErrors on anything unreadable."""
    name = name or str(source)
    if text is None:
        size = Path(source).stat().st_size
        if size > MAX_BYTES:  # say so before reading a huge file into memory
            raise _whole(
                name, f"the file is {size / 1024 / 1024:.1f} MB; YAML input is limited to {MAX_BYTES // 1024} KB"
            )
        try:
            raw: str | bytes = Path(source).read_bytes()
        except OSError as exc:
            raise _whole(name, f"cannot read the file: {exc.strerror}") from None
    else:
        raw = text
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise _whole(
                name, f"the file is {len(raw) / 1024 / 1024:.1f} MB; YAML input is limited to {MAX_BYTES // 1024} KB"
            )
        if b"\x00" in raw[:8192]:
            raise _whole(name, "this is a binary file, not YAML text")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _whole(name, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    elif len(raw) > MAX_BYTES:
        raise _whole(name, f"the text is over {MAX_BYTES // 1024} KB; YAML input is limited to that")
    if not raw.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in raw.splitlines()):
        raise _whole(name, "the file is empty")
    try:
        node = yaml.compose(raw, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise InputErrors([InputError(name, line, column, "", f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise _whole(name, f"invalid YAML: {exc}") from None
    if node is None:  # no document at all, e.g. text given as a str that holds only a byte order mark and comments
        raise _whole(name, "the file is empty")
    doc = Document(name, None)
    counter = [0]
    errors: list[InputError] = []
    doc.data = _convert(node, (), doc, counter, errors)
    if errors:
        raise InputErrors(errors)
    return doc


def _whole(name: str, message: str) -> InputErrors:
    return InputErrors([InputError(name, 0, 0, "", message)])


def _long_form(tag: str) -> str | None:
    """The key a CloudFormation short-form tag stands for: !Ref -> Ref, !Condition -> Condition, !GetAtt ->
    Fn::GetAtt; None for YAML's own tags (!!str, tag:yaml.org,2002:...)."""
    if not tag.startswith("!") or tag.startswith("!!") or len(tag) == 1:
        return None
    name = tag[1:]
    return name if name in ("Ref", "Condition") else f"Fn::{name}"


def _convert(node: yaml.Node, path: Path_, doc: Document, counter: list[int], errors: list[InputError]) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InputErrors([doc.error(path, f"more than {MAX_NODES} values (YAML aliases expand too far)")])
    doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    long_form = _long_form(node.tag)
    if long_form is not None:  # `!GetAtt Q.Arn` -> {"Fn::GetAtt": "Q.Arn"}, its value at the tag's place
        child = (*path, long_form)
        doc.positions[child] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return {long_form: node.value}
        kind = yaml.MappingNode if isinstance(node, yaml.MappingNode) else yaml.SequenceNode
        untagged = kind(_DEFAULT_TAG[kind], node.value, node.start_mark, node.end_mark)
        return {long_form: _convert(untagged, child, doc, counter, errors)}
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                errors.append(doc.error(path, "YAML merge keys (<<) are not supported; write the keys out"))
                continue
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                errors.append(InputError(doc.name, line, column, dotted(path), "keys must be plain words"))
                continue
            if isinstance(key, bool):
                key = "true" if key else "false"  # `true:` as a key means the word, as YAML wrote it
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                errors.append(InputError(doc.name, line, column, dotted(child), "this key appears twice; keep one"))
            doc.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(value_node, child, doc, counter, errors)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc, counter, errors) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)  # YAML has three kinds of node: mapping, sequence and scalar
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    """The scalar's value as YAML's safe loader types it (3 -> int, "3s" -> str), booleans as YAML 1.2 reads
    them (true -> True, yes -> "yes")."""
    if node.tag == BOOL_TAG and node.value not in YAML_1_2_BOOLEANS:
        return node.value
    try:
        return _SCALAR_LOADER.construct_object(node)
    except yaml.constructor.ConstructorError:
        return node.value
    finally:
        # The loader remembers every node it built (for aliases within one document): forgotten at once, or every
        # file ever read stays in memory, marks and all (a million nodes after the test suite; a serve session grows).
        _SCALAR_LOADER.constructed_objects.pop(node, None)
