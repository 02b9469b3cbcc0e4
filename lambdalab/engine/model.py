"""A validated scenario as plain, frozen dataclasses: what the engine runs.

Times are float seconds, memory integer MB, sizes bytes. Everything here has
already passed the schema and Lambda's limits (see scenario.py), so the engine
never re-checks input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdalab.iam import Policy

JsonPath = tuple[str | int, ...]  # a path into an event: ("order", "id") or ("Records", 0, "body")


@dataclass(frozen=True)
class Distribution:
    """A duration model: `kind` is fixed, jitter, exponential, lognormal or uniform; `a`, `b` its parameters."""

    kind: str
    a: float
    b: float = 0.0


@dataclass(frozen=True)
class EventMatch:
    """A test on one value of the event, found by a JSON path such as $.order.id."""

    path: JsonPath  # ("order", "id") or ("Records", 0, "body")
    equals: Any = None
    has_equals: bool = False
    one_of: tuple[Any, ...] | None = None
    exists: bool | None = None


@dataclass(frozen=True)
class FilterValue:
    """One way a filter's leaf may match a value: `equals` a JSON value, start with a `prefix`, satisfy every
    `numeric` comparison, or `exists` (or not). Matched by engine/filters.py."""

    kind: str  # "equals", "prefix", "numeric" or "exists"
    value: Any  # the value; the prefix; ((op, number), ...); True or False


@dataclass(frozen=True)
class FilterPattern:
    """An event source mapping's filter, or a part of one: each field a nested pattern or a leaf's values."""

    fields: tuple[tuple[str, FilterPattern | tuple[FilterValue, ...]], ...]


@dataclass(frozen=True)
class Extension:
    """A Lambda extension (a layer's process beside the runtime): the time it takes in each phase."""

    name: str
    type: str = "external"  # or "internal" (a thread or wrapper in the runtime's own process)
    init: float = 0.0  # seconds of its Init, before the runtime's
    post_invoke: float = 0.0  # seconds it works on after each handler returns
    shutdown: float = 0.0  # seconds it asks for at Shutdown


@dataclass(frozen=True)
class ErrorRule:
    """When an invocation fails; every condition given must hold."""

    rate: float | None = None
    every: int | None = None
    on_cold_start: bool | None = None
    when: EventMatch | None = None
    error_type: str = "Exception"
    message: str = "Simulated failure"


@dataclass(frozen=True)
class Send:
    """Where the modelled code sends each record it got: "queue:NAME", "topic:NAME", "bus:NAME", or
    "function:NAME", invoked asynchronously unless `sync`."""

    target: str
    sync: bool = False


@dataclass(frozen=True)
class Behaviour:
    """A model of the function's code: how long Init and each invoke take, and when they fail."""

    init: Distribution
    duration: Distribution
    cold_start_extra: Distribution | None = None
    cpu_bound: float = 0.0  # share of `duration` that scales with the CPU share of memory
    measured_at: int = 128  # memory (MB) at which `duration` was measured
    threads: int = 1  # vCPUs the code can use at once
    memory_used: int = 64  # the REPORT line's Max Memory Used (MB); above the function's memory it runs out
    errors: tuple[ErrorRule, ...] = ()
    # What each successful invocation sends, as code using an AWS SDK does: each record it got, to each target.
    sends: tuple[Send, ...] = ()
    calls: tuple[Call, ...] = ()  # what each invocation calls over the network, in order (networking.py)


@dataclass(frozen=True)
class Call:
    """A network call the modelled code makes: to `internet` (a public API) or to an AWS service (dynamodb, s3,
    ...), taking `duration` once it is connected."""

    to: str
    duration: Distribution


@dataclass(frozen=True)
class VpcConfig:
    """A function attached to private subnets of a VPC: what its traffic can reach beyond the VPC."""

    nat_gateway: bool = False  # a route to a NAT gateway: the internet, and AWS services' public endpoints
    endpoints: tuple[str, ...] = ()  # VPC endpoints: the AWS services reachable without a NAT gateway


@dataclass(frozen=True)
class InstanceType:
    """An EC2 instance type a capacity provider launches, and its on-demand price."""

    type: str
    vcpus: int
    memory_mb: int
    hourly_usd: float


@dataclass(frozen=True)
class CapacityProvider:
    """Lambda Managed Instances' EC2 capacity: the instances Lambda launches for the functions on it, and how
    its scaler tracks their CPU (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-capacity-providers.html)."""

    name: str
    architecture: str
    instance: InstanceType
    max_vcpus: int
    target_utilization: float  # percent
    scaling_interval: float  # how often the scaler decides (s)
    scaling_delay: float  # how long after a decision a new environment serves (s)
    reserved_vcpus: float  # what each instance keeps for itself
    reserved_memory_mb: int


@dataclass(frozen=True)
class ManagedInstances:
    """A function's place on a capacity provider: the size of each execution environment and how many
    requests it serves at once."""

    capacity_provider: str
    memory_per_vcpu_mb: int
    vcpus: float  # per execution environment: memory / memory_per_vcpu, at least 1
    slots: int  # requests one execution environment serves at once
    min_environments: int
    max_environments: int


@dataclass(frozen=True)
class Alias:
    """A name for a version, or for two with weighted routing
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html)."""

    name: str
    version: str
    routing: tuple[tuple[str, float], ...] = ()  # at most one (version, weight): that share goes to it


@dataclass(frozen=True)
class RealCodeRef:
    """A function's real code: a folder and `module.function`. With no behaviour model, Init and
    Duration are measured from the code as it runs (so runs with real code repeat only as well as it does)."""

    folder: Path
    handler: str
    modelled_timing: bool  # the scenario gave init and duration: virtual time follows them, not the measurement


@dataclass(frozen=True)
class AsyncConfig:
    maximum_retry_attempts: int
    maximum_event_age: float
    on_success: str | None = None  # a destination key, "queue:NAME", "topic:NAME", "bus:NAME" or "function:NAME"
    on_failure: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """A step's retry strategy: the SDK's `RetryStrategyConfig`. The defaults are `RetryPresets.default()`
    of aws-durable-execution-sdk-python 3.0.0 (retries.py): 6 attempts, 5 s doubling to at most 60 s,
    full jitter, rounded up to whole seconds and at least 1 s."""

    attempts: int = 6
    initial: float = 5.0
    max: float = 60.0
    backoff: float = 2.0
    jitter: str = "full"  # full, half or none


@dataclass(frozen=True)
class DurableOp:
    """One durable operation of a modelled workflow (`durable.steps`), with what it needs of each kind:
    step (`duration`, failures, `retry`, `size`), wait (`wait_s`), callback (`timeout`, `heartbeat_timeout`,
    `duration` as the submitter's), parallel (`branches`) and map (`branches` holds the one `do` list)."""

    kind: str  # step, wait, callback, parallel or map
    name: str
    duration: Distribution = Distribution("fixed", 0.0)
    error_rate: float = 0.0
    error_type: str = "Exception"
    fails: int = 0  # the first N attempts fail
    retry: RetryPolicy = RetryPolicy()
    size: int = 0  # bytes of its checkpointed result
    on_error: str = "fail"  # fail or continue
    wait_s: float = 0.0
    timeout: float = 0.0  # a callback's; 0: none
    heartbeat_timeout: float = 0.0
    branches: tuple[tuple[DurableOp, ...], ...] = ()
    items: int = 0
    max_concurrency: int = 0  # 0: all at once
    completion: str = "all_successful"  # all_successful, first_successful or all_completed


@dataclass(frozen=True)
class DurableConfig:
    """`DurableConfig` of CreateFunction (https://docs.aws.amazon.com/lambda/latest/dg/durable-configuration.html)
    and the workflow the function's code runs."""

    execution_timeout: float
    retention: float
    steps: tuple[DurableOp, ...]
    reuse_closed_names: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    memory: int
    timeout: float
    architecture: str
    ephemeral_storage: int
    reserved_concurrency: int | None
    provisioned_concurrency: int
    idle_expiry: float
    environment: dict[str, str]
    behaviour: Behaviour
    async_config: AsyncConfig
    dead_letter_queue: str | None  # "queue:NAME" or "topic:NAME"
    description: str = ""
    code: RealCodeRef | None = None  # real handler code, run in worker processes, instead of (or timed by) `behaviour`
    resource_policy: Policy | None = None  # who may invoke it; None: only its own account's callers
    role_policies: tuple[Policy, ...] | None = None  # the execution role's; None: no role given, nothing checked
    role_trust: Policy | None = None  # the role's trust policy, when the scenario gives one
    version: str = "$LATEST"  # which version this is
    runtime: str = "python3.13"
    managed_instances: ManagedInstances | None = None  # on a capacity provider, as a published version
    versions: dict[str, Function] = field(default_factory=dict)  # published versions, by number ($LATEST only)
    aliases: dict[str, Alias] = field(default_factory=dict)
    # Tenant isolation mode: each environment serves one tenant id
    # (https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html).
    tenant_isolation: bool = False
    recursive_loop: str = "Terminate"  # or "Allow" (PutFunctionRecursionConfig's RecursiveLoop)
    durable: DurableConfig | None = None  # a durable function: each start is a durable execution
    extensions: tuple[Extension, ...] = ()
    vpc: VpcConfig | None = None  # None: not in a VPC, it reaches the internet and AWS services directly

    @property
    def claimed_concurrency(self) -> int:
        """What this function takes out of the account's unreserved pool: its reservation, or else its
        provisioned concurrency, its versions' included
        (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html)."""
        if self.reserved_concurrency is not None:
            return self.reserved_concurrency
        return self.provisioned_concurrency + sum(v.provisioned_concurrency for v in self.versions.values())


@dataclass(frozen=True)
class Queue:
    name: str
    fifo: bool = False
    visibility_timeout: float = 30.0
    max_receive_count: int | None = None
    dead_letter: str | None = None
    max_message_size: int = 1024 * 1024


@dataclass(frozen=True)
class Topic:
    name: str
    fifo: bool = False
    subscribers: tuple[str, ...] = ()  # "function:NAME" (invoked asynchronously) or "queue:NAME"


@dataclass(frozen=True)
class Bus:
    name: str
    targets: tuple[str, ...] = ()  # the targets of a rule that matches every event


@dataclass(frozen=True)
class Stream:
    """A Kinesis data stream or a DynamoDB table's stream: records spread over shards by partition key."""

    name: str
    kind: str  # "kinesis" or "dynamodb"
    shards: int = 1
    retention: float = 86_400.0
    backlog: int = 0  # records already in the stream when the run starts ...
    backlog_over: float = 0.0  # ... written evenly over this long before it
    backlog_event: Any = None
    # DynamoDB: the table's key schema, its partition key attribute and then its sort key's, if it has one.
    # Each record's Keys are these attributes of the item written.
    key: tuple[str, ...] = ("pk",)


@dataclass(frozen=True)
class KeyRule:
    """How a traffic generator picks each record's partition key (or each FIFO message's group id):
    from the event at a JSON path, one fixed key, a cycle of `count` keys, or (all empty) a new key each time."""

    path: JsonPath | None = None
    fixed: str = ""
    count: int = 0


@dataclass(frozen=True)
class Traffic:
    """One generator of requests: a steady or Poisson rate over a window, or a burst at one instant."""

    index: int
    target: str  # a function name, or "queue:NAME"
    invocation: str  # "sync" or "async"
    events: tuple[Any, ...]  # payloads, used in turn
    rate: float = 0.0  # per second; 0 for a burst
    ramp_to: float = 0.0  # per second: the rate rises linearly from `rate` to this over [start, end); 0: steady
    start: float = 0.0
    end: float = 0.0
    poisson: bool = False
    burst: int = 0
    name: str = ""
    qualifier: str = ""  # a version or alias of the target function ("" or "$LATEST": $LATEST)
    principal: str = ""  # who calls, when it is not the function's own account (s3.amazonaws.com, an ARN, ...)
    source_arn: str = ""
    source_account: str = ""
    key: KeyRule | None = None  # a stream's partition key or a FIFO queue's message group; None for the rest
    tenant: KeyRule | None = None  # the tenant id of each request to a function in tenant isolation mode
    # Durable functions: the execution's name (fixed, with {n}, or "" and `execution_name_path`), and for a
    # `callback:FUNCTION` target the callback's name and its outcome (success, failure or heartbeat).
    execution_name: str = ""
    execution_name_path: JsonPath | None = None
    callback: str = ""
    outcome: str = ""


@dataclass(frozen=True)
class ProvisionedPollers:
    """Provisioned mode of an SQS mapping: pollers kept between these bounds (ProvisionedPollerConfig)."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class EventSourceMapping:
    """Lambda's pollers reading an SQS queue or a stream and invoking a function with batches of its records.
    The stream-only settings keep AWS's defaults (-1: retry and keep records until they expire)."""

    index: int
    kind: str  # "queue" or "stream"
    source: str  # the queue's or stream's name
    function: str
    batch_size: int = 10
    batching_window: float = 0.0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None
    enabled: bool = True
    parallelization_factor: int = 1
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age: float = -1.0
    on_failure: str | None = None  # "queue:NAME" or "topic:NAME"
    starting_position: str = "TRIM_HORIZON"
    starting_position_time: float = 0.0  # AT_TIMESTAMP: virtual seconds (negative: before the run)
    tumbling_window: int = 0  # seconds; 0: none
    provisioned_pollers: ProvisionedPollers | None = None  # SQS provisioned mode; None: standard (on-demand) polling
    filters: tuple[FilterPattern, ...] = ()  # FilterCriteria: a record matching none never reaches the function


@dataclass(frozen=True)
class DeploymentPlan:
    """A CodeDeploy traffic shift of an alias to a version."""

    function: str
    alias: str
    to: str
    config: str
    start: float = 0.0
    errors_over: int | None = None


@dataclass(frozen=True)
class EdgeAssociation:
    """A CloudFront cache behaviour's trigger and the Lambda@Edge function version it runs."""

    trigger: str  # viewer-request, origin-request, origin-response or viewer-response
    function: str  # a Lambda@Edge function, or a CloudFront Function's name
    version: str  # "" for a CloudFront Function
    cloudfront_function: bool = False


@dataclass(frozen=True)
class Expectation:
    index: int
    metric: str
    op: str
    value: float
    function: str | None = None
    queue: str | None = None
    why: str = ""
    stream: str | None = None
    version: str | None = None  # one version of `function`: its figure in the report's by_version
    mapping: int | None = None  # an event source mapping, by its place in the scenario: its report entry
    capacity_provider: str | None = None


@dataclass(frozen=True)
class Account:
    concurrency: int
    unreserved_minimum: int
    region: str
    account_id: str
    idle_expiry: float
    count_managed_instances: bool = False  # whether LMI requests count toward the Region's concurrency (UNCONFIRMED)
    recursion_via_destinations: bool = False  # whether destinations and DLQs carry a request chain (UNCONFIRMED)
    durable_max_operations: int = 3000  # UNCONFIRMED quotas: see limits.DURABLE_MAX_OPERATIONS
    durable_max_data: int = 100 * 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    duration: float
    account: Account
    functions: dict[str, Function]
    queues: dict[str, Queue] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    buses: dict[str, Bus] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)
    traffic: tuple[Traffic, ...] = ()
    expect: tuple[Expectation, ...] = ()
    event_source_mappings: tuple[EventSourceMapping, ...] = ()
    deployments: tuple[DeploymentPlan, ...] = ()
    edge: dict[str, EdgeAssociation] = field(default_factory=dict)  # by trigger
    capacity_providers: dict[str, CapacityProvider] = field(default_factory=dict)
    source: str = ""

    @property
    def follows_chains(self) -> bool:
        """Whether request chains are followed (engine/recursion.py): only when some function's code sends, or
        destinations are said to carry a chain."""
        return self.account.recursion_via_destinations or any(
            v.behaviour.sends for fn in self.functions.values() for v in (fn, *fn.versions.values())
        )
