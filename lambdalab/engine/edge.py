"""Lambda@Edge: what CloudFront allows a function on each trigger, and whether what it returned is valid.

From shared/reference/lambda-facts.md §8 (the CloudFront Developer Guide's quotas, restrictions and event
structure pages): viewer triggers get 128 MB and 5 s, origin triggers Lambda's memory and 30 s; no
environment variables; a generated response is at most 40 KB (viewer) or 1 MB (origin); `clientIp`,
`method` and `config` are read-only; a viewer-response function cannot change the status code. CloudFront
answers an invalid result with 502 (Lambda validation error), and a function error, a timeout or a throttle
with 503 (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-503-service-unavailable.html;
shared/reference/lambda-2026.md §6.1: older notes said 500 for an error).

Headers (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html):
disallowed headers are never shown to a function, which may not add them; read-only headers, which depend on
the trigger, may be read but not added, changed or deleted. Either mistake is a 502.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdalab.engine.admission import admit

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency
    from lambdalab.engine.environments import Environment, FunctionRuntime
    from lambdalab.engine.model import Function

TRIGGERS = ("viewer-request", "origin-request", "origin-response", "viewer-response")
CF_QUOTAS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
CF_RESTRICTIONS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html"
CF_EVENTS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html"

VIEWER_MEMORY_MB, VIEWER_TIMEOUT_S, ORIGIN_TIMEOUT_S = 128, 5, 30
VIEWER_RESPONSE_BYTES, ORIGIN_RESPONSE_BYTES = 40 * 1024, 1024 * 1024
CF_HEADERS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html"
DISALLOWED_HEADERS = frozenset(
    (
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "upgrade",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-limit-rate",
        "x-accel-redirect",
        "x-amzn-auth",
        "x-amzn-cf-billing",
        "x-amzn-cf-id",
        "x-amzn-cf-xff",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    )
)
DISALLOWED_PREFIXES = ("x-amz-cf-", "x-edge-")
READ_ONLY_HEADERS = {
    "viewer-request": frozenset(("content-length", "host", "transfer-encoding", "via")),
    "origin-request": frozenset(
        (
            "accept-encoding",
            "content-length",
            "if-modified-since",
            "if-none-match",
            "if-range",
            "if-unmodified-since",
            "range",
            "transfer-encoding",
            "via",
        )
    ),
    "origin-response": frozenset(("transfer-encoding", "via")),
    "viewer-response": frozenset(("content-encoding", "content-length", "transfer-encoding", "warning", "via")),
}
REQUEST_FIELDS = ("clientIp", "method", "uri", "querystring", "headers", "body", "origin")
RESPONSE_FIELDS = ("status", "statusDescription", "headers", "body", "bodyEncoding")


@dataclass(frozen=True)
class EdgeOutcome:
    """What CloudFront does with the function's result."""

    status: int  # 200 when the result is used; 502 or 503 when CloudFront fails the request
    problems: tuple[str, ...]  # why the result is invalid, in words
    summary: str  # one sentence


def association_problems(trigger: str, memory_mb: int, timeout_s: float, environment: dict[str, str]) -> list[str]:
    """Why CloudFront would refuse to associate this function with the trigger."""
    viewer = trigger.startswith("viewer")
    problems = []
    if viewer and memory_mb > VIEWER_MEMORY_MB:
        problems.append(
            f"a {trigger} function may have at most {VIEWER_MEMORY_MB} MB of memory, not {memory_mb} ({CF_QUOTAS})"
        )
    limit = VIEWER_TIMEOUT_S if viewer else ORIGIN_TIMEOUT_S
    if timeout_s > limit:
        problems.append(
            f"a {trigger} function may have a timeout of at most {limit} s, not {timeout_s:g} ({CF_QUOTAS})"
        )
    if environment:
        problems.append(f"Lambda@Edge functions cannot have environment variables ({CF_RESTRICTIONS})")
    return problems


# CloudFront Functions: viewer triggers only, at most 10 KB of code; they cannot share a cache behaviour's
# viewer triggers with Lambda@Edge (shared/reference/lambda-facts.md §8.4, §8.1).
CLOUDFRONT_FUNCTIONS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-functions.html"
CLOUDFRONT_FUNCTION_MAX_BYTES = 10 * 1024


def cloudfront_function_problems(trigger: str, size: int) -> list[str]:
    """Why CloudFront would refuse this CloudFront Function on the trigger."""
    problems = []
    if not trigger.startswith("viewer"):
        problems.append(
            f"CloudFront Functions run only on viewer-request and viewer-response, not {trigger}; "
            f"origin triggers need Lambda@Edge ({CLOUDFRONT_FUNCTIONS})"
        )
    if size > CLOUDFRONT_FUNCTION_MAX_BYTES:
        problems.append(
            f"a CloudFront Function is at most {CLOUDFRONT_FUNCTION_MAX_BYTES // 1024} KB of code, not "
            f"{size:,} bytes; larger logic belongs in Lambda@Edge ({CF_QUOTAS})"
        )
    return problems


