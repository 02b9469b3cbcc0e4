"""Lambda Managed Instances: capacity providers, and a function's place on one, checked against the ranges
of Lambda's API and the rules of the LMI guide (sources in lambdalab/limits.py).

What AWS leaves open (the scaler's target, cadence and delay, what an instance keeps for itself, the default
memory per vCPU) are settings with the defaults of the scenario contract, marked UNCONFIRMED there.
"""

from __future__ import annotations

import math
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath, duration, positive_duration
from lambdalab.engine.model import CapacityProvider, InstanceType, ManagedInstances
from lambdalab.engine.units import parse_size
from lambdalab.inputs.errors import did_you_mean

MB = 1024 * 1024
GB = 1024 * MB
# The contract's defaults for what AWS does not document (shared/spec/scenarios.md, its settings table).
TARGET_UTILIZATION_DEFAULT = 67.0
SCALING_INTERVAL_DEFAULT_S = 60.0
SCALING_DELAY_DEFAULT_S = 60.0
RESERVED_VCPUS_DEFAULT = 1.0
RESERVED_MEMORY_DEFAULT_MB = 1024
MEMORY_PER_VCPU_DEFAULT_MB = 4096
# The first version of each runtime that runs on LMI (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-runtimes.html).
FIRST_LMI_VERSION = {"python": (3, 13), "nodejs": (22,), "java": (21,), "dotnet": (8,)}


def capacity_provider(ctx: Context, name: str, data: dict[str, Any]) -> CapacityProvider:
    path: KeyPath = ("capacity_providers", name)
    architecture = data.get("architecture", "arm64")
    spec = data.get("instance")
    if spec is None:
        if architecture != "arm64":
            ctx.fail(
                (*path, "instance"),
                "an x86_64 provider names its instance: {type, vcpus, memory, hourly_usd} "
                "(lambdalab's default, m7g.xlarge, is an arm64 type)",
            )
        instance = InstanceType(**limits.LMI_DEFAULT_INSTANCE)  # type: ignore[arg-type]  # a dict of its fields
    else:
        memory = _megabytes(ctx, (*path, "instance", "memory"), spec["memory"])
        instance = InstanceType(spec["type"], spec["vcpus"], memory, spec["hourly_usd"])
    scaling = data.get("scaling") or {}
    reserved = scaling.get("reserved_per_instance") or {}
    reserved_vcpus = float(reserved.get("vcpus", RESERVED_VCPUS_DEFAULT))
    reserved_memory = (
        _megabytes(ctx, (*path, "scaling", "reserved_per_instance", "memory"), reserved["memory"])
        if "memory" in reserved
        else RESERVED_MEMORY_DEFAULT_MB
    )
    if reserved_vcpus >= instance.vcpus or reserved_memory >= instance.memory_mb:
        ctx.fail(
            (*path, "scaling", "reserved_per_instance"),
            f"an instance of {instance.vcpus} vCPUs and {instance.memory_mb} MB would keep nothing for functions",
        )
    max_vcpus = data.get("max_vcpus", limits.LMI_MAX_VCPUS_DEFAULT)
    if max_vcpus < instance.vcpus * limits.LMI_INSTANCES_MIN:
        ctx.fail(
            (*path, "max_vcpus"),
            f"{max_vcpus} vCPUs cannot hold the {limits.LMI_INSTANCES_MIN} instances Lambda starts "
            f"({limits.LMI_INSTANCES_MIN} x {instance.vcpus} vCPUs of {instance.type}; {limits.LMI_SCALE})",
        )
    return CapacityProvider(
        name=name,
        architecture=architecture,
        instance=instance,
        max_vcpus=max_vcpus,
        target_utilization=float(scaling.get("target_utilization", TARGET_UTILIZATION_DEFAULT)),
        scaling_interval=positive_duration(
            ctx, (*path, "scaling", "interval"), scaling.get("interval"), SCALING_INTERVAL_DEFAULT_S
        ),
        scaling_delay=duration(ctx, (*path, "scaling", "delay"), scaling.get("delay"), SCALING_DELAY_DEFAULT_S),
        reserved_vcpus=reserved_vcpus,
        reserved_memory_mb=reserved_memory,
    )


