"""``%%gemini`` and ``%gemini``: option parsing and configuration, then hand-off.

Configuration lives in traits of :class:`GeminiMagics`, so ``%config GeminiMagics.model
= "..."`` and ``c.GeminiMagics.model = "..."`` in ``ipython_config.py`` both work.  A
cell's options override the traits for that cell only.

This module only parses: it turns the traits plus the cell's options into one frozen
:class:`~gemini_magic.settings.TurnSettings` and hands it to
:func:`gemini_magic.turn.run_turn`.  Nothing below it reads a trait.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import TraitError, validate

from gemini_magic.api.client import api_in_use
from gemini_magic.config import GeminiSettings
from gemini_magic.display.blocks import Notice
from gemini_magic.errors import GeminiMagicError, UsageError
from gemini_magic.session import GeminiSession, OfflineServer
from gemini_magic.settings import (
    DEFAULT_CONVERSATION,
    LAST_RESPONSE_NAME,
    THINKING_LEVELS,
    CacheSettings,
    Connection,
    Limits,
    RetryPolicy,
    TurnSettings,
)

if TYPE_CHECKING:
    from gemini_magic.answer.response import GeminiResponse
    from gemini_magic.command.context import Context
    from gemini_magic.inputs.error import LastError
    from gemini_magic.warmup import Warmup


@magics_class
class GeminiMagics(Magics, GeminiSettings):
    """Ask Gemini (with code execution) about your data from a notebook cell."""

    #: The session of this extension instance; made once the traits are configured.
    session: GeminiSession | None = None
    #: The background warm-up started by ``%load_ext`` (None until it starts).
    warmup: Warmup | None = None

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)  # loads ipython_config.py values
        self.session = GeminiSession(self._connection(), self.history_file, serve=_serve_offline)
        self.observe(self._history_moved, names="history_file")
        self.observe(self._connection_changed, names=["offline", "offline_replies", "timeout"])
        self._cell_id: str | None = None
        if shell is not None:
            shell.events.register("pre_run_cell", self._remember_cell)

    def warm_up(self) -> Warmup:
        """Import what a prompt needs and build the client, in a background thread."""
        from gemini_magic.warmup import Warmup

        self.warmup = Warmup(self._session, api_in_use(self.api, offline=self.offline))
        return self.warmup.start()

    def _remember_cell(self, info: Any) -> None:
        """Keep the running cell's id (ipykernel passes it) so a re-run replaces its turn."""
        self._cell_id = getattr(info, "cell_id", None)

    def close(self) -> None:
        """Undo what ``__init__`` registered, stop the emulator, close the client."""
        shell = self.shell
        if shell is not None:
            with contextlib.suppress(ValueError):
                shell.events.unregister("pre_run_cell", self._remember_cell)
            configurables = getattr(shell, "configurables", [])
            while self in configurables:
                configurables.remove(self)
        if self.session is not None:
            self.session.close()

    def _connection(self) -> Connection:
        return Connection(
            offline=self.offline, offline_replies=self.offline_replies, timeout_s=self.timeout
        )

    @validate("history_file")
    def _check_history_file(self, proposal: dict[str, Any]) -> str:
        """Refuse to move a conversation onto another one (never overwritten, never mixed).

        While ipython_config.py is applied there is no session yet, so nothing to protect.
        """
        if self.session is not None:
            try:
                self.session.history.check_move(proposal["value"], self.session.store)
            except GeminiMagicError as exc:
                raise TraitError(exc.message) from None
        return proposal["value"]

    def _history_moved(self, change: dict[str, Any]) -> None:
        """Save to the new place from now on: resume what is there, or write ours there."""
        note = self._session.move_history(change["new"])
        if note:
            print(note)

    def _connection_changed(self, change: dict[str, Any]) -> None:
        self._session.reconnect(self._connection())

    @property
    def _session(self) -> GeminiSession:
        assert self.session is not None, "GeminiMagics.__init__ makes the session"
        return self.session

    # --- %%gemini -----------------------------------------------------------------

    @magic_arguments()
    @argument("-m", "--model", help="Model for this prompt (default: GeminiMagics.model).")
    @argument("-t", "--temperature", type=float, help="Sampling temperature, 0 to 2.")
    @argument("-s", "--system", help="System instruction for this prompt (quote it).")
    @argument(
        "-c",
        "--conversation",
        default=DEFAULT_CONVERSATION,
        help="Named conversation to continue (several per notebook).",
    )
    @argument("--new", action="store_true", help="Start the conversation afresh.")
    @argument("-o", "--output", metavar="NAME", help="Store the answer object in NAME.")
    @argument(
        "-x",
        "--code-cell",
        action="store_true",
        help="Put the answer's code in a new cell, its reads of the attached files bound to "
        "the live objects.",
    )
    @argument("--no-stream", action="store_true", help="Show the answer when it is complete.")
    @argument(
        "-b",
        "--background",
        action="store_true",
        help="Return at once and stream the answer into this cell while other cells run "
        "(`%%gemini wait` raises a failure; `%%gemini jobs`, `%%gemini cancel`).",
    )
    @argument(
        "--sample",
        type=int,
        metavar="N",
        help="Send a seeded random sample of N rows of each large frame (the model is told).",
    )
    @argument("--thoughts", action="store_true", help="Ask for and show thought summaries.")
    @argument(
        "-f",
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="Attach a file by its path, relative to the working folder (repeatable).",
    )
    @argument("--search", action="store_true", help="Let the model search Google (grounding).")
    @argument(
        "--error",
        action="store_true",
        help="Attach the last error: its type, message, traceback and the cell's source.",
    )
    @argument(
        "--thinking",
        metavar="LEVEL",
        choices=THINKING_LEVELS,
        help="Thinking level for this prompt: " + ", ".join(THINKING_LEVELS) + ".",
    )
    @cell_magic
    def gemini(self, line: str, cell: str) -> None:
        """Send the cell to Gemini with code execution on; ``{name}`` attaches a variable.

        Usage::

            %%gemini [-m MODEL] [-t TEMP] [-s SYSTEM] [-c NAME] [--new] [-o VAR]
            Which region grew fastest in {sales}? Plot revenue by month.
        """
        from gemini_magic.turn import TurnInput, run_turn

        if self.warmup is not None and (warning := self.warmup.warning()):
            warnings.warn(warning, RuntimeWarning, stacklevel=2)
        args = self._parse(line)
        settings = self._turn_settings(args)
        prompt = TurnInput(
            template=cell.strip(),
            namespace=self.shell.user_ns,
            files=tuple(_unquote(path) or "" for path in args.file),
            last_error=self._last_error() if args.error else None,
            cwd=Path.cwd(),
        )
        output, code_cell = args.output, args.code_cell

        def keep(response: GeminiResponse) -> None:
            self.shell.user_ns[LAST_RESPONSE_NAME] = response
            if output:
                self.shell.user_ns[output] = response
            if code_cell and response.code:
                # The code as it runs here (reads bound to the live objects), not as it
                # ran on the sandbox's copies of the files.
                self.shell.set_next_input(response.runnable_code, replace=False)
            # Saved last: the answer is kept (above) even if saving it fails.
            self._session.autosave()

        if args.background or self.background:
            from gemini_magic.command import background

            reason = background.why_foreground(self.shell)
            if reason is None:
                # The namespace as it is now: the turn reads it later, in its thread.
                prompt = replace(prompt, namespace=dict(prompt.namespace))
                background.start(self.shell, self._session, settings, prompt, keep)
                return
            display(Notice(background.foreground_note(reason)))
        keep(run_turn(self._session, settings, prompt))

    def _parse(self, line: str) -> Any:
        """The cell's options; a bad one is our UsageError (one line, nothing sent)."""
        try:
            args = parse_argstring(self.gemini, line)
        except IPythonUsageError as exc:
            if isinstance(exc, UsageError):
                raise
            raise UsageError(
                str(exc).replace("%%gemini: error: ", ""), hint="See %%gemini? for the options."
            ) from None
        for name in ("model", "system", "conversation", "output"):
            setattr(args, name, _unquote(getattr(args, name)))
        if args.output is not None and not args.output.isidentifier():
            raise UsageError(f"-o needs a Python variable name, not {args.output!r}.")
        if args.sample is not None and args.sample < 1:
            raise UsageError(f"--sample needs a positive number of rows, not {args.sample}.")
        return args

    def _turn_settings(self, args: Any) -> TurnSettings:
        """The traits with this cell's options applied: the one value a turn gets."""
        from gemini_magic.display.stream import supports_live_updates

        temperature = self.temperature if args.temperature is None else args.temperature
        if temperature is not None and not 0.0 <= temperature <= 2.0:
            raise UsageError(f"--temperature must be between 0 and 2, not {temperature:g}.")
        return TurnSettings(
            model=self.model if args.model is None else args.model,
            conversation=args.conversation,
            api=api_in_use(self.api, offline=self.offline),
            store=self.store,
            thinking_level=args.thinking or self.thinking_level or None,
            google_search=args.search or self.google_search,
            temperature=temperature,
            system_instruction=args.system if args.system is not None else self.system_instruction,
            new=args.new,
            stream=self.stream and not args.no_stream,
            sample=args.sample,
            sample_seed=self.sample_seed,
            show_thoughts=args.thoughts or self.show_thoughts,
            cell_id=self._take_cell_id(),
            timeout_s=self.timeout,
            retry=RetryPolicy(
                attempts=self.max_retries + 1,
                initial_delay=self.retry_initial_delay,
                max_delay=self.retry_max_delay,
            ),
            limits=Limits(
                max_attachment_bytes=self.max_attachment_bytes,
                max_file_bytes=self.max_file_bytes,
                max_request_bytes=self.max_request_bytes,
                max_inline_chars=self.max_inline_chars,
                max_prompt_chars=self.max_prompt_chars,
            ),
            upload_threshold=self.upload_threshold,
            resend_media=self.resend_media,
            context_cache=CacheSettings(
                enabled=self.context_cache,
                min_tokens=self.context_cache_min_tokens,
                ttl_s=self.context_cache_ttl,
            ),
            max_output_lines=self.max_output_lines,
            max_output_chars=self.max_output_chars,
            live_updates=supports_live_updates(self.shell),
        )

    def _last_error(self) -> LastError:
        from gemini_magic.inputs.error import last_error_from

        return last_error_from(self.shell)

    def _take_cell_id(self) -> str | None:
        """The running cell's id, once: a second prompt from the same cell (a loop over
        ``run_cell_magic``) is a new turn, not a re-run of the first."""
        cell_id, self._cell_id = self._cell_id, None
        return cell_id

    # --- %gemini ------------------------------------------------------------------

    @line_magic("gemini")
    def gemini_line(self, line: str) -> Any:
        """Settings and conversation commands (``%gemini COMMAND -h`` for each).

        ``%gemini``                      the current settings, conversations and usage
        ``%gemini reset [NAME|--all]``   forget a conversation (default: the default one)
        ``%gemini history [NAME]``       show a conversation
        ``%gemini save FILE``            save every conversation (JSON)
        ``%gemini load FILE``            replace the conversations with a saved file
        ``%gemini export FILE.md``       write the conversations as Markdown
        ``%gemini offline [on|off]``     answer from the bundled offline emulator
        ``%gemini models``               list the models the service offers
        ``%gemini wait [NAME|--all]``    wait for background prompts; raise a failure
        ``%gemini jobs``                 list the background prompts
        ``%gemini cancel [N|--all]``     cancel a background prompt (cell [N])
        """
        from gemini_magic.command import run_command

        return run_command(line, self.command_context())

    def command_context(self) -> Context:
        """What a ``%gemini`` command gets: the settings as they are now, the session,
        the shell, and the setter and watcher of the traits (never this object)."""
        from gemini_magic.command import Configured, Context

        settings = Configured(**{f.name: getattr(self, f.name) for f in fields(Configured)})
        return Context(
            session=self._session,
            settings=settings,
            shell=self.shell,
            set_option=self._set_option,
            watch_option=self._watch_option,
        )

    def _set_option(self, name: str, value: Any) -> None:
        """The one way a ``%gemini`` command changes a setting: as ``%config`` would, so
        the trait validates it and its observers (the session's connection) follow."""
        if name not in self.trait_names(config=True):
            raise ValueError(f"{name!r} is not a setting of GeminiMagics.")
        setattr(self, name, value)

    def _watch_option(self, name: str, callback: Callable[[Any], None]) -> None:
        """Call ``callback`` with the setting's new value whenever it changes."""
        self.observe(lambda change: callback(change["new"]), names=name)


def _serve_offline(replies: str) -> OfflineServer:
    """Start the bundled offline emulator (``replies``: a replies file, or "").

    The emulator is imported here, the first time offline mode is used, not when the
    extension loads: like the turn's modules, it is part of the pipeline's first use.
    """
    from gemini_magic.emulator import Emulator

    return Emulator(replies=replies or None).start()


def _unquote(value: str | None) -> str | None:
    """Strip one pair of matching quotes: IPython's argument splitter keeps them."""
    if value and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