EDGE_SERVICE = "edgelambda.amazonaws.com"
EDGE_REGION = "us-east-1"
EPHEMERAL_MAX_MB = 512


def lambda_at_edge_problems(trigger: str, fn: Function, region: str, trusted: bool) -> list[str]:
    """Why CloudFront would refuse to associate this published version with the trigger (CF_RESTRICTIONS)."""
    problems = association_problems(trigger, fn.memory, fn.timeout, fn.environment)
    if region != EDGE_REGION:
        problems.append(f"Lambda@Edge functions must be in {EDGE_REGION}, not {region} ({CF_RESTRICTIONS})")
    if fn.architecture != "x86_64":
        problems.append(f"Lambda@Edge does not support {fn.architecture}; use x86_64 ({CF_RESTRICTIONS})")
    if fn.reserved_concurrency is not None or fn.provisioned_concurrency:
        problems.append(f"Lambda@Edge does not support reserved or provisioned concurrency ({CF_RESTRICTIONS})")
    if fn.dead_letter_queue is not None:
        problems.append(f"Lambda@Edge does not support dead-letter queues ({CF_RESTRICTIONS})")
    if fn.ephemeral_storage > EPHEMERAL_MAX_MB:
        problems.append(f"Lambda@Edge allows at most {EPHEMERAL_MAX_MB} MB of ephemeral storage ({CF_RESTRICTIONS})")
    if not trusted:
        problems.append(
            f"the execution role's trust policy must let {EDGE_SERVICE} assume it, as well as "
            f"lambda.amazonaws.com ({CF_RESTRICTIONS})"
        )
    return problems


def outcome(
    trigger: str, event: dict[str, Any], response: Any, error: dict[str, Any] | None, timed_out: bool
) -> EdgeOutcome:
    if timed_out:
        return EdgeOutcome(503, ("the function timed out",), "CloudFront answers 503: the function timed out.")
    if error is not None:
        return EdgeOutcome(
            503,
            (f"{error.get('errorType')}: {error.get('errorMessage')}",),
            "CloudFront answers 503 (LambdaExecutionError): the function raised an error.",
        )
    problems = result_problems(trigger, event, response)
    if problems:
        return EdgeOutcome(
            502, tuple(problems), "CloudFront answers 502 (LambdaValidationError): the result is invalid."
        )
    kind = (
        "a generated response"
        if trigger.endswith("request") and isinstance(response, dict) and "status" in response
        else "the request"
        if trigger.endswith("request")
        else "the response"
    )
    return EdgeOutcome(200, (), f"Valid for {trigger}: CloudFront uses {kind} the function returned.")


def result_problems(trigger: str, event: dict[str, Any], result: Any) -> list[str]:
    cf = event["Records"][0]["cf"]
    if not isinstance(result, dict):
        return [f"the function must return an object (a request or a response), not {type(result).__name__}"]
    if trigger.endswith("request") and "status" not in result:
        return _request_problems(cf["request"], result) + _read_only_problems(trigger, "request", cf["request"], result)
    problems = _response_problems(trigger, result)
    if trigger.endswith("response"):
        problems += _read_only_problems(trigger, "response", cf["response"], result)
    if trigger == "viewer-response" and "status" in result and str(result["status"]) != str(cf["response"]["status"]):
        problems.append(
            f"a viewer-response function cannot change the status code ({cf['response']['status']} to "
            f"{result['status']}) ({CF_EVENTS})"
        )
    return problems


def _request_problems(original: dict[str, Any], request: dict[str, Any]) -> list[str]:
    unknown = [key for key in request if key not in REQUEST_FIELDS]
    if unknown or "uri" not in request:
        return [
            f"this is not a request (it has {', '.join(map(repr, unknown or ['no uri']))}); return the request "
            f"(Records[0].cf.request, changed or not) or a response with a status ({CF_EVENTS})"
        ]
    problems = []
    for field in ("clientIp", "method"):
        if field in request and request[field] != original.get(field):
            problems.append(
                f"request.{field} is read-only ({original.get(field)!r} became {request[field]!r}) ({CF_EVENTS})"
            )
    if "uri" in request and (not isinstance(request["uri"], str) or not request["uri"].startswith("/")):
        problems.append(f"request.uri must be a path starting with /, not {request['uri']!r}")
    problems += _header_problems("request", request.get("headers", {}))
    return problems


def _response_problems(trigger: str, response: dict[str, Any]) -> list[str]:
    unknown = [key for key in response if key not in RESPONSE_FIELDS]
    problems = [f"a response has no {key!r} field ({CF_EVENTS})" for key in unknown]
    if "status" not in response:
        problems.append("a response needs a status")
    elif not str(response["status"]).isdigit() or not 100 <= int(response["status"]) <= 599:
        problems.append(f'status must be an HTTP status code such as "200", not {response["status"]!r}')
    problems += _header_problems("response", response.get("headers", {}))
    encoding = response.get("bodyEncoding", "text")
    if encoding not in ("text", "base64"):
        problems.append(f"bodyEncoding must be text or base64, not {encoding!r}")
    size = len(json.dumps(response.get("headers", {})).encode()) + len(str(response.get("body", "")).encode())
    limit = VIEWER_RESPONSE_BYTES if trigger.startswith("viewer") else ORIGIN_RESPONSE_BYTES
    if trigger.endswith("request") and size > limit:
        problems.append(
            f"a generated response is {size:,} bytes; a {trigger} function may generate at most {limit:,} "
            f"bytes of headers and body ({CF_QUOTAS})"
        )
    return problems


