"""Lambda's documented limits, defaults and error names, each with its source.

The engine (the simulated Lambda), the runtime (real handlers in worker processes) and the validator read
them from here, so a limit AWS changes is changed in one place, and neither room reaches into the other for
it. Sources are AWS documentation pages; see shared/reference/lambda-facts.md for the dated history of each.
(runtime/worker.py runs beside learner code with the standard library only: it spells the error names out.)
"""

QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
SCALE = "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"
RESV = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
PROV = "https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html"
ROLE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
RBP = "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html"
ASYNC_ERR = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"
ASYNC_REC = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"
EIC = "https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html"
LIFE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html"
PRICE = "https://aws.amazon.com/lambda/pricing/"

# Memory: 128-10,240 MB in 1 MB steps, default 128 MB (QUOTAS).
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10_240
MEMORY_DEFAULT_MB = 128
# CPU is allocated in proportion to memory: 1,769 MB is about one vCPU, at most 6 vCPUs (QUOTAS).
MB_PER_VCPU = 1_769
MAX_VCPUS = 6

# Timeout: a whole number of seconds, 1-900, default 3 (QUOTAS).
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 900
TIMEOUT_DEFAULT_S = 3

# /tmp: 512-10,240 MB, default 512 MB (https://docs.aws.amazon.com/lambda/latest/api/API_EphemeralStorage.html).
EPHEMERAL_MIN_MB = 512
EPHEMERAL_MAX_MB = 10_240

# Environment variables: 4 KB for all keys and values together (QUOTAS).
ENVIRONMENT_MAX_BYTES = 4 * 1024

# Account concurrency per Region defaults to 1,000; at least 100 must stay unreserved (QUOTAS, RESV).
ACCOUNT_CONCURRENCY_DEFAULT = 1_000
UNRESERVED_MINIMUM_DEFAULT = 100

# Each function scales by up to 1,000 new execution environments every 10 seconds,
# refilled continuously; unused rate does not accumulate (SCALE).
SCALING_ENVIRONMENTS = 1_000
SCALING_PERIOD_S = 10.0

# Init has 10 s on demand; past it Lambda retries Init during the first invoke,
# bounded by the function timeout. Provisioned concurrency is exempt (LIFE).
INIT_LIMIT_S = 10.0

# Extensions: at most 10 per function; their Init runs before the runtime's, their work after a handler returns
# keeps the environment busy, counts toward the timeout and is billed (PostRuntimeExtensionsDuration); Shutdown
# gives them up to 2,000 ms with an external extension, 500 ms with internal ones only, 0 without (EXTAPI,
# shared/reference/lambda-facts.md "Shutdown").
EXTAPI = "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html"
EXTENSIONS_MAX = 10
SHUTDOWN_EXTERNAL_S = 2.0
SHUTDOWN_INTERNAL_S = 0.5

# Asynchronous invocation (EIC, ASYNC_ERR):
ASYNC_RETRIES_MIN = 0
ASYNC_RETRIES_MAX = 2
ASYNC_RETRIES_DEFAULT = 2
EVENT_AGE_MIN_S = 60
EVENT_AGE_MAX_S = 21_600
EVENT_AGE_DEFAULT_S = 21_600
# "about 1 minute before the first retry, about 2 minutes before the second" (ASYNC_ERR).
ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
# Throttled or system-failed events go back to the queue with backoff "from 1 second up to 5 minutes" (ASYNC_ERR).
ASYNC_BACKOFF_MIN_S = 1.0
ASYNC_BACKOFF_MAX_S = 300.0
# The asynchronous payload limit is 1 MB since October 2025 (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
ASYNC_PAYLOAD_MAX_BYTES = 1024 * 1024
# A dead-letter message carries the first 1 KB of the error message (ASYNC_REC).
DLQ_ERROR_MESSAGE_MAX_BYTES = 1024

# SQS messages can be up to 1 MiB (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
SQS_MESSAGE_MAX_BYTES = 1024 * 1024
# SQS default visibility timeout is 30 s (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).
SQS_VISIBILITY_DEFAULT_S = 30.0

