"""What every tool-group Lambda shares: routing by tool name, validation, logging, metrics, idempotency.

The AgentCore Gateway invokes a Lambda target with the bare tool arguments as ``event`` and the tool
name in ``context.client_context.custom["bedrockAgentCoreToolName"]`` as ``<target>___<tool>``.
Results are plain JSON objects; errors the model can fix come back as
``{"error": {"code", "message", "retryable"}}``; only real faults raise.

Nothing is built at import: the logger, metrics and tool context are made on the first invocation.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.dispatch import call_tool, validate_arguments
from eksdiag.tools.registry import ToolSpec, group_tools, split_name

TOOL_NAME_KEY = "bedrockAgentCoreToolName"
DEFAULT_NAMESPACE = "eksdiag"
#: Tools whose calls are made idempotent with the DynamoDB table (same request twice: one Automation).
IDEMPOTENT_TOOLS = frozenset({"nodelog___collect"})
IDEMPOTENCY_SECONDS = 900

_PER_CALL_KEYS = ("tool", "gateway_target", "gateway_request_id", "mcp_message_id")
_SECRET_KEY = re.compile(r"(?i)url|token|secret|password|credential|signature|authorization")
_SIGNED_URL = re.compile(r"(?i)https?://\S*(?:X-Amz-Signature|X-Amz-Credential|Signature=)\S*")


def redact(value: Any, key: str = "") -> Any:
    """A copy safe to log: values under secret-looking keys and every presigned URL are replaced."""
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, key) for v in value[:20]]
    if isinstance(value, str):
        if key and _SECRET_KEY.search(key):
            return "[redacted]"
        text = _SIGNED_URL.sub("[redacted-url]", value)
        return text if len(text) <= 300 else text[:300] + "..."
    return value


def tool_name_from_context(context: Any) -> str:
    """The ``<target>___<tool>`` name the gateway put in the client context, or a ToolError."""
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None) if client_context is not None else None
    if not isinstance(custom, Mapping):
        raise ToolError(
            "InvalidArgument",
            "missing client context: this function is an AgentCore Gateway Lambda target and needs the tool "
            f"name in context.client_context.custom[{TOOL_NAME_KEY!r}] (e.g. 'findings___errors')",
        )
    name = custom.get(TOOL_NAME_KEY)
    if not isinstance(name, str) or not name:
        raise ToolError(
            "InvalidArgument",
            f"client context has no {TOOL_NAME_KEY!r}; the gateway sends '<target>___<tool>'",
        )
    return name


@dataclass
class GroupRuntime:
    """Built once per cold start, on the first invocation."""

    group: str
    ctx: ToolContext
    logger: Any
    metrics: Any
    tracer: Any
    _idempotency: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def idempotency_layer(self) -> Any:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        with self._lock:
            if self._idempotency is None:
                self._idempotency = DynamoDBPersistenceLayer(
                    table_name=self.ctx.settings.table,
                    key_attr="pk",
                    sort_key_attr="sk",
                    static_pk_value=f"idempotency#eksdiag-{self.group}",
                    expiry_attr="expires_at",
                    boto3_client=self.ctx.aws("dynamodb"),
                )
            return self._idempotency


ContextFactory = Callable[[], ToolContext]


def _default_context() -> ToolContext:
    from eksdiag.adapters.context import aws_context

    return aws_context()


class _CurrentStdout:
    """A stream that always writes to the current ``sys.stdout`` (Lambda's log stream; tests swap it)."""

    def write(self, text: str) -> int:
        import sys

        return sys.stdout.write(text)

    def flush(self) -> None:
        import sys

        sys.stdout.flush()


def _observability(group: str) -> tuple[Any, Any, Any]:
    import os

    from aws_lambda_powertools import Logger, Metrics, Tracer

    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or f"eksdiag-{group}"
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    logger = Logger(service=service, stream=_CurrentStdout())  # type: ignore[arg-type]
    # Tracer switches itself off outside Lambda and when POWERTOOLS_TRACE_DISABLED is set.
    return logger, Metrics(namespace=namespace, service=service), Tracer(service=service)


class GroupHandler:
    """``handler = GroupHandler("findings")``; Lambda calls ``handler(event, context)``."""

    def __init__(self, group: str, context_factory: ContextFactory | None = None) -> None:
        self.group = group
        self._context_factory = context_factory or _default_context
        self._runtime: GroupRuntime | None = None
        self._lock = threading.Lock()

    def runtime(self) -> GroupRuntime:
        with self._lock:
            if self._runtime is None:
                logger, metrics, tracer = _observability(self.group)
                self._runtime = GroupRuntime(self.group, self._context_factory(), logger, metrics, tracer)
            return self._runtime

    def reset(self) -> None:
        """Forget the cold-start state (tests change the environment between cases)."""
        with self._lock:
            self._runtime = None

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        rt = self.runtime()
        rt.logger.remove_keys(list(_PER_CALL_KEYS))  # a warm container must not carry the last call's keys
        started = time.perf_counter()
        tool = "unknown"
        try:
            full_name = tool_name_from_context(context)
            target, tool = split_name(full_name)
            spec = group_tools(self.group).get(tool)
            if spec is None:
                available = sorted(group_tools(self.group))
                raise ToolError(
                    "NotFound",
                    f"unknown tool {full_name!r} for the {self.group} group",
                    details={"availableTools": [f"{self.group}___{name}" for name in available]},
                )
            custom = context.client_context.custom
            rt.logger.append_keys(
                tool=spec.full_name,
                gateway_target=target,
                gateway_request_id=custom.get("bedrockAgentCoreAwsRequestId"),
                mcp_message_id=custom.get("bedrockAgentCoreMcpMessageId"),
            )
            rt.logger.info("tool call", extra={"arguments": redact(event if isinstance(event, dict) else {})})
            with rt.tracer.provider.in_subsegment(f"## {spec.full_name}") as subsegment:
                subsegment.put_annotation(key="tool", value=spec.full_name)
                result = self._invoke(rt, spec, event, context)
        except ToolError as err:
            result = err.to_result()
        except Exception:
            rt.logger.exception("tool fault")
            self._emit(rt, tool, started, outcome="fault")
            raise
        outcome = result["error"]["code"] if "error" in result else "ok"
        rt.logger.info("tool result", extra={"outcome": outcome, "result_keys": sorted(result)[:20]})
        self._emit(rt, tool, started, outcome=outcome)
        return result

    def _invoke(self, rt: GroupRuntime, spec: ToolSpec, event: Any, context: Any) -> dict[str, Any]:
        if spec.full_name not in IDEMPOTENT_TOOLS:
            return call_tool(spec, event, rt.ctx)
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        clean = validate_arguments(spec.input_schema, event)
        config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS, raise_on_no_idempotency_key=True)
        if hasattr(context, "get_remaining_time_in_millis"):
            config.register_lambda_context(context)

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=rt.idempotency_layer(),
            config=config,
            key_prefix=spec.full_name,
        )
        def once(request: dict[str, Any]) -> dict[str, Any]:
            # A ToolError propagates, so Powertools deletes the record and an error is never replayed.
            return spec.run(request["args"], rt.ctx)

        try:
            return dict(once(request={"tool": spec.full_name, "args": clean}))
        except IdempotencyAlreadyInProgressError:
            raise ToolError(
                "Conflict",
                "the same request is already being processed; retry in a few seconds",
                retryable=True,
            ) from None

    def _emit(self, rt: GroupRuntime, tool: str, started: float, outcome: str) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        metrics = rt.metrics
        metrics.add_dimension(name="tool", value=tool if tool in group_tools(self.group) else "unknown")
        metrics.add_metric(name="ToolInvocations", unit=MetricUnit.Count, value=1)
        if outcome != "ok":
            metrics.add_metric(name="ToolErrors", unit=MetricUnit.Count, value=1)
        metrics.add_metric(
            name="ToolLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
        )
        metrics.flush_metrics()