def _read_only_problems(trigger: str, where: str, original: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """The trigger's read-only headers, as CloudFront sent them: none added, changed or deleted."""
    before, after = original.get("headers", {}), result.get("headers")
    if not isinstance(after, dict):
        return []  # no headers at all: _header_problems says so when they are malformed
    problems = []
    for name in sorted(READ_ONLY_HEADERS[trigger] & (set(before) | {n.lower() for n in after})):
        if _values(before.get(name)) != _values(after.get(name)):
            change = "added" if name not in before else "deleted" if name not in after else "changed"
            problems.append(
                f"{where}.headers[{name!r}] is read-only on {trigger}: the function {change} it ({CF_HEADERS})"
            )
    return problems


def _values(values: Any) -> list[Any]:
    return [v.get("value") if isinstance(v, dict) else v for v in values] if isinstance(values, list) else [values]


def _header_problems(where: str, headers: Any) -> list[str]:
    """Headers are lower-cased names, each with a list of {key, value}; the key matches its name; none of them
    is one CloudFront keeps to itself."""
    if not isinstance(headers, dict):
        return [f"{where}.headers must be an object of lower-cased header names"]
    problems = []
    for name in headers:
        if name.lower() in DISALLOWED_HEADERS or name.lower().startswith(DISALLOWED_PREFIXES):
            problems.append(f"{where}.headers: {name.lower()!r} is a header edge functions may not add ({CF_HEADERS})")
    for name, values in headers.items():
        if name != name.lower():
            problems.append(f"{where}.headers: the name {name!r} must be lower-case ({name.lower()!r})")
        if not isinstance(values, list) or not all(isinstance(v, dict) and "value" in v for v in values):
            problems.append(f'{where}.headers[{name!r}] must be a list of {{"key": ..., "value": ...}} objects')
            continue
        for value in values:
            if "key" in value and str(value["key"]).lower() != name.lower():
                problems.append(f"{where}.headers[{name!r}] has the key {value['key']!r}, which names another header")
    return problems


class EdgeTrigger:
    """CloudFront calling a Lambda@Edge function version on one trigger during a run, and how it answers each
    request: 200 when it can use the result, 502 for an invalid result, 503 for a function error, a throttle or
    a timeout. Modelled code always returns a valid result; real code's result is checked."""

    def __init__(self, trigger: str, fn: FunctionRuntime, loop: EventLoop, account: AccountConcurrency):
        self.trigger = trigger
        self.fn = fn
        self.loop = loop
        self.account = account
        self.statuses = {200: 0, 502: 0, 503: 0}
        self.events: dict[int, Any] = {}  # request -> its event, while it runs

    def request(self, event: Any) -> None:
        fn, loop = self.fn, self.loop
        number = loop.next_id()
        fn.outcomes.requests += 1
        got = admit(fn, self.account, loop.now)
        if got.__class__ is str:
            fn.metrics.throttles += 1
            fn.outcomes.throttled += 1
            self._answer(number, 503, ("Lambda throttled the function",))
            return
        fn.outcomes.sync_in_flight += 1
        self.events[number] = event
        fn.begin(got, number, event, self._done)  # type: ignore[arg-type]  # an Environment: no narrowing on __class__

    def _done(self, env: Environment) -> None:
        fn = self.fn
        event = self.events.pop(env.request)
        fn.outcomes.sync_in_flight -= 1
        if env.error is None:
            fn.outcomes.succeeded += 1
        else:
            fn.outcomes.failed += 1
        if env.error is None and fn.real is None:
            self._answer(env.request, 200, ())
            return
        error = {"errorType": env.error, "errorMessage": env.error_message} if env.error is not None else None
        verdict = outcome(self.trigger, event, env.response, error, env.error is not None and env.timed_out)
        self._answer(env.request, verdict.status, verdict.problems)

    def _answer(self, number: int, status: int, problems: tuple[str, ...]) -> None:
        self.statuses[status] += 1
        if self.loop.listeners:
            self.loop.emit(
                "edge_answer",
                {
                    "function": self.fn.name,
                    "request_id": number,
                    "trigger": self.trigger,
                    "status": status,
                    "problems": list(problems),
                },
            )


class CloudFrontFunctionTrigger:
    """A CloudFront Function on a viewer trigger: CloudFront runs it itself in well under a millisecond, with no
    Lambda concurrency, environments or retries, so every request is simply answered."""

    def __init__(self, trigger: str, name: str):
        self.trigger = trigger
        self.name = name
        self.statuses = {200: 0}

    def request(self, _event: Any) -> None:
        self.statuses[200] += 1