# SQS event source mappings (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html,
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)
ESM = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html"
SQS_BATCH_DEFAULT = 10
SQS_BATCH_MAX = 10_000
SQS_BATCH_WITHOUT_WINDOW_MAX = 10  # larger batches need a batching window of at least 1 s
BATCHING_WINDOW_MAX_S = 300.0
SQS_POLLERS_START = 5  # concurrent batches when messages first arrive
SQS_POLLERS_PER_MINUTE = 300  # added each minute while messages remain
SQS_POLLERS_MAX = 1_000  # batches in flight per mapping
# Provisioned mode for SQS mappings (ProvisionedPollerConfig): MinimumPollers 2-200, default 2; MaximumPollers
# default 200, up to 10,000 in the current API (POLLERS_API; older pages say 2,000: UNCONFIRMED which holds,
# shared/reference/lambda-2026.md §8 item 6). Each poller carries at most 10 concurrent invokes and 10
# ReceiveMessage calls a second (1 MB/s); concurrency grows by up to 1,000 a minute, to at most 20,000; refused
# beside MaximumConcurrency
# (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html,
# https://aws.amazon.com/about-aws/whats-new/2025/11/aws-lambda-provisioned-mode-sqs-esm/).
SQS_PARAMS = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html"
# Event filtering: up to five filters per mapping by default (a quota increase allows ten), ORed.
FILTERING = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html"
FILTERS_PER_MAPPING = 5
POLLERS_API = "https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html"
SQS_MIN_POLLERS_MIN = 2
SQS_MIN_POLLERS_MAX = 200
SQS_MIN_POLLERS_DEFAULT = 2
SQS_MAX_POLLERS_MIN = 2
SQS_MAX_POLLERS_MAX = 10_000  # UNCONFIRMED bound (see above)
SQS_MAX_POLLERS_DEFAULT = 200
SQS_POLLER_INVOKES = 10  # concurrent invokes one poller carries
SQS_POLLER_RECEIVES_PER_S = 10  # ReceiveMessage calls one poller makes a second
SQS_MESSAGES_PER_RECEIVE = 10  # one ReceiveMessage call returns at most 10 messages
SQS_PROVISIONED_CONCURRENCY_PER_MINUTE = 1_000
SQS_PROVISIONED_CONCURRENCY_MAX = 20_000
# One SQS poller is one Event Poller Unit: $0.00925 per EPU-hour (us-east-1), billed per second with a 1-minute minimum;
# the configured minimum pollers are always billed (PRICE; shared/reference/lambda-2026.md §4.3).
PRICE_SQS_POLLER_HOUR_USD = 0.00925
POLLER_BILLING_MINIMUM_S = 60.0
# A mapping's batch is cut off before its payload passes 6 MB, the synchronous invocation limit (ESM):
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html
BATCH_PAYLOAD_MAX_BYTES = 6 * 1024 * 1024

# Pricing, US East (N. Virginia), first tier (PRICE): requests and GB-seconds.
PRICE_PER_REQUEST_USD = 0.20 / 1_000_000
PRICE_PER_GB_SECOND_USD = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
# Provisioned concurrency, x86_64: per GB-s configured, and the lower duration rate while it serves (PRICE; the
# figures come from secondary sources, see lambda-facts.md section 9). No arm64 figure has been confirmed, so
# arm64 is estimated with the on-demand arm64/x86_64 ratio; the report says "estimate" beside PC costs.
_ARM_RATIO = PRICE_PER_GB_SECOND_USD["arm64"] / PRICE_PER_GB_SECOND_USD["x86_64"]
PRICE_PC_PER_GB_SECOND_USD = {"x86_64": 0.0000041667, "arm64": 0.0000041667 * _ARM_RATIO}
PRICE_PC_DURATION_PER_GB_SECOND_USD = {"x86_64": 0.0000097222, "arm64": 0.0000097222 * _ARM_RATIO}
# Provisioned concurrency is charged in 5-minute increments (PRICE).
PC_BILLING_INCREMENT_S = 300.0
# CloudFront Functions: $0.10 per million invocations (shared/reference/lambda-facts.md §9, secondary sources).
CLOUDFRONT_FUNCTION_PRICE_USD = 0.10 / 1_000_000
# Free tier: 1 M requests and 400,000 GB-seconds a month, permanent; not for PC-enabled functions (PRICE).
FREE_TIER_REQUESTS = 1_000_000
FREE_TIER_GB_SECONDS = 400_000

# Kinesis and DynamoDB Streams event source mappings (KIN, DDB, ESM).
KIN = "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"
DDB = "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html"
STREAM_POLL_S = {"kinesis": 1.0, "dynamodb": 0.25}  # each shard polled once a second (Kinesis), 4 times (DynamoDB)
STREAM_BATCH_DEFAULT = 100
PARALLELIZATION_FACTOR_MAX = 10
STREAM_RETRY_ATTEMPTS_MAX = 10_000
STREAM_RECORD_AGE_MAX_S = 604_800.0  # 7 days
# Kinesis keeps records 24 hours by default, up to 365 days
# (https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html); DynamoDB Streams keep
# them 24 hours (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html).
STREAM_RETENTION_DEFAULT_S = 86_400.0
KINESIS_RETENTION_MAX_S = 365 * 86_400.0
# Tumbling windows (KIN_WINDOWS, DDB_WINDOWS): TumblingWindowInSeconds up to 900 (ESM; 0 means none); the state
# passed between a shard's invocations may be 1 MB, beyond which Lambda ends the window early.
KIN_WINDOWS = "https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html"
DDB_WINDOWS = "https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html"
TUMBLING_WINDOW_MAX_S = 900
TUMBLING_STATE_MAX_BYTES = 1024 * 1024
# A FIFO queue's mapping takes at most 10 messages a batch (ESM).
SQS_FIFO_BATCH_MAX = 10

