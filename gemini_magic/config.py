"""The configuration of gemini-magic: every setting as a traitlets trait.

:class:`GeminiSettings` holds the traits; :class:`~gemini_magic.magics.GeminiMagics`
inherits them, so ``%config GeminiMagics.model = "..."`` and
``c.GeminiMagics.model = "..."`` in ``ipython_config.py`` both work, and a bad value is
refused by the trait (the old one kept).  The magic turns them into one frozen value per
prompt; nothing else reads a trait.
"""

from __future__ import annotations

from typing import Any

from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable

from gemini_magic.models import DEFAULT_MODEL
from gemini_magic.settings import APIS, THINKING_LEVELS


class GeminiSettings(Configurable):
    """The settings of ``%%gemini``: see each trait's help (``%config GeminiMagics``)."""

    model = Unicode(
        DEFAULT_MODEL,
        help="The Gemini model a prompt goes to (default: a current GA model with code "
        "execution; see `%gemini models`).",
    ).tag(config=True)
    api = Enum(
        list(APIS),
        default_value="interactions",
        help="The API prompts go through: 'interactions' (Google's recommended API: the "
        "service keeps the conversation) or 'generate_content' (the classic API: every "
        "prompt re-sends the conversation).",
    ).tag(config=True)
    store = Bool(
        True,
        help="On the Interactions API, let Google keep the conversation (1 day on the free "
        "tier, 55 days on paid tiers). False: nothing is kept at Google and every prompt "
        "re-sends the conversation.",
    ).tag(config=True)
    thinking_level = Enum(
        ["", *THINKING_LEVELS],
        default_value="",
        help="How much the model thinks: minimal, low, medium or high ('' : the model's "
        "default). Not every model takes every level.",
    ).tag(config=True)
    google_search = Bool(
        False,
        help="Let the model search Google beside running code (grounding); the answer "
        "shows its queries, sources and Google's search suggestions.",
    ).tag(config=True)
    temperature = Float(
        None, allow_none=True, help="Sampling temperature (0-2); None: the model's default."
    ).tag(config=True)
    system_instruction = Unicode(
        "", help="A system instruction sent with every prompt (empty: none)."
    ).tag(config=True)
    stream = Bool(True, help="Show the answer while it streams.").tag(config=True)
    background = Bool(
        False,
        help="Run every prompt in the background (as %%gemini --background): the cell "
        "returns at once and the answer streams into it while other cells run. Terminal "
        "IPython and batch runs (nbconvert, nbval, papermill) run it in the foreground.",
    ).tag(config=True)
    show_thoughts = Bool(False, help="Ask for thought summaries and show them collapsed.").tag(
        config=True
    )
    offline = Bool(
        False, help="Answer from the bundled offline emulator instead of the service."
    ).tag(config=True)
    offline_replies = Unicode(
        "", help="A scripted-replies file (YAML or JSON) for the offline emulator."
    ).tag(config=True)
    timeout = Float(
        120.0, help="Seconds without a byte from the service before a prompt fails."
    ).tag(config=True)
    max_retries = Int(
        3, help="Retries of a call that failed before anything was shown (408, 429, 5xx)."
    ).tag(config=True)
    retry_initial_delay = Float(1.0, help="First back-off delay in seconds; doubles.").tag(
        config=True
    )
    retry_max_delay = Float(30.0, help="Longest back-off delay in seconds.").tag(config=True)
    max_attachment_bytes = Int(
        2_000_000,
        help="Largest CSV attached per frame (about 2 MB of CSV fills a 1M-token window).",
    ).tag(config=True)
    max_file_bytes = Int(
        20_000_000,
        help="Largest file, image or figure attached (larger ones go through the Files API "
        "above upload_threshold, and are refused above this).",
    ).tag(config=True)
    max_request_bytes = Int(50_000_000, help="Largest total of all attachments of one prompt.").tag(
        config=True
    )
    max_inline_chars = Int(
        20_000, help="Longest str() of a non-frame object written into the prompt."
    ).tag(config=True)
    max_prompt_chars = Int(1_000_000, help="Longest prompt text accepted.").tag(config=True)
    sample_seed = Int(0, help="Random seed of --sample.").tag(config=True)
    upload_threshold = Int(
        200_000,
        help="Frames whose CSV is at least this many bytes are uploaded once through the "
        "Files API and referenced afterwards, instead of being re-sent inline every turn.",
    ).tag(config=True)
    resend_media = Bool(
        False, help="Re-send images the model produced with later turns of the conversation."
    ).tag(config=True)
    context_cache = Bool(
        True,
        help="Use explicit context caching for long conversations over large attachments: "
        "the history is stored by the service once and named by later prompts, whose "
        "cached tokens are billed at a reduced rate (storage is billed per hour).",
    ).tag(config=True)
    context_cache_min_tokens = Int(
        32_768,
        help="Cache a conversation's history only when it is estimated at this many tokens "
        "or more (about 4 characters, or 4 bytes of CSV, a token); never below the "
        "service's minimum (1,024 for Flash, 4,096 for Pro models).",
    ).tag(config=True)
    context_cache_ttl = Int(
        3600,
        help="Seconds a context cache lives: it is deleted earlier when the conversation "
        "changes or the extension is unloaded, and otherwise by the service at the end "
        "of this time (a kernel that stops leaves it to the service); an expired one is "
        "made again when needed.",
    ).tag(config=True)
    history_file = Unicode(
        "auto",
        help="Where the conversation is saved after every turn: 'auto' (beside the "
        "notebook, when the kernel knows it), a path, or '' (off).",
    ).tag(config=True)
    max_output_lines = Int(200, help="Code and output longer than this are folded.").tag(
        config=True
    )
    max_output_chars = Int(20_000, help="Code and output longer than this are folded.").tag(
        config=True
    )

    # Validators raise TraitError: traitlets then keeps the old value (any other error
    # would leave the bad one set), and %config reports the message.
    @validate("temperature")
    def _check_temperature(self, proposal: dict[str, Any]) -> float | None:
        value = proposal["value"]
        if value is not None and not 0.0 <= value <= 2.0:
            raise TraitError(f"temperature must be between 0 and 2, not {value}.")
        return value

    @validate("context_cache_min_tokens", "context_cache_ttl")
    def _check_cache_settings(self, proposal: dict[str, Any]) -> int:
        name, value = proposal["trait"].name, proposal["value"]
        least = 1024 if name == "context_cache_min_tokens" else 60
        if value < least:
            raise TraitError(f"{name} must be at least {least:,}, not {value:,}.")
        return value
