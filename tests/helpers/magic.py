"""Helpers for driving ``%%gemini`` in an in-process IPython shell."""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import dataclass, field
from typing import Any

from IPython.utils.capture import capture_output


@dataclass
class CellRun:
    """What a user saw from one cell: the final outputs, after in-place updates."""

    success: bool
    error: BaseException | None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    stdout: str = ""
    publishes: int = 0

    def texts(self, mime: str = "text/plain") -> list[str]:
        return [o[mime] for o in self.outputs if mime in o]

    def all_text(self) -> str:
        chunks = []
        for output in self.outputs:
            for mime in ("text/markdown", "text/plain", "text/html"):
                if mime in output:
                    chunks.append(str(output[mime]))
        return "\n".join(chunks) + "\n" + self.stdout

    def images(self) -> list[bytes]:
        images = []
        for output in self.outputs:
            data = output.get("image/png")
            if data is None:
                continue
            images.append(base64.b64decode(data) if isinstance(data, str) else data)
        return images


def run_cell(ip: Any, source: str, cell_id: str | None = None) -> CellRun:
    """Run ``source`` like a notebook cell; fold display updates into final outputs."""
    with capture_output() as captured:
        result = ip.run_cell(source, store_history=True, cell_id=cell_id)
    outputs: list[dict[str, Any]] = []
    metadata: list[dict[str, Any]] = []
    by_id: dict[str, int] = {}
    for rich in captured.outputs:
        display_id = (rich.transient or {}).get("display_id")
        if rich.update and display_id in by_id:
            outputs[by_id[display_id]] = dict(rich.data)
            metadata[by_id[display_id]] = dict(rich.metadata or {})
            continue
        if display_id is not None:
            by_id[display_id] = len(outputs)
        outputs.append(dict(rich.data))
        metadata.append(dict(rich.metadata or {}))
    if result.result is not None:
        formatted, md = ip.display_formatter.format(result.result)
        outputs.append(formatted)
        metadata.append(md)
    return CellRun(
        success=result.success,
        error=result.error_in_exec or result.error_before_exec,
        outputs=outputs,
        metadata=metadata,
        stdout=captured.stdout,
        publishes=len(captured.outputs),
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG header (and proof that it is a PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def decode_png(data: bytes) -> Any:
    """Decode the PNG fully with matplotlib (raises if it is not a real image)."""
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(data), format="png")