# The errorType of an invocation that ran out of time or memory, as Lambda reports them
# (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html and LIFE).
TIMEOUT_ERROR = "Sandbox.Timedout"
OUT_OF_MEMORY_ERROR = "Runtime.OutOfMemory"

# Lambda Managed Instances (LMI): functions on EC2 capacity that Lambda manages; each execution environment
# serves many requests at once (shared/reference/lambda-2026.md §1).
LMI = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances.html"
LMI_SCALE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-scaling.html"
LMI_EE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html"
LMI_API = "https://docs.aws.amazon.com/lambda/latest/api/API_LambdaManagedInstancesCapacityProviderConfig.html"
# Memory: at least 2,048 MB and 1 vCPU, at most 32,768 MB (LMI_SCALE; the API's MemorySize maximum).
LMI_MEMORY_MIN_MB = 2_048
LMI_MEMORY_MAX_MB = 32_768
# ExecutionEnvironmentMemoryGiBPerVCpu: 2.0-8.0 GiB per vCPU (LMI_API); 4 is the agent toolkit's default.
LMI_MEMORY_PER_VCPU_MIN_MB = 2_048
LMI_MEMORY_PER_VCPU_MAX_MB = 8_192
# PerExecutionEnvironmentMaxConcurrency: 1-1,600 (LMI_API; the scenario schema holds the range). The default is
# per vCPU and per runtime: Python runs
# one process per request (16 per vCPU), Node.js 64, Java and .NET 32 (the LMI runtime pages under LMI_SCALE);
# AWS gives no figure for provided.al2023 (UNCONFIRMED: lambdalab uses Python's).
LMI_SLOTS_PER_VCPU = {"python": 16, "nodejs": 64, "java": 32, "dotnet": 32, "provided": 16}
# Min/MaxExecutionEnvironments: 0-15,000 (API_PutFunctionScalingConfig); Lambda starts 3 at publish (LMI_SCALE).
LMI_ENVIRONMENTS_MAX = 15_000
LMI_ENVIRONMENTS_AT_PUBLISH = 3
LMI_INSTANCES_MIN = 3  # one per Availability Zone, kept running (LMI_SCALE; the pricing page's note on idle capacity)
# A capacity provider's MaxVCpuCount: 2-15,000 (API; the scenario schema holds the range), default 400 (agent toolkit).
LMI_MAX_VCPUS_DEFAULT = 400
# "If your traffic more than doubles within 5 minutes, you may see throttles" (LMI_SCALE).
LMI_DOUBLING_PERIOD_S = 300.0
# Timeouts: synchronous invokes stop at 900 s; asynchronous and event source mapping invokes may run 5,400 s
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
LMI_SYNC_TIMEOUT_MAX_S = 900
LMI_TIMEOUT_MAX_S = 5_400
# Billing: the EC2 instance price, plus a management fee of 15 % of the on-demand price, plus $0.20 per
# million requests; no charge for duration (PRICE, "Lambda Managed Instances"). The default instance is the
# pricing page's example, m7g.xlarge at $0.1632 an hour. EC2 bills per second with a 60 s minimum
# (https://aws.amazon.com/ec2/pricing/on-demand/).
LMI_MANAGEMENT_FEE = 0.15
LMI_DEFAULT_INSTANCE = {"type": "m7g.xlarge", "vcpus": 4, "memory_mb": 16_384, "hourly_usd": 0.1632}
EC2_MINIMUM_BILLED_S = 60.0

