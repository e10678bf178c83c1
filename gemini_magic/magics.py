"""``%%gemini`` and ``%gemini``: option parsing and configuration, then hand-off.

Configuration lives in traits of :class:`GeminiMagics`, so ``%config GeminiMagics.model
= "..."`` and ``c.GeminiMagics.model = "..."`` in ``ipython_config.py`` both work.  A
cell's options override the traits for that cell only.

The work happens in :class:`gemini_magic.session.GeminiSession`; this module only parses.
"""

from __future__ import annotations

import contextlib
import shlex
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Float, Int, TraitError, Unicode, observe, validate

from gemini_magic.conversation import DEFAULT_NAME
from gemini_magic.errors import UsageError
from gemini_magic.session import AskOptions, GeminiSession

#: Where the last answer always is, in the user's namespace.
LAST_RESPONSE_NAME = "_gemini"

_COMMANDS = ("reset", "history", "save", "load", "export", "offline", "models", "status")


@magics_class
class GeminiMagics(Magics):
    """Ask Gemini (with code execution) about your data from a notebook cell."""

    model = Unicode("gemini-2.5-flash", help="The Gemini model a prompt goes to.").tag(config=True)
    temperature = Float(
        None, allow_none=True, help="Sampling temperature (0-2); None: the model's default."
    ).tag(config=True)
    system_instruction = Unicode(
        "", help="A system instruction sent with every prompt (empty: none)."
    ).tag(config=True)
    stream = Bool(True, help="Show the answer while it streams.").tag(config=True)
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

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        # Before the traits are configured: ipython_config.py values fire the observers.
        self.session = GeminiSession(self)
        self._configured = False
        super().__init__(shell=shell, **kwargs)
        self._configured = True  # from now on a changed history_file moves the history
        self.session.resume()  # this notebook's saved conversations, if any
        self._cell_id: str | None = None
        if shell is not None:
            shell.events.register("pre_run_cell", self._remember_cell)

    def _remember_cell(self, info: Any) -> None:
        """Keep the running cell's id (ipykernel passes it) so a re-run replaces its turn."""
        self._cell_id = getattr(info, "cell_id", None)

    def close(self) -> None:
        """Stop the emulator and close the client (``%unload_ext``)."""
        if self.shell is not None:
            with contextlib.suppress(ValueError):
                self.shell.events.unregister("pre_run_cell", self._remember_cell)
        self.session.close()

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

    @validate("history_file")
    def _check_history_file(self, proposal: dict[str, Any]) -> str:
        """Refuse to move a conversation onto another one (never overwritten, never mixed)."""
        session = self.session
        target = session.history_target(proposal["value"])
        if (
            self._configured
            and target is not None
            and target != session.history_path
            and target.exists()
            and not session.store.is_empty()
        ):
            raise TraitError(
                f"{target} already holds a conversation, and this session has one too: "
                f"load it with %gemini load {target}, or choose another file."
            )
        return proposal["value"]

    @observe("history_file")
    def _history_moved(self, change: dict[str, Any]) -> None:
        """Save to the new place from now on: resume what is there, or write ours there."""
        if not self._configured:
            return  # __init__ resumes once the configuration is complete
        note = self.session.resume()
        if note:
            print(note)
        elif not self.session.store.is_empty():
            self.session.autosave()

    @observe("offline", "timeout")
    def _settings_changed(self, change: dict[str, Any]) -> None:
        self.session.drop_client()
        if change["name"] == "offline" and not change["new"] and self.session.emulator:
            self.session.emulator.stop()
            self.session.emulator = None

    # --- %%gemini -----------------------------------------------------------------

    @magic_arguments()
    @argument("-m", "--model", help="Model for this prompt (default: GeminiMagics.model).")
    @argument("-t", "--temperature", type=float, help="Sampling temperature, 0 to 2.")
    @argument("-s", "--system", help="System instruction for this prompt (quote it).")
    @argument(
        "-c",
        "--conversation",
        default=DEFAULT_NAME,
        help="Named conversation to continue (several per notebook).",
    )
    @argument("--new", action="store_true", help="Start the conversation afresh.")
    @argument("-o", "--output", metavar="NAME", help="Store the answer object in NAME.")
    @argument(
        "-x", "--code-cell", action="store_true", help="Put the generated code in a new cell."
    )
    @argument("--no-stream", action="store_true", help="Show the answer when it is complete.")
    @argument(
        "--sample",
        type=int,
        metavar="N",
        help="Send a seeded random sample of N rows of each large frame (the model is told).",
    )
    @argument("--thoughts", action="store_true", help="Ask for and show thought summaries.")
    @cell_magic
    def gemini(self, line: str, cell: str) -> None:
        """Send the cell to Gemini with code execution on; ``{name}`` attaches a variable.

        Usage::

            %%gemini [-m MODEL] [-t TEMP] [-s SYSTEM] [-c NAME] [--new] [-o VAR]
            Which region grew fastest in {sales}? Plot revenue by month.
        """
        args = parse_argstring(self.gemini, line)
        for name in ("model", "system", "conversation", "output"):
            setattr(args, name, _unquote(getattr(args, name)))
        if args.output is not None and not args.output.isidentifier():
            raise UsageError(f"-o needs a Python variable name, not {args.output!r}.")
        if args.sample is not None and args.sample < 1:
            raise UsageError(f"--sample needs a positive number of rows, not {args.sample}.")
        temperature = self.temperature if args.temperature is None else args.temperature
        if temperature is not None and not 0.0 <= temperature <= 2.0:
            raise UsageError(f"--temperature must be between 0 and 2, not {temperature:g}.")
        options = AskOptions(
            model=self.model if args.model is None else args.model,
            conversation=args.conversation,
            temperature=temperature,
            system_instruction=args.system if args.system is not None else self.system_instruction,
            new=args.new,
            stream=self.stream and not args.no_stream,
            sample=args.sample,
            show_thoughts=args.thoughts or self.show_thoughts,
            cell_id=self._take_cell_id(),
        )
        response = self.session.ask(cell.strip(), self.shell.user_ns, options)
        self.shell.user_ns[LAST_RESPONSE_NAME] = response
        if args.output:
            self.shell.user_ns[args.output] = response
        if args.code_cell and response.code:
            self.shell.set_next_input("\n\n".join(response.code), replace=False)
        # Saved last: the answer is kept (above) even if saving it fails.
        self.session.autosave()

    def _take_cell_id(self) -> str | None:
        """The running cell's id, once: a second prompt from the same cell (a loop over
        ``run_cell_magic``) is a new turn, not a re-run of the first."""
        cell_id, self._cell_id = self._cell_id, None
        return cell_id

    # --- %gemini ------------------------------------------------------------------

    @line_magic("gemini")
    def gemini_line(self, line: str) -> Any:
        """Settings and conversation commands.

        ``%gemini``                      the current settings, conversations and usage
        ``%gemini reset [NAME|--all]``   forget a conversation (default: the default one)
        ``%gemini history [NAME]``       show a conversation
        ``%gemini save FILE``            save every conversation (JSON)
        ``%gemini load FILE``            replace the conversations with a saved file
        ``%gemini export FILE.md``       write the conversations as Markdown
        ``%gemini offline [on|off]``     answer from the bundled offline emulator
        ``%gemini models``               list the models the service offers
        """
        from gemini_magic import commands

        try:
            words = shlex.split(line)
        except ValueError as exc:  # an unclosed quote
            raise UsageError(f"Cannot read %gemini {line!r}: {exc}.") from None
        if not words or words[0] == "status":
            return commands.status(self)
        command, rest = words[0], words[1:]
        if command not in _COMMANDS:
            raise UsageError(
                f"Unknown %gemini command {command!r}.",
                hint="Commands: " + ", ".join(_COMMANDS) + ". The prompt itself goes in a "
                "%%gemini cell.",
            )
        return getattr(commands, command)(self, rest)


def _unquote(value: str | None) -> str | None:
    """Strip one pair of matching quotes: IPython's argument splitter keeps them."""
    if value and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
