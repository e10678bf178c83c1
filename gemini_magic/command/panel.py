"""The ipywidgets settings panel that ``%gemini`` shows where widgets render.

Only in a Jupyter kernel with ipywidgets installed; elsewhere ``%gemini`` shows the plain
settings table alone.  The panel edits the same traits ``%config`` sets, both ways: a
widget's change goes through the command's setter, and a trait's change (``%config``,
another panel) is watched and shown in the widget, so the panel and ``%config`` never
disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.display import display

from gemini_magic.command.context import Context

#: Models offered in the picker besides the current one.
KNOWN_MODELS = (
    "gemini-3.8-flash",
    "gemini-3.5-flash",
    "gemini-3.1-pro-preview",
)


def show_panel(context: Context) -> bool:
    """Display the panel if this front end can show widgets; return whether it did."""
    if context.shell is None or getattr(context.shell, "kernel", None) is None:
        return False
    try:
        panel = build_panel(context)
    except ImportError:
        return False
    display(panel)
    return True


def build_panel(context: Context) -> Any:
    """The widgets: a model picker, a temperature slider, a new-conversation button.

    Raises ``ImportError`` when ipywidgets is not installed.
    """
    import ipywidgets as widgets

    session, settings = context.session, context.settings
    options = list(dict.fromkeys([settings.model, *KNOWN_MODELS]))
    model = widgets.Dropdown(options=options, value=settings.model, description="Model")
    # None (the model's default) has no slider position: the slider shows 1.0 and the
    # trait stays None until the slider is moved.
    temperature = widgets.FloatSlider(
        value=1.0 if settings.temperature is None else settings.temperature,
        min=0.0,
        max=2.0,
        step=0.1,
        description="Temperature",
    )

    def show_model(name: str) -> None:
        if name not in model.options:  # a model %config named that the picker lacks
            model.options = [*model.options, name]
        model.value = name

    def show_temperature(value: float | None) -> None:
        if value is not None:
            temperature.value = value

    _follow(context, model, "model", show_model)
    _follow(context, temperature, "temperature", show_temperature)

    new = widgets.Button(description="New conversation", icon="refresh")
    message = widgets.Label()

    def new_conversation(_: object) -> None:
        session.store.reset(None)
        session.autosave()
        message.value = "All conversations were reset."

    new.on_click(new_conversation)
    return widgets.VBox([widgets.HBox([model, temperature]), widgets.HBox([new, message])])


def _follow(context: Context, widget: Any, name: str, show: Callable[[Any], None]) -> None:
    """Link ``widget`` to the trait ``name`` both ways, as ``traitlets.link`` would.

    The user's edit goes through the setter; a change of the trait is shown with
    ``show``.  While it is being shown, the widget's own changes are not edits: the
    picker passes through other values while it gains an option, and none of them may
    be written back to the trait.
    """
    showing: list[bool] = []

    def edited(change: dict[str, Any]) -> None:
        if not showing:
            context.set_option(name, change["new"])

    def changed(value: Any) -> None:
        showing.append(True)
        try:
            show(value)
        finally:
            showing.pop()

    widget.observe(edited, names="value")
    context.watch_option(name, changed)
