"""Building attachments directly (pure: no SDK, no network), for the inputs tests."""

from __future__ import annotations

import io

import pandas as pd
from PIL import Image

from gemini_magic.inputs.prompt import Limits, prepare_prompt


def read_back(data: bytes, **kwargs: object) -> pd.DataFrame:
    """CSV bytes read back with pandas, as the model's code would read them."""
    return pd.read_csv(io.BytesIO(data), **kwargs)


def attach(obj: object, name: str = "df", **kwargs: object):
    """The one attachment ``{name}`` makes; ``max_*`` keywords set the Limits."""
    limits = {k: kwargs.pop(k) for k in list(kwargs) if k.startswith("max_")}
    prepared = prepare_prompt(f"Look at {{{name}}}", {name: obj}, limits=Limits(**limits), **kwargs)
    assert len(prepared.attachments) == 1
    return prepared.attachments[0]


def only(template: str, namespace: dict, **kwargs: object):
    """The one attachment a prompt makes."""
    prepared = prepare_prompt(template, namespace, **kwargs)
    assert len(prepared.attachments) == 1
    return prepared.attachments[0]


def png_bytes(size: tuple[int, int], color: str = "blue") -> bytes:
    """A PNG of one colour, made in memory with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()
