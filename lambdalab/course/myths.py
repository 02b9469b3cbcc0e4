"""Outdated claims that course notes still carry, and how to spot one stated as a fact.

The list follows the "Outdated claims in typical course notes" table of the
reference (shared/reference/lambda-facts.md) and its 2026 additions
(shared/reference/lambda-2026.md, sections 6 and 7). A lesson may name a claim only
as a myth (a `> **Myth:**` quote, or a question marked `myth: true`); anywhere
else `lambdalab validate` rejects it and says what is true today. Patterns
look for the claim's wording near its subject, so that a current fact using
the same number ("a backoff of up to 5 minutes") is not mistaken for it. A
claim that is still true with a qualifier ("one request at a time" is true
on demand) names that qualifier in `unless`: a claim with it close by is a
current fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEAR = r"[^.\n]{0,60}?"  # within the same sentence, a few words apart
_SPAN = r"[^.]{0,80}?"  # the same, across a line break (pages and YAML keep their wrapped lines)
_QUALIFIER_REACH = 120  # how far (characters, either side) a qualifier such as "on-demand" may stand from a claim

_EDGE = r"(?:lambda@edge|edge functions?|edge triggers?)"
_FAILS = (  # the function's failure, not the origin's
    r"(?<!origin )\b(?:errors?|exceptions?|raise[sd]?|raising|throws?|threw|crash(?:es|ed)?|fails?|failed|failures?)"
)
_STATUS_500 = (  # the status code, not 500 ms, 500 MB, 1,500 or 500 requests
    r"(?<![\d,.])500(?!\d|,\d|\s*(?:ms|milliseconds?|MB|KB|GB|s\b|seconds?|requests?|tenants?|environments?|"
    r"concurrent|per\b|a (?:second|minute)))"
)
_ONE_AT_A_TIME = r"\b(?:one|a\s+single)\s+(?:request|invocation|event)\s+at\s+a\s+time\b"


@dataclass(frozen=True)
class Claim:
    id: str
    fact: str  # what is true today, with its source, for the error message
    pattern: re.Pattern
    unless: re.Pattern | None = None  # a qualifier near the claim that makes it a current fact


def _claim(claim_id: str, fact: str, *patterns: str, unless: str | None = None) -> Claim:
    return Claim(
        claim_id,
        fact,
        re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE),
        re.compile(unless, re.IGNORECASE) if unless else None,
    )


CLAIMS = (
    _claim(
        "memory-3gb",
        "memory is 128-10,240 MB in 1 MB steps (since December 2020; "
        "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)",
        r"\b3,?008\s*MB",
        rf"\b(max(imum)?|up to|at most|limit(ed)?)\b{_NEAR}\b(3|1\.5)\s*GB\b",
        r"\b(3|1\.5)\s*GB\s+(max(imum)?|limit)",
        r"\b64\s*MB\s+(steps|increments)",
        r"(steps|increments) of 64\s*MB",
    ),
    _claim(
        "billing-100ms",
        "duration is billed rounded up to 1 ms (since December 2020; https://aws.amazon.com/lambda/pricing/)",
        rf"\b(bill|billed|billing|round|rounded|granularity|increment)s?{_NEAR}\b100\s*(ms|-?millisecond)",
        r"\b100\s*(ms|-?millisecond)s?\s+(billing|increments|granularity|blocks|steps)",
    ),
    _claim(
        "timeout-5min",
        "the maximum timeout is 900 s, 15 minutes (since October 2018; "
        "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)",
        rf"\b(timeout|time out|time limit|run for|runs for|execution time){_NEAR}\b(5|five)[ -]minutes?\b",
        rf"\b(timeout|time out|time limit|run for|runs for|execution time){_NEAR}\b300\s*(s|sec|seconds)\b",
        r"\b(5|five)-minute (timeout|limit|maximum)",
        r"\b300-second (timeout|limit|maximum)",
    ),
    _claim(
        "retries-3",
        "a failed asynchronous invocation is retried at most 2 times, 3 attempts in all "
        "(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)",
        rf"\bretr(y|ies|ied){_NEAR}\b(3|three) times\b",
        r"\b(3|three) retries\b",
        r"\bretried (3|three)\b",
    ),
    _claim(
        "async-256kb",
        "the asynchronous payload limit is 1 MB (since October 2025; "
        "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)",
        r"\b256\s*(KB|kilobytes)\b",
    ),
    _claim(
        "init-free",
        "Init is billed for on-demand functions (since 1 August 2025; https://aws.amazon.com/lambda/pricing/)",
        rf"\b(init|initiali[sz]ation|cold starts?)\b{_NEAR}\b(is|are)\s+(free|not billed|never billed|unbilled)\b",
        r"\bfree (init|initiali[sz]ation|cold starts?)\b",
    ),
    _claim(
        "streaming-20mb",
        "a streamed response may be up to 200 MB (since July 2025; "
        "https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html)",
        rf"\bstream(ed|ing)?{_NEAR}\b20\s*MB\b",
    ),
    _claim(
        "tmp-512-fixed",
        "/tmp is 512 MB by default and configurable up to 10,240 MB (since March 2022; "
        "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)",
        rf"/tmp{_NEAR}\b(fixed|always|only|max(imum)?|limited to|at most)\b{_NEAR}\b512\s*MB",
    ),
    _claim(
        "burst-region",
        "each function scales by 1,000 environments every 10 seconds, independently (since November 2023; "
        "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)",
        rf"\bburst (concurrency|limit|quota)\b{_NEAR}(?<![\d,.])(500|3,?000)\b",
        r"(?<![\d,.])500 (more |additional )?(per|a|each|every) minute\b",
    ),
    _claim(
        "sqs-60-per-minute",
        "SQS event source mappings scale by up to 300 concurrent invocations a minute "
        "(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)",
        rf"\b(\+|by |up to )60\b{_NEAR}\b(per|a|each|every) minute\b",
    ),
    _claim(
        "edge-50ms",
        "Lambda@Edge is billed in 1 ms steps (since April 2021; https://aws.amazon.com/lambda/pricing/)",
        rf"\b(bill|billed|billing|round|rounded|granularity|increment)s?{_NEAR}\b50\s*(ms|-?millisecond)",
        r"\b50\s*(ms|-?millisecond)s?\s+(billing|increments|granularity|steps)",
    ),
    _claim(
        "vpc-cold-start",
        "a function in a VPC connects through Hyperplane ENIs that Lambda creates when the function is configured, "
        "not when an environment starts: VPC access adds no ENI time to cold starts (since 2019; "
        "https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html)",
        rf"\bvpcs?\b{_NEAR}\bcold starts?\b{_NEAR}(?<![\d,.])(10|[5-9]|1[0-5])(\s*-\s*\d+)?\s*(s|sec|seconds?)\b",
        rf"\bcold starts?\b{_NEAR}\bvpcs?\b{_NEAR}(?<![\d,.])(10|[5-9]|1[0-5])(\s*-\s*\d+)?\s*(s|sec|seconds?)\b",
        rf"\bvpcs?\b{_NEAR}\b(adds?|costs?|takes?)\b{_NEAR}(?<![\d,.])(10|[5-9]|1[0-5])\s*(s|sec|seconds?)\b{_NEAR}"
        rf"\bcold starts?\b",
    ),
    _claim(
        "edge-node-only",
        "Lambda@Edge runs Node.js and Python "
        "(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html)",
        rf"\blambda@edge{_NEAR}\b(only|just) (supports? )?node(\.js)?\b",
        r"\bnode(\.js)?[- ]only\b",
    ),
    _claim(
        "snapstart-java-only",
        "SnapStart supports Java 11+, Python 3.12+ and .NET 8+ (since November 2024; "
        "https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html)",
        r"\bsnapstart\b[^.\n]{0,40}\bjava[- ]only\b",
        r"\bsnapstart\b[^.\n]{0,40}\bonly (for |supports? )?java\b",
        r"\bsnapstart is (only )?for java( only)?\b",
    ),
    _claim(
        "free-tier-12-months",
        "Lambda's free tier (1 M requests and 400,000 GB-s a month) does not expire "
        "(https://aws.amazon.com/lambda/pricing/)",
        rf"\bfree tier{_NEAR}\b(12|twelve) months\b",
        rf"\bfree tier{_NEAR}\bfirst year\b",
    ),
    _claim(
        "url-none-one-permission",
        "a new function URL with AuthType NONE needs lambda:InvokeFunctionUrl and "
        "lambda:InvokeFunction (since October 2025; https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)",
        rf"\bNONE\b{_NEAR}\bonly\b{_NEAR}lambda:InvokeFunctionUrl\b",
        rf"\bNONE\b{_NEAR}lambda:InvokeFunctionUrl\b alone",
    ),
    _claim(
        "unhandled-500",
        "a function error still returns HTTP 200, with the X-Amz-Function-Error header "
        "(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)",
        rf"\b(unhandled exceptions?|function errors?)\b{_NEAR}\b(returns?|gets?|gives?|with)\b{_NEAR}\b(HTTP )?500\b",
    ),
    _claim(
        "edge-500",
        "CloudFront answers a Lambda@Edge function execution error (an unhandled exception, a timeout) with 503, "
        "and an invalid result with 502 "
        "(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-503-service-unavailable.html)",
        rf"\b{_EDGE}\b{_SPAN}{_FAILS}\b{_SPAN}{_STATUS_500}",
        rf"{_FAILS}\b{_SPAN}\b{_EDGE}\b{_SPAN}{_STATUS_500}",
        rf"{_STATUS_500}\W{{0,6}}(?:when|if|whenever|for|on)\b{_SPAN}\b{_EDGE}\b{_SPAN}{_FAILS}\b",
    ),
    _claim(
        "one-request-per-environment",
        "an on-demand execution environment serves one request at a time, but Lambda Managed Instances run many "
        "requests at once in each environment (since November 2025; "
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances.html): say on-demand",
        r"(?<!beyond\s)\bone\s+(?:request|invocation)s?\s+per\s+(?:execution\s+)?environment\b",
        r"\bone\s+(?:request|invocation)\s+at\s+a\s+time\s+per\s+(?:execution\s+)?environment\b",
        rf"\benvironments?\b{_SPAN}{_ONE_AT_A_TIME}",
        rf"{_ONE_AT_A_TIME}{_SPAN}\benvironments?\b",
        unless=r"\bon[-\s]demand\b",
    ),
)


def outdated_claims(text: str) -> list[tuple[Claim, int]]:
    """Each outdated claim found in `text`, with the 0-based line it starts on."""
    found = []
    for claim in CLAIMS:
        for match in claim.pattern.finditer(text):
            if claim.unless is not None and claim.unless.search(
                text, max(0, match.start() - _QUALIFIER_REACH), match.end() + _QUALIFIER_REACH
            ):
                continue
            found.append((claim, text.count("\n", 0, match.start())))
    return sorted(found, key=lambda pair: pair[1])