# Tenant isolation mode (https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html): each execution
# environment serves one tenant id. The id is 1-256 characters of [a-zA-Z0-9._:/=+-@ ] (Invoke's X-Amz-Tenant-Id,
# https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); invoking an isolated function without one, or
# a normal function with one, is refused with InvalidParameterValueException, and a function keeps at most
# 2,500 tenant environments (busy or idle) per 1,000 concurrent executions it may run, past which Invoke answers
# 429 "Rate exceeded" (TENANT_TS).
TENANT = "https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html"
TENANT_TS = "https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-troubleshooting.html"
TENANT_ID_MAX_CHARS = 256
TENANT_ID_CHARACTERS = "letters, digits, spaces and . _ : / = + - @"
TENANT_ENVIRONMENTS_PER_1000 = 2_500
INVALID_PARAMETER_ERROR = "InvalidParameterValueException"
TENANT_LIMIT_MESSAGE = "Rate exceeded"
# Each tenant environment Lambda creates is charged once, scaled by memory: the pricing page's example is
# $0.000167 per environment at 1,024 MB on x86_64 (PRICE). No arm64 figure is given; lambdalab charges arm64
# the same (UNCONFIRMED).
PRICE_TENANT_ENVIRONMENT_PER_GB_USD = 0.000167

# Recursive loop detection (RECUR): Lambda counts a function's invocations in one chain of requests (metadata
# that supported AWS SDKs carry from an event to what the code sends) and, when a function "is invoked more than
# 16 times as part of a request chain, Lambda interrupts the next invocation"
# (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html; RECUR says "approximately 16").
# A stopped invoke fails with RecursiveInvocationException, HTTP 400
# (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
RECUR = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html"
RECURSION_MAX_INVOCATIONS = 16
RECURSION_ERROR = "RecursiveInvocationException"
RECURSION_STATUS = 400

# Durable functions (DF, DF-CFG, DF-INV, DF-IDEM pages under https://docs.aws.amazon.com/lambda/latest/dg/:
# durable-functions.html, durable-configuration.html, durable-invoking.html, durable-execution-idempotency.html).
DF = "https://docs.aws.amazon.com/lambda/latest/dg/durable-functions.html"
DF_CFG = "https://docs.aws.amazon.com/lambda/latest/dg/durable-configuration.html"
DF_INV = "https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking.html"
# DurableConfig.ExecutionTimeout 1 - 31,622,400 s (366 days), required; RetentionPeriodInDays 1-90, default 14
# (SAM, CDK and the pricing page; one API doc string says 30: UNCONFIRMED, hence a setting) (DF_CFG).
DURABLE_EXECUTION_TIMEOUT_MIN_S = 1
DURABLE_EXECUTION_TIMEOUT_MAX_S = 31_622_400
DURABLE_RETENTION_MIN_S = 86_400
DURABLE_RETENTION_MAX_S = 90 * 86_400
DURABLE_RETENTION_DEFAULT_S = 14 * 86_400
# A wait lasts at least 1 s (the SDK's ValidationError below it; API WaitSeconds 1 - 31,622,400).
DURABLE_WAIT_MIN_S = 1.0
# A synchronous caller waits for the whole execution, at most 15 minutes (DF_INV).
DURABLE_SYNC_MAX_S = 900.0
# Execution names: 1-64 of [a-zA-Z0-9-_], unique per account and Region (API DurableExecutionName; DF-IDEM).
DURABLE_NAME_MAX = 64
# An operation's checkpointed payload (a step's result): at most 1 MB (API OperationUpdate.Payload).
DURABLE_PAYLOAD_MAX_BYTES = 1024 * 1024
# Quotas per execution, seen only in secondary notes quoting the quotas page (one SDK says 25,000
# operations): UNCONFIRMED, so account settings with these defaults.
DURABLE_MAX_OPERATIONS = 3_000
DURABLE_MAX_DATA_BYTES = 100 * 1024 * 1024
# Pricing (PRICE, durable functions section): operations $8.00 per million (start 1, step 1 + retries, wait 1,
# wait_for_callback 3 + retries, parallel/map 1 + one per branch or item), data written $0.25 per GB, data
# retained (while running and for the retention period after) $0.15 per GB-month, prorated.
PRICE_DURABLE_OPERATION_USD = 8.00 / 1_000_000
PRICE_DURABLE_WRITTEN_PER_GB_USD = 0.25
PRICE_DURABLE_RETAINED_PER_GB_MONTH_USD = 0.15
# The month a GB-month is prorated over: AWS's pricing calculator's 730 hours (UNCONFIRMED for this price).
GB_MONTH_S = 730 * 3600.0
# Error names (the SDK's exceptions, aws-durable-execution-sdk-python 3.0.0, and the API's).
DURABLE_ALREADY_STARTED = "DurableExecutionAlreadyStartedException"
DURABLE_STEP_ERROR = "StepError"
DURABLE_CALLBACK_TIMEOUT = "CallbackTimeoutError"
DURABLE_CALLBACK_FAILED = "CallbackExternalError"
# What lambdalab calls an execution stopped by the quotas above (AWS's error name not seen: UNCONFIRMED).
DURABLE_LIMIT_EXCEEDED = "DurableExecutionLimitExceeded"
