"""The account and its functions: each function's configuration as Lambda's quotas allow it, its
published versions and aliases, its asynchronous invocation settings, the reservations the account
must leave room for, and the CodeDeploy shifts that move an alias between versions.

A published version is built as a function of its own (a snapshot of $LATEST with what the scenario
says differed then), so it is checked by the same rules and its problems name its own keys.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder import permissions
from lambdalab.engine.builder.behaviour import behaviour, real_code
from lambdalab.engine.builder.context import Context, KeyPath, duration, positive_duration, refuse_isolated, resolve
from lambdalab.engine.builder.durable import durable_config, refuse_unqualified
from lambdalab.engine.builder.extensions import extensions
from lambdalab.engine.builder.managed_instances import managed_instances
from lambdalab.engine.builder.networking import vpc_config
from lambdalab.engine.deployments import CONFIGS as DEPLOYMENT_CONFIGS
from lambdalab.engine.model import Account, Alias, AsyncConfig, CapacityProvider, DeploymentPlan, Function
from lambdalab.engine.units import parse_size
from lambdalab.inputs.errors import did_you_mean

DESTINATION_KINDS = ("queue", "topic", "bus", "function")
# lambdalab's own bound on one run, not AWS's (as traffic.MAX_REQUESTS): past it a typo is an error, not a long run.
MAX_ACCOUNT_CONCURRENCY = 100_000


def account(ctx: Context, data: dict[str, Any]) -> Account:
    concurrency = data.get("concurrency", limits.ACCOUNT_CONCURRENCY_DEFAULT)
    if concurrency > MAX_ACCOUNT_CONCURRENCY:
        ctx.fail(
            ("account", "concurrency"),
            f"{concurrency:,} is more than lambdalab simulates ({MAX_ACCOUNT_CONCURRENCY:,}; AWS's default is 1,000)",
        )
    minimum = data.get("unreserved_minimum", limits.UNRESERVED_MINIMUM_DEFAULT)
    if minimum > concurrency:
        ctx.fail(("account", "unreserved_minimum"), f"{minimum} is more than the account concurrency of {concurrency}")
    return Account(
        concurrency=concurrency,
        unreserved_minimum=minimum,
        region=data.get("region", "us-east-1"),
        account_id=data.get("account_id", "123456789012"),
        idle_expiry=positive_duration(ctx, ("account", "idle_expiry"), data.get("idle_expiry"), 600.0),
        count_managed_instances=data.get("count_managed_instances", False),
        recursion_via_destinations=data.get("recursion_via_destinations", False),
        durable_max_operations=data.get("durable_max_operations", limits.DURABLE_MAX_OPERATIONS),
        durable_max_data=parse_size(data.get("durable_max_data", limits.DURABLE_MAX_DATA_BYTES)),
    )


def function(
    ctx: Context,
    name: str,
    data: dict[str, Any],
    account: Account,
    providers: dict[str, CapacityProvider],
    version: str = "$LATEST",
    path: KeyPath | None = None,
) -> Function:
    path = path or ("functions", name)
    managed = (
        managed_instances(ctx, (*path, "managed_instances"), data["managed_instances"], data, providers)
        if "managed_instances" in data
        else None
    )
    if managed is None:
        memory = data.get("memory", limits.MEMORY_DEFAULT_MB)
        _in_range(ctx, (*path, "memory"), memory, limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB, "MB", limits.QUOTAS)
    else:  # checked with the other Managed Instances rules
        memory = data.get("memory", limits.LMI_MEMORY_MIN_MB)
        version = "$LATEST.PUBLISHED"  # what an unqualified invoke runs on LMI (LMI_SCALE)
    timeout_max = limits.TIMEOUT_MAX_S if managed is None else limits.LMI_TIMEOUT_MAX_S
    timeout = _timeout(ctx, (*path, "timeout"), data.get("timeout"), timeout_max)
    storage = data.get("ephemeral_storage", limits.EPHEMERAL_MIN_MB)
    _in_range(
        ctx,
        (*path, "ephemeral_storage"),
        storage,
        limits.EPHEMERAL_MIN_MB,
        limits.EPHEMERAL_MAX_MB,
        "MB",
        limits.QUOTAS,
    )
    environment = {k: str(v) for k, v in (data.get("environment") or {}).items()}
    role_policies, role_trust = permissions.role(ctx, (*path, "role"), data.get("role"))
    size = sum(len(k.encode()) + len(v.encode()) for k, v in environment.items())
    if size > limits.ENVIRONMENT_MAX_BYTES:
        ctx.fail(
            (*path, "environment"),
            f"{size} bytes of variables; Lambda allows {limits.ENVIRONMENT_MAX_BYTES} bytes in all ({limits.QUOTAS})",
        )
    reserved = data.get("reserved_concurrency")
    provisioned = data.get("provisioned_concurrency", 0)
    if reserved is not None and provisioned > reserved:
        ctx.fail(
            (*path, "provisioned_concurrency"),
            f"{provisioned} is more than reserved concurrency {reserved}: "
            f"provisioned concurrency counts against the reservation ({limits.RESV})",
        )
    isolated = _tenant_isolation(ctx, path, data)
    code = real_code(ctx, path, data)
    if "behaviour" not in data and code is None:
        ctx.fail(
            path,
            "missing required key 'behaviour' (a model of the code: init, duration, errors), "
            "or `code:` and `handler:` to run real code",
        )
    model = behaviour(ctx, (*path, "behaviour"), data.get("behaviour") or {})
    fn = Function(
        name=name,
        memory=memory,
        timeout=timeout,
        architecture=data.get(
            "architecture", "x86_64" if managed is None else providers[managed.capacity_provider].architecture
        ),
        ephemeral_storage=storage,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        idle_expiry=positive_duration(ctx, (*path, "idle_expiry"), data.get("idle_expiry"), account.idle_expiry),
        environment=environment,
        behaviour=model,
        async_config=_async_config(ctx, (*path, "async"), data.get("async") or {}),
        dead_letter_queue=_dead_letter_queue(ctx, (*path, "dead_letter_queue"), data.get("dead_letter_queue")),
        description=data.get("description", ""),
        code=code,
        resource_policy=permissions.resource_policy(ctx, (*path, "resource_policy"), data.get("resource_policy")),
        role_policies=role_policies,
        role_trust=role_trust,
        version=version,
        runtime=data.get("runtime", "python3.13"),
        managed_instances=managed,
        tenant_isolation=isolated,
        recursive_loop=data.get("recursive_loop", "Terminate"),
        extensions=extensions(ctx, (*path, "extensions"), data.get("extensions"), data),
        vpc=vpc_config(ctx, (*path, "vpc"), data.get("vpc"), data),
        # Built once, with $LATEST: a version is a snapshot of it, and DurableConfig is set only at creation.
        durable=durable_config(ctx, (*path, "durable"), data["durable"], code is not None)
        if "durable" in data and version == "$LATEST"
        else None,
    )
    if version == "$LATEST" and (data.get("versions") or data.get("aliases")):
        fn = _versions_and_aliases(ctx, fn, data, account, providers, path)
    return fn


def _versions_and_aliases(
    ctx: Context,
    fn: Function,
    data: dict[str, Any],
    account: Account,
    providers: dict[str, CapacityProvider],
    path: KeyPath,
) -> Function:
    """Published versions (a snapshot of $LATEST with what the scenario says differed then) and aliases
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html).

    Provisioned concurrency is set on a published version, never on $LATEST, and all of it together
    counts against the function's reservation."""
    if fn.provisioned_concurrency and data.get("versions"):
        ctx.fail(
            (*path, "provisioned_concurrency"),
            "with published versions, provisioned concurrency goes on a "
            'version (versions: {"1": {provisioned_concurrency: N}}), never on $LATEST '
            f"({limits.PROV})",
        )
    latest = {k: v for k, v in data.items() if k not in ("versions", "aliases", "provisioned_concurrency")}
    versions = {
        str(number): replace(
            function(
                ctx,
                fn.name,
                {**latest, **(overrides or {})},
                account,
                providers,
                version=str(number),
                path=(*path, "versions", number),
            ),
            durable=fn.durable,
        )
        for number, overrides in (data.get("versions") or {}).items()
    }
    provisioned, reserved = sum(v.provisioned_concurrency for v in versions.values()), fn.reserved_concurrency
    if (
        reserved is not None
        and provisioned > reserved
        and all(  # a version over it alone is said already
            v.provisioned_concurrency <= reserved for v in versions.values()
        )
    ):
        ctx.fail(
            (*path, "versions"),
            f"{provisioned} provisioned in all is more than reserved concurrency "
            f"{reserved}: every version's provisioned concurrency counts against the "
            f"function's reservation ({limits.RESV})",
        )
    aliases = {
        name: _alias(ctx, (*path, "aliases", name), name, spec, versions)
        for name, spec in (data.get("aliases") or {}).items()
    }
    return replace(fn, versions=versions, aliases=aliases)


