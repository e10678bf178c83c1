"""The ipywidgets settings panel that ``%gemini`` shows where widgets render.

Only in a Jupyter kernel with ipywidgets installed; elsewhere ``%gemini`` shows the plain
settings table alone.  The widgets are linked to the same traits ``%config`` sets
(``traitlets.link``, both ways), so the panel and ``%config`` never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from traitlets import HasTraits

    from gemini_magic.session import GeminiSession

#: Models offered in the picker besides the current one.
KNOWN_MODELS = (
    "gemini-3.8-flash",
    "gemini-3.5-flash",
    "gemini-3.1-pro-preview",
)


def show_panel(configurable: HasTraits, session: GeminiSession) -> bool:
    """Display the panel if this front end can show widgets; return whether it did."""
    shell = getattr(configurable, "shell", None)
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        panel = build_panel(configurable, session)
    except ImportError:
        return False
    from IPython.display import display

    display(panel)
    return True


def build_panel(configurable: HasTraits, session: GeminiSession) -> Any:
    """The widgets: a model picker, a temperature slider, a new-conversation button.

    ``configurable`` holds the ``model`` and ``temperature`` traits.  Raises
    ``ImportError`` when ipywidgets is not installed.
    """
    import ipywidgets as widgets
    from traitlets import link

    current = configurable.model  # type: ignore[attr-defined]
    chosen = configurable.temperature  # type: ignore[attr-defined]
    options = list(dict.fromkeys([current, *KNOWN_MODELS]))
    model = widgets.Dropdown(options=options, value=current, description="Model")
    temperature = widgets.FloatSlider(
        value=1.0 if chosen is None else chosen,
        min=0.0,
        max=2.0,
        step=0.1,
        description="Temperature",
    )
    # A link first copies the widget's value to the trait: both already agree.
    link((model, "value"), (configurable, "model"))
    if chosen is not None:
        link((temperature, "value"), (configurable, "temperature"))
    else:
        # None (the model's default) has no slider position: the slider takes over
        # once it is moved.
        def take_over(change: dict[str, Any]) -> None:
            temperature.unobserve(take_over, names="value")
            link((temperature, "value"), (configurable, "temperature"))

        temperature.observe(take_over, names="value")
    new = widgets.Button(description="New conversation", icon="refresh")
    message = widgets.Label()

    def new_conversation(_: object) -> None:
        session.store.reset(None)
        session.autosave()
        message.value = "All conversations were reset."

    new.on_click(new_conversation)
    return widgets.VBox([widgets.HBox([model, temperature]), widgets.HBox([new, message])])
