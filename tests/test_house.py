"""The shape of the package (issue 10): each test names the defect it guards against."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pandas as pd
import pytest

from gemini_magic.errors import GeminiMagicError, UsageError
from tests.helpers.magic import run_cell
from tests.helpers.wire import generate_requests, inline_blobs

PACKAGE = Path(__file__).resolve().parent.parent / "gemini_magic"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) >= 400
    }
    assert long == {}


def test_nothing_below_the_magic_imports_the_magics_class():
    importers = []
    for path in _modules():
        if path.name in ("magics.py", "__init__.py") and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "gemini_magic.magics":
                importers.append(str(path.relative_to(PACKAGE)))
    assert importers == []


def test_a_frame_reaches_the_request_body_in_at_most_four_package_calls(ip, emulator):
    """From the cell magic to the SDK call, at most four package frames stand between."""
    depths: list[int] = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "generate_content_stream":
            stack, f = [], frame.f_back
            while f is not None:
                if f.f_code.co_filename.startswith(str(PACKAGE)):
                    stack.append(f.f_code.co_name)
                f = f.f_back
            depths.append(len(stack) - 1)  # the magic itself does not count

    ip.user_ns["sales"] = pd.DataFrame({"x": [1, 2]})
    sys.setprofile(profile)
    try:
        run = run_cell(ip, "%%gemini\nSum x in {sales}.")
    finally:
        sys.setprofile(None)
    assert run.success, run.error
    assert inline_blobs(generate_requests(emulator)[0].body, "text/csv")
    assert depths and max(depths) <= 4, depths


@pytest.mark.parametrize("line", ["--bogus", "-t hot", "-t -1", "--thinking ultra", "-o 1x"])
def test_every_bad_option_is_our_usage_error(ip, emulator, line):
    """There is one UsageError: ours, which IPython also recognises as a usage error."""
    run = run_cell(ip, f"%%gemini {line}\nHello.")
    assert type(run.error) is UsageError, type(run.error)
    assert isinstance(run.error, GeminiMagicError)
    from IPython.core.error import UsageError as IPythonUsageError

    assert isinstance(run.error, IPythonUsageError)
    assert emulator.log == []


def test_an_unknown_exception_leaves_the_error_boundary_unchanged():
    from gemini_magic.api.errors import map_error, service_call

    class Surprise(Exception):
        pass

    assert map_error(Surprise("x"), timeout_s=1) is None
    with pytest.raises(Surprise), service_call(1.0):
        raise Surprise("a bug is not a service failure")


def test_both_sdk_error_families_are_mapped_to_ours():
    import httpx2
    from google.genai import _interactions_errors as ix
    from google.genai import errors

    from gemini_magic.api.errors import map_error
    from gemini_magic.errors import GeminiAPIError

    request = httpx2.Request("POST", "http://127.0.0.1/v1/interactions")
    response = httpx2.Response(404, request=request, json={"error": {"code": "not_found"}})
    interactions_error = ix.NotFoundError(
        "Error code: 404",
        response=response,
        body={"error": {"code": "not_found", "message": "gone"}},
    )
    mapped = map_error(interactions_error, timeout_s=1)
    assert isinstance(mapped, GeminiAPIError) and mapped.code == 404 and "gone" in mapped.message
    classic = errors.ClientError(
        404, {"error": {"code": 404, "message": "no", "status": "NOT_FOUND"}}
    )
    mapped = map_error(classic, timeout_s=1)
    assert isinstance(mapped, GeminiAPIError) and mapped.status == "NOT_FOUND"


def test_reload_and_unload_leave_one_or_no_configurable():
    from IPython.testing.globalipapp import get_ipython

    from gemini_magic.magics import GeminiMagics

    shell = get_ipython()
    before = [c for c in shell.configurables if isinstance(c, GeminiMagics)]
    shell.run_line_magic("load_ext", "gemini_magic")
    shell.run_line_magic("reload_ext", "gemini_magic")
    shell.run_line_magic("reload_ext", "gemini_magic")
    ours = [c for c in shell.configurables if isinstance(c, GeminiMagics) and c not in before]
    assert len(ours) == 1
    assert shell.magics_manager.registry["GeminiMagics"] is ours[0]
    shell.run_line_magic("unload_ext", "gemini_magic")
    assert [c for c in shell.configurables if isinstance(c, GeminiMagics) and c not in before] == []


def test_every_command_has_its_own_help(ip, capsys):
    for command in ("reset", "history", "save", "load", "export", "offline", "models", "run"):
        run = run_cell(ip, f"%gemini {command} -h")
        assert run.success, (command, run.error)
        assert f"%gemini {command}" in run.stdout
    run = run_cell(ip, "%gemini frobnicate")
    assert type(run.error) is UsageError and "frobnicate" in str(run.error)


def test_the_settings_panel_follows_config_both_ways(ip):
    pytest.importorskip("ipywidgets")
    from gemini_magic.command.panel import build_panel

    magics = ip.magics_manager.registry["GeminiMagics"]
    panel = build_panel(magics.command_context())
    (model, temperature), _ = (box.children for box in panel.children)
    assert run_cell(ip, "%config GeminiMagics.model = 'gemini-3.5-flash'").success
    assert model.value == "gemini-3.5-flash"  # a one-way observer never updated the widget
    assert run_cell(ip, "%config GeminiMagics.temperature = 0.45").success
    assert temperature.value == 0.45
    # The widgets' edits reach the traits %config reads, through the commands' setter.
    model.value = "gemini-3.1-pro-preview"
    temperature.value = 1.3
    assert ip.run_line_magic("config", "GeminiMagics.model") == "gemini-3.1-pro-preview"
    assert ip.run_line_magic("config", "GeminiMagics.temperature") == 1.3


def test_a_model_the_picker_lacks_is_added_to_it_not_an_error(ip):
    pytest.importorskip("ipywidgets")
    from gemini_magic.command.panel import build_panel

    magics = ip.magics_manager.registry["GeminiMagics"]
    (model, _), _ = (box.children for box in build_panel(magics.command_context()).children)
    run = run_cell(ip, "%config GeminiMagics.model = 'gemini-9-ultra'")
    assert run.success, run.error  # traitlets.link raised: the picker refused the name
    assert model.value == "gemini-9-ultra" and "gemini-9-ultra" in model.options
    assert magics.model == "gemini-9-ultra"


def test_the_temperature_slider_keeps_the_models_default_until_it_is_moved(ip):
    pytest.importorskip("ipywidgets")
    from gemini_magic.command.panel import build_panel

    magics = ip.magics_manager.registry["GeminiMagics"]
    assert magics.temperature is None
    (_, temperature), _ = (box.children for box in build_panel(magics.command_context()).children)
    assert temperature.value == 1.0 and magics.temperature is None
    assert run_cell(ip, "%config GeminiMagics.temperature = 0.2").success
    assert run_cell(ip, "%config GeminiMagics.temperature = None").success
    assert temperature.value == 0.2 and magics.temperature is None  # no slider position
    temperature.value = 0.7
    assert magics.temperature == 0.7


def test_no_attribute_is_read_past_the_type_checker():
    """Commands read the Magics object's traits through ``type: ignore[attr-defined]``:
    now each gets the settings as a value, and nothing needs to silence the checker."""
    silenced = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in _modules()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "type: ignore[attr-defined]" in line
    ]
    assert silenced == []