def _alias(ctx: Context, path: KeyPath, name: str, spec: dict[str, Any], versions: dict[str, Function]) -> Alias:
    """An alias points to one version, or splits requests between two published ones
    (https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html)."""
    version = str(spec["version"])
    known = ["$LATEST", *versions]
    if version not in known:
        ctx.fail(
            (*path, "version"),
            f"no version {version!r}{did_you_mean(version, known)}; versions: {', '.join(known)}",
        )
    routing = []
    for other, weight in (spec.get("routing") or {}).items():
        other = str(other)
        if other not in versions:
            ctx.fail(
                (*path, "routing", other),
                f"no published version {other!r}; versions: {', '.join(versions) or 'none'}",
            )
        elif other == version:
            ctx.fail((*path, "routing", other), f"the alias already points to version {other}; route to another one")
        elif version == "$LATEST":
            ctx.fail(
                (*path, "version"),
                "weighted routing needs two published versions, and $LATEST is not one "
                "(https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html)",
            )
        routing.append((other, float(weight)))
    return Alias(name, version, tuple(routing))


def _tenant_isolation(ctx: Context, path: KeyPath, data: dict[str, Any]) -> bool:
    """Tenant isolation mode, and what Lambda does not combine with it: provisioned concurrency
    (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda.TenancyConfig.html)."""
    isolated = bool(data.get("tenant_isolation"))
    if not isolated:
        return False
    if "durable" in data:
        ctx.fail((*path, "durable"), "durable functions in tenant isolation mode are not simulated yet")
    if data.get("provisioned_concurrency"):
        ctx.fail(
            (*path, "provisioned_concurrency"),
            "a function in tenant isolation mode cannot have provisioned concurrency: its environments are "
            f"made per tenant, on demand ({limits.TENANT})",
        )
    return True


