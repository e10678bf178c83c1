"""The seam between a turn and the API it goes through.

A turn (``gemini_magic.turn``) is the same whichever API carries it: prepare the
attachments, build the request, send it, record the exchange, return the answer.  What
differs — how the request is built, sent and streamed, how its reply becomes parts, and
which failures can be repaired by sending again — sits behind :class:`Backend`, typed
by the API's own request.  There are two: ``api.content`` (generateContent: the client
re-sends the conversation) and ``api.interactions`` (the service keeps it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from gemini_magic.api.parts import merge_parts
from gemini_magic.api.sdk import types
from gemini_magic.api.search import Grounding
from gemini_magic.errors import GeminiMagicError
from gemini_magic.inputs.attachment import PreparedPrompt
from gemini_magic.settings import TurnSettings
from gemini_magic.state.conversation import Conversation

#: Called with every part the moment its event is parsed.
#: (The name is quoted: reading ``types.Part`` here would import the SDK at once.)
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
    grounding: Grounding = field(default_factory=Grounding)


class Reader:
    """Collects the parts of one attempt while handing each on the moment it is read.

    Each API's stream reader fills in what its events carry; both end in :meth:`answer`.
    """

    def __init__(self, on_part: OnPart) -> None:
        self.on_part = on_part
        self.parts: list[types.Part] = []
        self.usage: types.GenerateContentResponseUsageMetadata | None = None
        self.model_version: str | None = None
        self.interaction_id: str | None = None
        self.grounding = Grounding()

    @property
    def finish_reason(self) -> str | None:
        """Why the answer ended (None: as the model meant it to)."""
        return None

    def emit(self, part: types.Part) -> None:
        self.parts.append(part)
        self.on_part(part)

    def answer(self) -> Answer:
        """The attempt's answer: its parts merged into one model turn."""
        return Answer(
            parts=merge_parts(self.parts),
            usage=self.usage,
            model_version=self.model_version,
            finish_reason=self.finish_reason,
            interaction_id=self.interaction_id,
            grounding=self.grounding,
        )


class Request(Protocol):
    """A request a backend built for one turn."""

    #: The new user turn, as the conversation records it.
    @property
    def user(self) -> types.Content: ...

    #: How many earlier turns of the conversation the model sees with it.
    @property
    def earlier_turns(self) -> int: ...


#: The request of one API (``ContentRequest``, ``InteractionRequest``).
R = TypeVar("R", bound=Request)


class Backend(Protocol[R]):
    """How one API builds, sends and repairs the request of a turn.

    ``R`` is the API's own request, with its wire input already built: ``send`` only
    sends it, and ``repair`` returns another one.
    """

    def build(
        self, prepared: PreparedPrompt, conversation: Conversation, settings: TurnSettings
    ) -> R:
        """The request for ``prepared`` as the next turn of ``conversation``.

        May upload large attachments (the Files API) but sends no prompt.
        """
        ...

    def send(self, request: R, settings: TurnSettings, on_part: OnPart, notice: Notice) -> Answer:
        """Send once, streaming the parts to ``on_part``; failures raise ours."""
        ...

    def repair(self, request: R, error: GeminiMagicError, notice: Notice) -> R | None:
        """A request to send instead, when ``error`` says a resource it names is gone
        (an expired upload, cache or stored conversation); None when it cannot help."""
        ...
