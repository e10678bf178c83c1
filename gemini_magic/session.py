"""The state of one IPython session and the flow of one prompt through it.

A :class:`GeminiSession` owns what lives as long as the kernel: the client, the offline
emulator when one was started, the conversations and the upload cache.  The magic and the
Gemini kernel both go through :meth:`GeminiSession.ask`, so there is one backend and one
conversation store.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemini_magic.conversation import ConversationStore, Exchange
from gemini_magic.errors import GeminiAPIError, GeminiMagicError, HistoryError, UsageError

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

    from gemini_magic.caching import ContextCaches
    from gemini_magic.emulator import Emulator
    from gemini_magic.magics import GeminiMagics
    from gemini_magic.response import GeminiResponse
    from gemini_magic.uploads import UploadCache

#: Marks a reply of the offline emulator in ``modelVersion``; kept in sync with
#: ``gemini_magic.emulator.OFFLINE_MARK`` (importing the emulator here would make
#: every prompt pay for it).
OFFLINE_MARK = "offline-emulator"


@dataclass(frozen=True)
class AskOptions:
    """The settings of one prompt, after the cell's options were applied to the traits."""

    model: str
    conversation: str
    temperature: float | None = None
    system_instruction: str | None = None
    new: bool = False
    stream: bool = True
    sample: int | None = None
    show_thoughts: bool = False
    cell_id: str | None = None


#: What a model name can be: ``gemini-2.5-flash``, ``models/...``, ``tunedModels/...``,
#: ``publishers/google/models/...``.  The name goes into the request's URL path, so a
#: space, ``:``, ``?`` or ``#`` would make a different request (or none the service
#: knows); such a name is refused before anything is sent.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")


def check_model_name(model: str) -> None:
    """Raise a :class:`UsageError` for a model name that cannot be a model's name."""
    if not _MODEL_NAME.fullmatch(model):
        raise UsageError(
            f"{model!r} is not a model name; nothing was sent.",
            hint="See the models your key can use with `%gemini models`, and pick one with "
            "`%%gemini --model NAME` or `%config GeminiMagics.model = 'NAME'`.",
        )