def _in_range(ctx: Context, path: KeyPath, value: int | float, low: float, high: float, unit: str, source: str) -> None:
    if value < low:
        ctx.fail(path, f"{value:g} is below the Lambda minimum of {low:g} {unit} ({source})")
    elif value > high:
        ctx.fail(path, f"{value:g} is above the Lambda maximum of {high:g} {unit} ({source})")


def _timeout(ctx: Context, path: KeyPath, value: Any, maximum: int) -> float:
    if value is None:
        return float(limits.TIMEOUT_DEFAULT_S)
    seconds = duration(ctx, path, value, float(limits.TIMEOUT_DEFAULT_S))
    if not float(seconds).is_integer():
        ctx.fail(
            path,
            f"{value!r} is {seconds:g} s; Lambda's timeout is a whole number of seconds, "
            f"{limits.TIMEOUT_MIN_S} to {maximum} ({limits.QUOTAS})",
        )
    else:
        _in_range(ctx, path, seconds, limits.TIMEOUT_MIN_S, maximum, "seconds", limits.QUOTAS)
    return seconds


def _async_config(ctx: Context, path: KeyPath, data: dict[str, Any]) -> AsyncConfig:
    retries = data.get("maximum_retry_attempts", limits.ASYNC_RETRIES_DEFAULT)
    _in_range(
        ctx,
        (*path, "maximum_retry_attempts"),
        retries,
        limits.ASYNC_RETRIES_MIN,
        limits.ASYNC_RETRIES_MAX,
        "retries",
        limits.EIC,
    )
    age = duration(ctx, (*path, "maximum_event_age"), data.get("maximum_event_age"), float(limits.EVENT_AGE_DEFAULT_S))
    _in_range(
        ctx, (*path, "maximum_event_age"), age, limits.EVENT_AGE_MIN_S, limits.EVENT_AGE_MAX_S, "seconds", limits.EIC
    )
    return AsyncConfig(
        maximum_retry_attempts=retries,
        maximum_event_age=age,
        on_success=_destination(ctx, (*path, "on_success"), data.get("on_success")),
        on_failure=_destination(ctx, (*path, "on_failure"), data.get("on_failure")),
    )


