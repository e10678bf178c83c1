"""The ipywidgets settings panel that ``%gemini`` shows where widgets render.

Only in a Jupyter kernel with ipywidgets installed; elsewhere ``%gemini`` shows the plain
settings table alone.  The panel edits the same traits ``%config`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gemini_magic.magics import GeminiMagics

#: Models offered in the picker besides the current one.
KNOWN_MODELS = (
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash-lite",
    "gemini-3-flash-preview",
)


def show_panel(magics: GeminiMagics) -> bool:
    """Display the panel if this front end can show widgets; return whether it did."""
    shell = magics.shell
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        panel = build_panel(magics)
    except ImportError:
        return False
    from IPython.display import display

    display(panel)
    return True


def build_panel(magics: GeminiMagics) -> Any:
    """The widgets: a model picker, a temperature slider, a new-conversation button.

    Raises ``ImportError`` when ipywidgets is not installed.
    """
    import ipywidgets as widgets

    options = list(dict.fromkeys([magics.model, *KNOWN_MODELS]))
    model = widgets.Dropdown(options=options, value=magics.model, description="Model")
    temperature = widgets.FloatSlider(
        value=1.0 if magics.temperature is None else magics.temperature,
        min=0.0,
        max=2.0,
        step=0.1,
        description="Temperature",
    )
    new = widgets.Button(description="New conversation", icon="refresh")
    message = widgets.Label()

    def set_model(change: dict[str, Any]) -> None:
        magics.model = change["new"]

    def set_temperature(change: dict[str, Any]) -> None:
        magics.temperature = change["new"]

    def new_conversation(_: object) -> None:
        magics.session.store.reset(None)
        magics.session.autosave()
        message.value = "All conversations were reset."

    model.observe(set_model, names="value")
    temperature.observe(set_temperature, names="value")
    new.on_click(new_conversation)
    return widgets.VBox([widgets.HBox([model, temperature]), widgets.HBox([new, message])])
