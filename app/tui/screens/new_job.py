"""New job: pick a workflow, an input file (with path completion) and options
(a form built from the workflow's options model), then plan."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Select, Static, Switch

from app.tui.inputs import PathSuggester, load_unit_file
from app.tui.screens.base import BaseScreen
from app.tui.widgets.header import Banner
from engine.errors import PhasegridError
from rpc.principal import local


def _kind(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "enum"
    if "$ref" in prop or "allOf" in prop:
        return "object"  # a nested option group: edited as JSON
    t = prop.get("type")
    if t is None and "anyOf" in prop:
        types = [a.get("type") for a in prop["anyOf"] if a.get("type") != "null"]
        t = types[0] if types else "string"
    return t or "string"


class NewJobScreen(BaseScreen):
    BINDINGS = [
        Binding("ctrl+s", "plan", "Plan", id="new.plan"),
        Binding("escape", "app.pop_screen", "Back", id="new.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, tuple[str, Any]] = {}

    def compose(self) -> ComposeResult:
        if self.pg.simulated:
            yield Banner()
        yield Static("New job", classes="screen-title")
        workflows = self.engine.workflows()
        options = [(f"{w.title}  ({w.name})", w.name) for w in workflows]
        with VerticalScroll(id="new-form"):
            yield Label("Workflow")
            yield Select(
                options, id="workflow", allow_blank=False, value=self.pg.default_workflow()
            )
            yield Label("Input file (CSV or JSON; → completes the path)")
            yield Input(placeholder="units.csv", id="path", suggester=PathSuggester())
            yield Static("Options", classes="section")
            yield VerticalScroll(id="options")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Plan", id="plan", variant="primary")
        yield Footer()

    async def on_mount(self) -> None:
        await self._build_options()

    async def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "workflow":
            await self._build_options()

    async def _build_options(self) -> None:
        box = self.query_one("#options", VerticalScroll)
        await box.remove_children()
        self.fields.clear()
        name = self.query_one("#workflow", Select).value
        if not isinstance(name, str):
            return
        schema = self.engine.describe(name).options_schema or {}
        widgets = []
        for field, prop in (schema.get("properties") or {}).items():
            kind = _kind(prop)
            default = prop.get("default")
            label = prop.get("title") or field
            if prop.get("description"):
                label += f" - {prop['description']}"
            widgets.append(Label(label))
            wid = f"opt-{field}"
            if kind == "boolean":
                w: Any = Switch(value=bool(default), id=wid)
            elif kind == "enum":
                w = Select(
                    [(str(v), v) for v in prop["enum"]],
                    id=wid,
                    allow_blank=False,
                    value=default if default in prop["enum"] else prop["enum"][0],
                )
            else:
                w = Input(
                    value="" if default is None else str(default),
                    id=wid,
                    type={"integer": "integer", "number": "number"}.get(kind, "text"),
                )
            self.fields[field] = (kind, w)
            widgets.append(w)
        if not widgets:
            widgets.append(Label("(this workflow has no options)"))
        await box.mount_all(widgets)

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, (kind, w) in self.fields.items():
            value = w.value
            if kind in ("integer", "number") and isinstance(value, str):
                if value.strip() == "":
                    continue
                value = int(value) if kind == "integer" else float(value)
            elif kind not in ("boolean", "enum") and value == "":
                continue
            elif kind in ("array", "object") and isinstance(value, str):
                import json

                value = json.loads(value)
            out[field] = value
        return out

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "plan":
            await self.action_plan()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        await self.action_plan()

    async def action_plan(self) -> None:
        err = self.query_one("#form-error", Static)
        workflow = self.query_one("#workflow", Select).value
        path = self.query_one("#path", Input).value.strip()
        if not path:
            err.update(Text("Choose an input file.", "red"))
            return
        try:
            loader = self.engine.registry.get(workflow).extra.get("load_input")
            units, implied = load_unit_file(path, loader)
            options = {**implied, **self.options()}
            err.update("Planning (reading the tenant's inventory)...")
            plan = await self.engine.plan(workflow, units, options, principal=local())
        except PhasegridError as exc:
            err.update(Text(f"{exc.kind}: {exc}", "red"))
            return
        except ValueError as exc:
            err.update(Text(f"invalid option: {exc}", "red"))
            return
        err.update("")
        from app.tui.screens.plan import PlanReviewScreen

        self.app.switch_screen(PlanReviewScreen(plan))
