"""MCP face: every service operation as a tool of an official-SDK `MCPServer`.

Tools are generated from the operation table (rpc/service.py): the params
model's fields become the tool's arguments (input schema), the result model
its output schema (structured content). Reads are annotated read-only;
confirm, cancel and cleanup destructive. `wait_for_job` reports progress;
`confirm_job` asks the human through elicitation when the client supports it
(in both protocol eras: the SDK's resolver sends `elicitation/create` to a
2025-11-25 session and returns `input_required` to a 2026-07-28 client).

Engine errors come back as tool errors (`isError`) whose text starts with the
stable kind, e.g. `digest_mismatch: ...`, so an agent can read and react.
"""

import inspect
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.server.mcpserver.tools import Tool
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticUndefined

from engine import Engine
from engine.backoff import store_unavailable
from engine.errors import PhasegridError
from engine.models import JobStatus, JobView
from rpc.errors import STORE_UNAVAILABLE, store_error, validation_errors
from rpc.schemas import ConfirmParams, WaitParams
from rpc.service import BY_TOOL, OPERATIONS, Operation, call

log = logging.getLogger("phasegrid.mcp")

INSTRUCTIONS = (
    "phasegrid plans, confirms, runs and watches bulk rollouts (RUCKUS One). Workflow: "
    "list_workflows / describe_workflow -> plan_job (writes nothing) -> show the plan's "
    "headline, conflicts and estimates to the user -> confirm_job with the job_id and the "
    "digest ONLY after the user agrees -> wait_for_job / get_job / list_units. Destructive "
    "plans (plan_cleanup, cleanup workflows) also need the confirm_text the user typed."
)

EngineRef = Callable[[], Engine]


class ConfirmRun(BaseModel):
    confirm: bool = Field(description="Run this plan now")


class ConfirmTyped(BaseModel):
    confirm_text: str = Field(description="Type the text named above to confirm the deletion")


class NotAsked(BaseModel):
    """The client cannot elicit: the agent's own confirmation stands."""

    asked: bool = False


def tool_error(exc: PhasegridError) -> ToolError:
    if exc.kind == "redis_unavailable":
        return ToolError(f"{exc.kind}: {STORE_UNAVAILABLE}")
    text = f"{exc.kind}: {exc.message}"
    if exc.details:
        text += "\n" + "\n".join(f"  {d}" for d in exc.details[:50])
    return ToolError(text)


def internal_error(op: Operation, exc: BaseException | None = None) -> ToolError:
    ref = uuid.uuid4().hex[:12]
    log.exception("mcp tool %s failed (ref %s)", op.tool, ref)
    mapped = store_error(exc) if exc is not None else None
    if mapped is not None and mapped[2] == "redis_unavailable":
        return ToolError(f"redis_unavailable: {STORE_UNAVAILABLE} (ref {ref})")
    return ToolError(f"internal: the server failed to run {op.tool} (ref {ref})")


def _signature(op: Operation, extra: dict[str, Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """A signature mirroring the params model (so the SDK derives the same schema)."""
    params = []
    annotations: dict[str, Any] = {}
    for name, field in op.params.model_fields.items():
        ann = Annotated[(field.annotation, *field.metadata, Field(description=field.description))]
        default = inspect.Parameter.empty
        if field.default is not PydanticUndefined:
            default = field.default
        elif field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=ann))  # fmt: skip
        annotations[name] = ann
    for name, ann in extra.items():
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann))
        annotations[name] = ann
    annotations["return"] = op.result
    return inspect.Signature(params, return_annotation=op.result), annotations


def _params(op: Operation, kwargs: dict[str, Any]) -> Any:
    try:
        return op.params.model_validate(kwargs)
    except ValidationError as exc:
        lines = "; ".join(f"{e.path}: {e.message}" for e in validation_errors(exc))
        raise ToolError(f"invalid_params: {lines}") from None


def _make_tool(engine: EngineRef, op: Operation) -> Callable[..., Any]:
    async def tool(**kwargs: Any) -> Any:
        kwargs.pop("ctx", None)
        params = _params(op, kwargs)
        try:
            return await call(engine(), op, params)
        except PhasegridError as exc:
            raise tool_error(exc) from None
        except Exception as exc:
            raise internal_error(op, exc) from None

    sig, ann = _signature(op, {"ctx": Context})
    tool.__signature__ = sig  # type: ignore[attr-defined]
    tool.__annotations__ = ann
    tool.__name__ = op.tool
    return tool


def progress_text(view: JobView) -> str:
    u = view.units_by_state
    failed = u.get("failed", 0) + u.get("blocked", 0)
    eta = f", ETA {view.eta_seconds:.0f}s" if view.eta_seconds is not None else ""
    return (
        f"{view.status.value}: {u.get('succeeded', 0)}/{view.units_total} units done, "
        f"{failed} failed, {view.progress * 100:.0f}% of steps{eta}"
    )


def _make_wait(engine: EngineRef, op: Operation) -> Callable[..., Any]:
    async def wait_for_job(**kwargs: Any) -> Any:
        ctx: Context = kwargs.pop("ctx")
        p: WaitParams = _params(op, kwargs)
        deadline = time.monotonic() + p.timeout
        sent = -1.0
        try:
            while True:
                left = deadline - time.monotonic()
                with store_unavailable():
                    view = await engine().wait(p.job_id, timeout=max(0.0, min(0.5, left)))
                done = float(view.transitions_done)
                if done > sent:
                    sent = done
                    await ctx.report_progress(
                        done, float(view.transitions_total or 1), progress_text(view)
                    )
                settled = view.status.terminal or view.status in (
                    JobStatus.PAUSED,
                    JobStatus.AWAITING_CONFIRMATION,
                )
                if settled or deadline - time.monotonic() <= 0:
                    return view
        except PhasegridError as exc:
            raise tool_error(exc) from None
        except Exception as exc:
            raise internal_error(op, exc) from None

    sig, ann = _signature(op, {"ctx": Context})
    wait_for_job.__signature__ = sig  # type: ignore[attr-defined]
    wait_for_job.__annotations__ = ann
    wait_for_job.__name__ = op.tool
    return wait_for_job


