"""The files a prompt sends: one kind of attachment per kind of value, each saying what it is.

Every attachment carries what the upload cache and the request need (``data``,
``mime_type``, ``filename``, ``digest``), what it was in the user's namespace (``name``, the
reference as written, and ``value_type``), and two texts: :meth:`Attachment.describe`, the
part that tells the model which file holds what, and :meth:`Attachment.summary`, its entry
on the ``Sent:`` line.  This module holds the common base; each kind lives with the code
that makes it: frames in :mod:`~gemini_magic.inputs.frames`, images and figures in
:mod:`~gemini_magic.inputs.images`, files on disk in :mod:`~gemini_magic.inputs.files`,
the last error in :mod:`~gemini_magic.inputs.error`.  A :class:`PreparedPrompt` is the
prompt's text with its attachments, as the API layer receives it (made by
:func:`~gemini_magic.inputs.prompt.prepare_prompt`).
"""

from __future__ import annotations

import mimetypes
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import PurePath

from gemini_magic.text import count

__all__ = ["Attachment", "PreparedPrompt", "content_digest"]

# The extension the code-execution sandbox gives an attachment of each MIME type, where
# ``mimetypes`` would pick another (``text/plain`` -> ``.txt``, not ``.bat``).
_SANDBOX_EXTENSIONS = {"text/csv": ".csv", "text/plain": ".txt", "application/json": ".json"}


def content_digest(data: bytes) -> str:
    """The upload cache's key for bytes that are not a frame (a frame hashes its values)."""
    import hashlib  # here, not at the top: %load_ext imports this module and stays light

    return hashlib.blake2b(data, digest_size=20).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Attachment(ABC):
    """One file the model receives with the prompt.

    ``name`` is what the user wrote for it: the reference without braces
    (``frames['jan']``), the ``-f`` path as given, or ``--error``.  ``kind`` is one of
    ``frame``, ``image``, ``figure``, ``file``, ``document``, ``error``; ``value_type`` is
    the qualified type of the referenced value (``pandas.DataFrame``; the exception's type
    for ``--error``), None for ``-f`` files.
    ``position`` is the attachment's place among this prompt's attachments (from 0).
    """

    name: str
    filename: str
    data: bytes
    mime_type: str
    digest: str
    kind: str
    value_type: str | None = None
    position: int = 0

    @property
    def sandbox_names(self) -> tuple[str, str]:
        """The names the sandbox may know the file by: its own, and ``input_file_N.<ext>``.

        N is :attr:`position`; in a conversation the service may number the files of
        earlier turns first, which is why :meth:`describe` names both.
        """
        ext = _SANDBOX_EXTENSIONS.get(self.mime_type) or mimetypes.guess_extension(self.mime_type)
        return self.filename, f"input_file_{self.position}{ext or PurePath(self.filename).suffix}"

    @abstractmethod
    def describe(self) -> str:
        """The text part that tells the model which file holds what."""

    @abstractmethod
    def summary(self) -> str:
        """This attachment's entry on the ``Sent:`` line."""

    def from_path(self, noun: str) -> str:
        """``the text file `data/x.py``` for ``-f``, ``the text file that `src` names`` else.

        The path as the user wrote it, never the absolute one: that would send the user's
        folder names along.
        """
        if self.value_type is None:
            return f"the {noun} `{self.name}`"
        return f"the {noun} that `{self.name}` names"

    def in_sandbox(self, how: str) -> str:
        """The sentence that says where the sandbox has the file, and how to open it there."""
        ext = PurePath(self.sandbox_names[1]).suffix
        return (
            "It is in the working directory of the code-execution sandbox (if that name is "
            f"missing there, it is the matching input_file_N{ext}, numbered in the order the "
            f"files were attached); {how}."
        )


@dataclass(frozen=True)
class PreparedPrompt:
    """The prompt as it will be sent: text with placeholders, the files, and the hints."""

    text: str
    attachments: tuple[Attachment, ...]
    hints: tuple[str, ...]

    def sent_summary(self) -> str:
        """The one line that says exactly what left the machine with this prompt."""
        prompt = f"the prompt text ({count(len(self.text), 'character')})"
        if not self.attachments:
            return f"Sent: {prompt}, no attachments."
        files = ", ".join(a.summary() for a in self.attachments)
        return f"Sent: {files} and {prompt}."