def managed_instances(
    ctx: Context, path: KeyPath, data: dict[str, Any], fn: dict[str, Any], providers: dict[str, CapacityProvider]
) -> ManagedInstances | None:
    """A function's `managed_instances:`, with what its function-level settings must then be."""
    name = data["capacity_provider"]
    provider = providers.get(name)
    if provider is None:
        ctx.fail(
            (*path, "capacity_provider"),
            f"no capacity provider named {name!r}{did_you_mean(name, list(providers))}; "
            "declare it under capacity_providers:",
        )
        return None
    fn_path = path[:-1]
    _refuse_beside(ctx, fn_path, fn)
    if fn.get("architecture", provider.architecture) != provider.architecture:
        ctx.fail(
            (*fn_path, "architecture"),
            f"{fn['architecture']} on capacity provider {name!r}, whose instances are {provider.architecture}",
        )
    runtime = fn.get("runtime", "python3.13")
    family = _runtime_family(runtime)
    if family is None:
        ctx.fail(
            (*fn_path, "runtime"),
            f"{runtime} does not run on Managed Instances; use python3.13+, nodejs22.x+, java21+, dotnet8+ or "
            f"provided.al2023 (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-runtimes.html)",
        )
        family = "python"
    memory = fn.get("memory", limits.LMI_MEMORY_MIN_MB)
    if not limits.LMI_MEMORY_MIN_MB <= memory <= limits.LMI_MEMORY_MAX_MB:
        ctx.fail(
            (*fn_path, "memory"),
            f"{memory} MB; on Managed Instances memory is {limits.LMI_MEMORY_MIN_MB:,} to "
            f"{limits.LMI_MEMORY_MAX_MB:,} MB (at least 2 GB and 1 vCPU per environment; {limits.LMI_SCALE})",
        )
    per_vcpu = _memory_per_vcpu(ctx, (*path, "memory_per_vcpu"), data.get("memory_per_vcpu"))
    vcpus = max(1.0, memory / per_vcpu)
    usable_vcpus = provider.instance.vcpus - provider.reserved_vcpus
    usable_memory = provider.instance.memory_mb - provider.reserved_memory_mb
    if vcpus > usable_vcpus or memory > usable_memory:
        ctx.fail(
            (*fn_path, "memory"),
            f"an environment of {memory} MB and {vcpus:g} vCPUs does not fit on {provider.instance.type} "
            f"({usable_vcpus:g} vCPUs and {usable_memory} MB left for functions on each instance)",
        )
    slots = data.get("per_environment_max_concurrency") or max(1, int(limits.LMI_SLOTS_PER_VCPU[family] * vcpus))
    minimum = data.get("min_environments", limits.LMI_ENVIRONMENTS_AT_PUBLISH)
    per_instance = max(1, min(int(usable_vcpus // vcpus), int(usable_memory // memory)))
    room = (provider.max_vcpus // provider.instance.vcpus) * per_instance
    maximum = data.get("max_environments", min(room, limits.LMI_ENVIRONMENTS_MAX))
    if minimum > maximum:
        ctx.fail((*path, "min_environments"), f"{minimum} is above max_environments ({maximum})")
    if minimum > room:
        ctx.fail(
            (*path, "min_environments"),
            f"{minimum} environments need more than the provider's max_vcpus ({provider.max_vcpus}) allows ({room})",
        )
    return ManagedInstances(name, per_vcpu, vcpus, slots, minimum, maximum)


def _refuse_beside(ctx: Context, path: KeyPath, fn: dict[str, Any]) -> None:
    """Settings of on-demand functions that mean nothing on Managed Instances, or that lambdalab does not
    simulate there yet: say so rather than run something AWS would not."""
    for key, why in (
        ("provisioned_concurrency", "Managed Instances keep min_environments running instead"),
        ("reserved_concurrency", "capacity is max_environments x per_environment_max_concurrency"),
        ("versions", "lambdalab runs a Managed Instances function as one published version ($LATEST.PUBLISHED)"),
        ("aliases", "lambdalab runs a Managed Instances function as one published version ($LATEST.PUBLISHED)"),
        ("code", "real code on Managed Instances is not simulated yet; model it with `behaviour:`"),
        ("tenant_isolation", "tenant isolation is a mode of on-demand (default) functions"),
        ("durable", "durable functions on Managed Instances are not simulated yet"),
    ):
        if key in fn:
            ctx.fail((*path, key), f"not with managed_instances: {why}")


def _runtime_family(runtime: str) -> str | None:
    """python, nodejs, java, dotnet or provided, if this runtime version runs on Managed Instances."""
    if runtime == "provided.al2023":
        return "provided"
    for family, first in FIRST_LMI_VERSION.items():
        if runtime.startswith(family):
            digits = runtime[len(family) :].removesuffix(".x")
            version = tuple(int(part) for part in digits.split(".") if part.isdigit())
            return family if version >= first else None
    return None


def _memory_per_vcpu(ctx: Context, path: KeyPath, value: Any) -> int:
    if value is None:
        return MEMORY_PER_VCPU_DEFAULT_MB
    mb = round(value * 1024) if isinstance(value, (int, float)) else _megabytes(ctx, path, value)
    if not limits.LMI_MEMORY_PER_VCPU_MIN_MB <= mb <= limits.LMI_MEMORY_PER_VCPU_MAX_MB:
        ctx.fail(path, f"{mb / 1024:g} GiB per vCPU; Lambda allows 2 to 8 ({limits.LMI_API})")
        return MEMORY_PER_VCPU_DEFAULT_MB
    return mb


def _megabytes(ctx: Context, path: KeyPath, value: Any) -> int:
    try:
        return math.ceil(parse_size(value) / MB)
    except ValueError as exc:
        ctx.fail(path, str(exc))
        return 1