def _supports_elicitation(ctx: Context) -> bool:
    try:
        caps = ctx.client_capabilities
    except Exception:
        return False
    el = caps.elicitation if caps is not None else None
    return el is not None and (el.form is not None or el.url is None)


def _make_confirm(engine: EngineRef, op: Operation) -> Callable[..., Any]:
    async def ask_user(job_id: str, digest: str, ctx: Context) -> Any:
        if not _supports_elicitation(ctx):
            return NotAsked()
        try:
            with store_unavailable():
                view = await engine().get(job_id)
                plan = await engine().get_plan(job_id)
        except PhasegridError:
            return NotAsked()  # the confirm itself reports the error
        if view.status != JobStatus.AWAITING_CONFIRMATION or plan.digest != digest:
            return NotAsked()  # wrong state or digest: refused without bothering the user
        s = plan.summary
        text = (
            f"Confirm job {job_id} ({plan.workflow}): {s.headline()}; "
            f"about {s.estimated_calls} API calls, {s.estimate_text()}. Digest {digest[:12]}."
        )
        if s.destructive and s.confirm_text:
            return Elicit(
                f"{text} This DELETES resources: type {s.confirm_text!r} to confirm.",
                ConfirmTyped,
            )
        return Elicit(f"{text} Run it now?", ConfirmRun)

    ask_user.__annotations__ = {"job_id": str, "digest": str, "ctx": Context, "return": Any}

    async def confirm_job(**kwargs: Any) -> Any:
        kwargs.pop("ctx", None)
        answer: ElicitationResult[Any] = kwargs.pop("user_answer")
        p: ConfirmParams = _params(op, kwargs)
        if not isinstance(answer, AcceptedElicitation):
            raise ToolError("not_confirmed: the user did not confirm; nothing was started")
        data = answer.data
        if isinstance(data, ConfirmRun) and not data.confirm:
            raise ToolError("not_confirmed: the user declined; nothing was started")
        if isinstance(data, ConfirmTyped):
            p = p.model_copy(update={"confirm_text": data.confirm_text})
        try:
            return await call(engine(), op, p)
        except PhasegridError as exc:
            raise tool_error(exc) from None
        except Exception as exc:
            raise internal_error(op, exc) from None

    sig, ann = _signature(
        op,
        {
            "ctx": Context,
            "user_answer": Annotated[ElicitationResult[Any], Resolve(ask_user)],
        },
    )
    confirm_job.__signature__ = sig  # type: ignore[attr-defined]
    confirm_job.__annotations__ = ann
    confirm_job.__name__ = op.tool
    return confirm_job


def _quiet(tool: Tool) -> Tool:
    """The SDK validates arguments itself and puts str(ValidationError) in the tool
    error, `input_value=...` included (a passphrase, say): hide the inputs."""
    meta = tool.fn_metadata
    config = {**meta.arg_model.model_config, "hide_input_in_errors": True}
    meta.arg_model = type(meta.arg_model.__name__, (meta.arg_model,), {"model_config": config})
    return tool


class HideTransportEcho:
    """ASGI wrapper of the `/mcp` routes: the SDK's HTTP transport answers a message
    that is not JSON-RPC with a 400 quoting pydantic (`input_value=...`); keep the
    status and code, drop the quoted values."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/mcp"):
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def guarded(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if not message.get("more_body"):
                for m in _without_echo(held):
                    await send(m)

        await self.app(scope, receive, guarded)


def _without_echo(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
    try:
        doc = json.loads(body)
        text = doc["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return messages
    if not isinstance(text, str) or not text.startswith("Validation error"):
        return messages
    doc["error"]["message"] = "Validation error: not a valid JSON-RPC 2.0 message"
    new = json.dumps(doc, separators=(",", ":")).encode()
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(new)).encode()))
    return [{**start, "headers": headers}, {"type": "http.response.body", "body": new}]


def build_mcp(engine: Engine | EngineRef, *, name: str = "phasegrid") -> MCPServer:
    """An `MCPServer` exposing every operation; `engine` may be a zero-arg getter."""
    ref: EngineRef = engine if callable(engine) and not isinstance(engine, Engine) else (
        lambda: engine  # type: ignore[return-value]
    )  # fmt: skip
    tools = []
    for op in OPERATIONS:
        if op.tool == "wait_for_job":
            fn = _make_wait(ref, op)
        elif op.tool == "confirm_job":
            fn = _make_confirm(ref, op)
        else:
            fn = _make_tool(ref, op)
        tool = Tool.from_function(
            fn,
            name=op.tool,
            title=op.title,
            description=op.description,
            annotations=ToolAnnotations(
                title=op.title,
                read_only_hint=op.read_only,
                destructive_hint=op.destructive,
                idempotent_hint=op.idempotent,
                open_world_hint=(not op.read_only) if op.open_world is None else op.open_world,
            ),
            structured_output=True,
        )
        tools.append(_quiet(tool))
    return MCPServer(name, instructions=INSTRUCTIONS, log_level="WARNING", tools=tools)


__all__ = ["BY_TOOL", "build_mcp"]