def notebook_history_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``<notebook>.gemini-history.json`` beside the kernel's notebook, when it is known.

    Jupyter Server tells a kernel its notebook through ``JPY_SESSION_NAME``.
    """
    session = environ.get("JPY_SESSION_NAME", "").strip()
    if not session:
        return None
    notebook = Path(session)
    return notebook.with_name(notebook.stem + ".gemini-history.json")


class GeminiSession:
    """Client, emulator, conversations and uploads of one IPython session."""

    def __init__(self, settings: GeminiMagics) -> None:
        self.settings = settings
        self.store = ConversationStore()
        self._client: genai.Client | None = None
        self._uploads: UploadCache | None = None
        self._context_caches: ContextCaches | None = None
        self.emulator: Emulator | None = None
        self.history_path: Path | None = None
        self.pending_error: GeminiMagicError | None = None
        self.resumed_note: str | None = None
        self.usage_totals: dict[str, int] = {}

    # --- the client ---------------------------------------------------------------

    def client(self) -> genai.Client:
        """The session's client, created on first use (this imports the SDK)."""
        if self._client is None:
            from gemini_magic.client import make_client

            base_url = self.start_emulator() if self.settings.offline else None
            self._client = make_client(timeout_s=self.settings.timeout, base_url=base_url)
        return self._client

    def uploads(self) -> UploadCache:
        from gemini_magic.client import uses_vertex
        from gemini_magic.uploads import UploadCache

        if self._uploads is None:
            self._uploads = UploadCache(
                self.client(),
                threshold=self.settings.upload_threshold,
                enabled=not uses_vertex() or self.settings.offline,
            )
        self._uploads.threshold = self.settings.upload_threshold
        return self._uploads

    def context_caches(self) -> ContextCaches:
        """The conversations' context caches, made through the session's client."""
        from gemini_magic.caching import ContextCaches

        if self._context_caches is None:
            self._context_caches = ContextCaches(
                self.client(), self.settings, known_size=self.uploads().size_of
            )
        return self._context_caches

    def drop_client(self) -> None:
        """Forget the client (settings changed); the next prompt makes a new one."""
        if self._context_caches is not None:
            self._context_caches.close()  # caches cost storage: delete them while we can
            self._context_caches = None
        if self._client is not None:
            self._client.close()
        self._client = None
        self._uploads = None

    def start_emulator(self) -> str:
        """Start the bundled offline emulator (once) and return its URL."""
        if self.emulator is None:
            from gemini_magic.emulator import Emulator

            replies = self.settings.offline_replies or None
            self.emulator = Emulator(replies=replies)
            self.emulator.start()
        return self.emulator.url

    def close(self) -> None:
        self.drop_client()
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    # --- persistence --------------------------------------------------------------

    def resume(self) -> str | None:
        """Load the autosaved conversations of this notebook, if there are any.

        A file that is not ours, or is damaged, is moved aside (never overwritten) and
        the error is kept to be raised by the next prompt.  Returns a one-line note.
        """
        self.history_path = self.history_target(self.settings.history_file)
        path = self.history_path
        if path is None or not path.exists():
            return None
        try:
            self.store = ConversationStore.load(path)
        except HistoryError as exc:
            aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
            path.replace(aside)
            self.pending_error = HistoryError(
                f"{exc.message} It was moved to {aside.name}; a new conversation starts.",
                hint="Look at the moved file if it mattered; this notebook's history is now "
                f"saved to {path.name} again.",
            )
            return None
        turns = sum(len(c.exchanges) for c in self.store)
        self.resumed_note = (
            f"gemini-magic: resumed {turns} turn(s) of conversation from {path.name}."
        )
        return self.resumed_note

    def autosave(self) -> None:
        """Save the conversations beside the notebook (``history_file``), if anywhere."""
        if self.history_path is not None:
            self.store.save(self.history_path)

    def history_target(self, setting: str) -> Path | None:
        """Where a ``history_file`` setting saves to (None: nowhere)."""
        setting = setting.strip()
        if setting == "auto":
            return notebook_history_path()
        return Path(setting).expanduser() if setting else None

    # --- one prompt ---------------------------------------------------------------

    def ask(
        self, template: str, namespace: Mapping[str, Any], options: AskOptions
    ) -> GeminiResponse:
        """Send ``template`` (with its ``{name}`` references) and show the answer.

        Nothing is sent when the prompt or a reference is bad.  The turn enters the
        conversation only when the answer arrived whole; on any error or interrupt the
        shown part stays, marked incomplete, and the conversation is as it was.  The
        caller saves the conversation (:meth:`autosave`) once it has kept the answer, so
        a failed save cannot lose it.
        """
        from gemini_magic.attachments import prepare_prompt
        from gemini_magic.stream import StreamView, supports_live_updates

        if self.pending_error is not None:
            error, self.pending_error = self.pending_error, None
            raise error
        settings = self.settings
        check_model_name(options.model)
        prepared = prepare_prompt(
            template,
            namespace,
            max_attachment_bytes=settings.max_attachment_bytes,
            max_inline_chars=settings.max_inline_chars,
            max_prompt_chars=settings.max_prompt_chars,
            sample=options.sample,
            seed=settings.sample_seed,
        )
        from google.genai import types

        client = self.client()
        view = StreamView(
            show_thoughts=options.show_thoughts,
            max_output_lines=settings.max_output_lines,
            max_output_chars=settings.max_output_chars,
            live_updates=supports_live_updates(settings.shell),
        )
        for hint in prepared.hints:
            view.notice(hint)
        conversation = self.store.get(options.conversation)
        uploads = self.uploads()
        user_parts: list[types.Part] = []
        try:
            for attachment in prepared.attachments:
                user_parts.append(types.Part(text=attachment.describe()))
                user_parts.append(uploads.part_for(attachment))
        except Exception as exc:
            raise _sdk_error(exc, settings.timeout) from None
        user_parts.append(types.Part(text=prepared.text))
        user = types.Content(role="user", parts=user_parts)

        config = types.GenerateContentConfig(
            tools=[types.Tool(code_execution=types.ToolCodeExecution())],
            temperature=options.temperature,
            system_instruction=options.system_instruction or None,
            thinking_config=types.ThinkingConfig(include_thoughts=True)
            if options.show_thoughts
            else None,
        )
        # --new: sent without the history, which is forgotten only once the answer came.
        history = (
            []
            if options.new
            else conversation.context_for(options.cell_id, resend_media=settings.resend_media)
        )
        contents = [*history, user]
        view.notice(_sent_line(prepared.sent_summary(), earlier=(len(contents) - 1) // 2))
        shown = 0

        def on_part(part: types.Part) -> None:
            nonlocal shown
            shown += 1
            view.add(part)

        try:
            answer, contents = self._send_repairing(
                client, options, contents, config, on_part, lambda: shown, view
            )
        except KeyboardInterrupt:
            view.abort("", interrupted=True)
            raise
        except GeminiMagicError as exc:
            if shown:
                view.abort(exc.message)
            raise
        if not answer.parts:
            raise GeminiAPIError(
                f"Gemini returned no answer (finish reason: {answer.finish_reason or 'none'}).",
                hint="Nothing was added to the conversation; rephrase the prompt and retry.",
            )
        from gemini_magic.response import GeminiResponse

        user = contents[-1]
        offline = OFFLINE_MARK in (answer.model_version or "")
        usage = _usage_dict(answer.usage)
        if options.new:
            self.store.reset(options.conversation)
            conversation = self.store.get(options.conversation)
        conversation.record(
            Exchange(
                user=user,
                model=types.Content(role="model", parts=answer.parts),
                prompt=template,
                cell_id=options.cell_id,
                model_name=options.model,
                usage=usage,
            )
        )
        for key, value in usage.items():
            self.usage_totals[key] = self.usage_totals.get(key, 0) + value
        response = GeminiResponse(
            prompt=template,
            parts=answer.parts,
            model=options.model,
            model_version=answer.model_version,
            usage=answer.usage,
            offline=offline,
            latency_s=answer.latency_s,
            conversation=options.conversation,
            finish_reason=answer.finish_reason,
        )
        if answer.finish_reason not in _COMPLETE:
            view.notice(
                f"⚠ The answer ended early (finish reason {answer.finish_reason}): what is "
                "shown is all the service sent, and it was kept in the conversation."
            )
        view.finish(response.footer)
        return response

    def _send_repairing(
        self,
        client: genai.Client,
        options: AskOptions,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        on_part: Any,
        shown: Any,
        view: Any,
    ) -> tuple[Any, list[types.Content]]:
        """Send; if the service says a referenced upload or the context cache is gone,
        re-upload it (make it again) and resend, once."""
        from gemini_magic.request import RetryPolicy, send
        from gemini_magic.uploads import replace_files

        settings = self.settings
        policy = RetryPolicy(
            attempts=settings.max_retries + 1,
            initial_delay=settings.retry_initial_delay,
            max_delay=settings.retry_max_delay,
        )

        def on_retry(error: GeminiMagicError, wait: float, attempt: int) -> None:
            view.notice(
                f"{error.message.splitlines()[0]} Retrying in {wait:.1f} s "
                f"(attempt {attempt} of {policy.attempts})."
            )

        caches = self.context_caches()
        repaired = recached = False
        while True:
            # With a context cache, only the turns after the cached history are sent.
            sent, sent_config = caches.prepare(
                options.conversation, self.store, options.model, contents, config, view.notice
            )
            try:
                answer = send(
                    client,
                    model=options.model,
                    contents=sent,
                    config=sent_config,
                    stream=options.stream,
                    on_part=on_part,
                    on_retry=on_retry,
                    policy=policy,
                    timeout_s=settings.timeout,
                )
                return answer, contents
            except GeminiAPIError as exc:
                may_recache = sent_config.cached_content is not None and not (recached or shown())
                if may_recache and caches.lost(options.conversation, exc):
                    recached = True
                    view.notice("The context cache had expired; it is made again.")
                    continue
                referenced = any(p.file_data for c in contents for p in c.parts or [])
                if repaired or shown() or exc.code not in (403, 404) or not referenced:
                    raise
                try:
                    replacements = self.uploads().repair(contents)
                except Exception as error:
                    raise _sdk_error(error, settings.timeout) from None
                if replacements is None:
                    raise
                repaired = True
                contents = replace_files(contents, replacements)
                for conversation in self.store:
                    conversation.replace_files(replacements)
                view.notice("An uploaded attachment had expired; it was uploaded again.")


#: Finish reasons of an answer that ended as the model meant it to.
_COMPLETE = frozenset({None, "STOP", "FINISH_REASON_UNSPECIFIED"})


def _sent_line(summary: str, *, earlier: int) -> str:
    """The "Sent:" line, saying too that the conversation's earlier turns go along.

    They left the machine before, but the model sees them again with this prompt
    (re-sent, or held in the service's context cache).
    """
    if not earlier:
        return summary
    turns = f"{earlier} earlier turn{'' if earlier == 1 else 's'}"
    return f"{summary.rstrip('.')}; with it the conversation's {turns}."


def _sdk_error(exc: Exception, timeout_s: float) -> GeminiMagicError:
    """A failed Files-API call (upload, re-upload), reported like a failed prompt.

    The SDK's own exception would reach the user as a long traceback quoting the
    service's message verbatim, which can echo the API key; the mapped error is short,
    redacted and has a hint.  Anything that is not a service or network failure is a
    bug and propagates unchanged.
    """
    from gemini_magic.request import map_error

    if isinstance(exc, GeminiMagicError):
        return exc
    return map_error(exc, timeout_s=timeout_s)


def _usage_dict(usage: Any) -> dict[str, int]:
    """The token counts of an answer as plain ints (for totals and the history file)."""
    if usage is None:
        return {}
    names = (
        "prompt_token_count",
        "candidates_token_count",
        "thoughts_token_count",
        "tool_use_prompt_token_count",
        "cached_content_token_count",
        "total_token_count",
    )
    return {n: int(getattr(usage, n)) for n in names if getattr(usage, n, None)}
