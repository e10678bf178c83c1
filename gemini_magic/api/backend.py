"""The seam between a turn and the API it goes through.

A turn (``gemini_magic.turn``) is the same whichever API carries it: prepare the
attachments, build the request, send it, record the exchange, return the answer.  What
differs — how the request is built, sent and streamed, how its reply becomes parts, and
which failures can be repaired by sending again — sits behind :class:`Backend`.  There
are two: ``generate_content`` (the client re-sends the conversation) and
``interactions`` (the service keeps it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from google.genai import types

    from gemini_magic.display.grounding import Grounding
    from gemini_magic.errors import GeminiMagicError
    from gemini_magic.inputs.prompt import PreparedPrompt
    from gemini_magic.settings import TurnSettings
    from gemini_magic.state.conversation import Conversation

#: Called with every part the moment its event is parsed.
OnPart = Callable[["types.Part"], None]
#: Called with a one-line note for the user (a repair, a cache made).
Notice = Callable[[str], None]


@dataclass
class Answer:
    """What came back: the merged model turn and the figures about it."""

    parts: list[types.Part]
    usage: types.GenerateContentResponseUsageMetadata | None
    model_version: str | None
    finish_reason: str | None
    #: The interaction that answered (Interactions API only).
    interaction_id: str | None = None
    #: What the model searched for, and its sources (``--search``).
    grounding: Grounding = field(default_factory=lambda: _grounding())
    #: How many interactions the answer took: more than 1 when it went past the
    #: per-request decode limit and was continued (each hop re-billed the input).
    hops: int = 1


def _grounding() -> Grounding:
    from gemini_magic.display.grounding import Grounding

    return Grounding()


class Request(Protocol):
    """A request a backend built for one turn."""

    #: The new user turn, as the conversation records it.
    user: types.Content
    #: How many earlier turns of the conversation the model sees with it.
    earlier_turns: int


class Backend(Protocol):
    """How one API builds, sends and repairs the request of a turn."""

    def build(
        self, prepared: PreparedPrompt, conversation: Conversation, settings: TurnSettings
    ) -> Request:
        """The request for ``prepared`` as the next turn of ``conversation``.

        May upload large attachments (the Files API) but sends no prompt.
        """
        ...

    def send(self, request: Any, settings: TurnSettings, on_part: OnPart, notice: Notice) -> Answer:
        """Send once, streaming the parts to ``on_part``; failures raise ours."""
        ...

    def repair(self, request: Any, error: GeminiMagicError, notice: Notice) -> Any | None:
        """A request to send instead, when ``error`` says a resource it names is gone
        (an expired upload, cache or stored conversation); None when it cannot help."""
        ...