def _destination(ctx: Context, path: KeyPath, ref: str | None) -> str | None:
    resolved = resolve(ctx, path, ref, DESTINATION_KINDS) if ref else None
    if resolved and resolved[0] == "function":
        refuse_isolated(ctx, path, resolved[1], "a destination")
    if resolved:
        refuse_unqualified(ctx, path, *resolved)
    return f"{resolved[0]}:{resolved[1]}" if resolved else None


def _dead_letter_queue(ctx: Context, path: KeyPath, ref: str | None) -> str | None:
    resolved = resolve(ctx, path, ref, ("queue", "topic")) if ref else None
    if not resolved:
        return None
    kind, name = resolved
    if ctx.targets[kind][name].fifo:
        ctx.fail(
            path,
            f"{name!r} is FIFO; a dead-letter queue must be a standard SQS queue or SNS topic ({limits.ASYNC_REC})",
        )
    return f"{kind}:{name}"


def check_account_concurrency(ctx: Context, functions: dict[str, Function], account: Account) -> None:
    """Reservations (and provisioned concurrency of unreserved functions) must leave the unreserved minimum."""
    claimed = 0
    for fn in functions.values():
        claim = fn.claimed_concurrency
        if not claim:
            continue
        claimed += claim
        left = account.concurrency - claimed
        if left < account.unreserved_minimum:
            key = "reserved_concurrency" if fn.reserved_concurrency is not None else "provisioned_concurrency"
            ctx.fail(
                ("functions", fn.name, key),
                f"{claim} would leave {left} unreserved of the account's {account.concurrency}; "
                f"Lambda keeps at least {account.unreserved_minimum} unreserved ({limits.RESV})",
            )


def deployment(ctx: Context, index: int, data: dict[str, Any], functions: dict[str, Function]) -> DeploymentPlan:
    """A CodeDeploy shift: the alias, a published version to move to, and a known configuration."""
    path = ("deployments", index)
    fn = functions.get(data["function"])
    if fn is None:
        ctx.fail(
            (*path, "function"),
            f"no function named {data['function']!r}{did_you_mean(data['function'], list(functions))}",
        )
    elif data["alias"] not in fn.aliases:
        ctx.fail(
            (*path, "alias"),
            f"{fn.name} has no alias {data['alias']!r}{did_you_mean(data['alias'], list(fn.aliases))}",
        )
    elif str(data["to"]) not in fn.versions:
        ctx.fail(
            (*path, "to"),
            f"{fn.name} has no published version {data['to']!r}; versions: {', '.join(fn.versions) or 'none'}",
        )
    elif fn.aliases[data["alias"]].version == str(data["to"]):
        ctx.fail((*path, "to"), f"alias {data['alias']} already points to version {data['to']}")
    if data["config"] not in DEPLOYMENT_CONFIGS:
        ctx.fail(
            (*path, "config"),
            f"{data['config']!r} is not a CodeDeploy configuration"
            f"{did_you_mean(data['config'], list(DEPLOYMENT_CONFIGS))}",
        )
    alarm = data.get("alarm") or {}
    return DeploymentPlan(
        data["function"],
        data["alias"],
        str(data["to"]),
        data["config"],
        duration(ctx, (*path, "start"), data.get("start"), 0.0),
        alarm.get("errors_over"),
    )
