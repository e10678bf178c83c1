"""The built-in data analyst: answers unscripted prompts about attached files.

For CSV files it recognises the usual intents (plot, mean, sum, min, max, count,
describe, group by a named column); other files are measured (:mod:`measure`: an
image's size and main colour, a text's lines and words, a PDF's pages).  It writes
plain pandas / Pillow / Matplotlib code *as text*, and leaves the computing to the
sandbox.  Its answer text only quotes lines the executed code
printed, so it can never state a number it did not compute.  Anything else gets
:data:`NO_ANSWER`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from gemini_magic.emulator.answers.measure import CANNOT_SEE, AttachedFile, kind_of, measuring_code
from gemini_magic.emulator.answers.sandbox import OUTCOME_OK, Execution, sandbox_name
from gemini_magic.emulator.wire.codec import Attachment

NO_ANSWER = (
    "The offline emulator has no answer for this prompt. Offline, it answers scripted "
    "prompts (a replies file) and simple analyses of attached CSV files: plot, mean, sum, "
    "min, max, count, describe, group by a column; and it measures attached images, "
    "text files and PDFs."
)

_INTENTS = {
    "plot": r"\b(plot|chart|graph|visuali[sz]e|histogram|draw|diagram)",
    "mean": r"\b(mean|average|avg)\b",
    "sum": r"\b(sum|total)\b",
    "min": r"\b(min|minimum|smallest|lowest|least)\b",
    "max": r"\b(max|maximum|largest|highest|biggest|greatest)\b",
    "count": r"\b(count|how many|number of (rows|records|entries|lines))\b",
    "describe": r"\b(describe|description|summary|summari[sz]e|statistics|stats|overview)\b",
}
_AGGREGATES = ("mean", "sum", "min", "max")
_GROUP_WORDS = re.compile(r"\b(?:group(?:ed)?\s+by|broken\s+down\s+by|by|per|for\s+each)\s+")
_HISTOGRAM = re.compile(r"\b(histogram|distribution)")
_MAX_FILES = 5


@dataclass
class CsvTable:
    """An attached CSV as the analyst sees it: its sandbox name and header."""

    name: str
    columns: list[str]
    value_columns: list[str] = field(default_factory=list)
    group_by: str | None = None
    mentioned: bool = False


@dataclass
class Plan:
    """What to compute: the intents, in a fixed order, and the tables."""

    intents: list[str]
    tables: list[CsvTable]
    histogram: bool = False
    files: list[AttachedFile] = field(default_factory=list)
    """Attachments that are not tables: measured, whatever the prompt asks."""


def _is_csv(attachment: Attachment) -> bool:
    name = (attachment.display_name or "").lower()
    return attachment.mime_type == "text/csv" or name.endswith(".csv")


def _header(data: bytes) -> list[str]:
    first = data.decode("utf-8-sig", errors="replace").splitlines()[:1]
    row = next(csv.reader(io.StringIO(first[0])), []) if first else []
    return [c for c in row if c.strip()]


def _mentions(text: str, column: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(column.lower())}(?!\w)", text) is not None


def _group_column(text: str, columns: list[str]) -> str | None:
    """The column named after "group by" / "by" / "per" / "for each", if any."""
    for match in _GROUP_WORDS.finditer(text):
        rest = re.sub(r"^(?:the\s+)?[`'\"]?", "", text[match.end() :])
        for column in sorted(columns, key=len, reverse=True):
            low = column.lower()
            if rest.startswith(low) and not re.match(r"\w", rest[len(low) : len(low) + 1]):
                return column
    return None


def plan(prompt_parts: list[str], attachments: list[Attachment]) -> Plan | None:
    """Decide what to compute, or None when the analyst has no answer.

    Text parts that describe attachments (they mention ``input_file_``) are left out,
    so a column list sent as context does not count as the user naming columns.
    """
    asked = [p for p in prompt_parts if "input_file_" not in p] or prompt_parts
    text = " ".join(asked).lower()
    intents = [name for name, rx in _INTENTS.items() if re.search(rx, text)]
    # A conversation resends its attachments each turn: analyse each distinct file once.
    seen: set[bytes] = set()
    tables, files = [], []
    for i, attachment in enumerate(attachments):
        if attachment.data in seen:
            continue
        seen.add(attachment.data)
        name = sandbox_name(i, attachment)
        if _is_csv(attachment):
            tables.append(CsvTable(name, _header(attachment.data)))
        else:
            files.append(AttachedFile(name, kind_of(attachment), attachment.mime_type))
    files = files[:_MAX_FILES]
    for table in tables:
        table.group_by = _group_column(text, table.columns)
        named = [c for c in table.columns if _mentions(text, c) and c != table.group_by]
        others = [c for c in table.columns if c != table.group_by]
        table.mentioned = bool(named or table.group_by)
        # Every column named at once is a column list sent as context, not a choice.
        table.value_columns = [] if len(named) == len(others) > 1 else named
    if not intents and any(t.group_by for t in tables):
        intents = ["mean"]
    if not (tables and intents):
        return Plan([], [], files=files) if files else None
    named_tables = [t for t in tables if t.mentioned]
    chosen = (named_tables or tables)[:_MAX_FILES]
    return Plan(intents, chosen, histogram=bool(_HISTOGRAM.search(text)), files=files)


def planning(plan: Plan) -> str:
    """The analyst's thought summary: what it is about to compute, from which files."""
    steps = []
    if plan.tables:
        names = ", ".join(t.name for t in plan.tables)
        steps.append(f"read {names} with pandas and compute {', '.join(plan.intents)}")
    if plan.files:
        steps.append(f"measure {', '.join(f.name for f in plan.files)} with Python")
    return f"Planning: {'; then '.join(steps)}."


def opening(plan: Plan) -> str:
    """The reply's first sentence, before its code."""
    if plan.tables:
        return "I'll load the data with pandas and compute that.\n\n"
    return "I'll measure the attached files with Python.\n\n"


_PRELUDE = '''import pandas as pd
{pyplot}

def fmt(value):
    """Whole numbers as they are, others rounded to 4 decimals."""
    value = float(value)
    return str(int(value)) if value.is_integer() else str(round(value, 4))

'''


def code_for(plan: Plan) -> str:
    """Plain pandas + Matplotlib code for ``plan``, readable on its own."""
    lines = []
    if plan.tables:
        pyplot = "import matplotlib.pyplot as plt" if "plot" in plan.intents else ""
        lines.append(_PRELUDE.format(pyplot=pyplot).replace("\n\n\n", "\n\n"))
    for i, table in enumerate(plan.tables):
        lines.extend(_table_code(plan, table, f"df{i}" if len(plan.tables) > 1 else "df"))
    if plan.files:
        lines.extend(measuring_code(plan.files))
    return "\n".join(lines).rstrip() + "\n"


def _table_code(plan: Plan, table: CsvTable, df: str) -> list[str]:
    # Names from the user (the file's, the columns') enter the code only as repr()
    # literals bound to variables; f-strings name those variables, so no quote, brace
    # or newline in a name can become code.
    source, cols = f"{df}_file", f"{df}_cols"
    code = [
        f"{source} = {table.name!r}",
        f"{df} = pd.read_csv({source})",
        f'print(f"{{{source}}}: {{len({df})}} rows, {{{df}.shape[1]}} columns")',
    ]
    if table.value_columns:
        code.append(
            f"{cols} = [c for c in {table.value_columns!r} "
            f"if pd.api.types.is_numeric_dtype({df}[c])]"
        )
    else:
        group = [table.group_by] if table.group_by else []
        code.append(
            f'{cols} = [c for c in {df}.select_dtypes("number").columns if c not in {group!r}]'
        )
    aggregates = [op for op in _AGGREGATES if op in plan.intents]
    if table.group_by:
        code.extend(_grouped_code(plan, table.group_by, df, cols, aggregates))
    else:
        if "count" in plan.intents:
            code.append(f'print(f"row count: {{len({df})}}")')
        for op in aggregates:
            code.append(f"for col in {cols}:")
            code.append(f'    print(f"{op} of {{col}}: {{fmt({df}[col].{op}())}}")')
        if "describe" in plan.intents:
            code.append(f"print({df}[{cols}].describe().to_string() if {cols} else ")
            code.append(f'      {df}.describe(include="all").to_string())')
        if "plot" in plan.intents:
            kind = ".hist(ax=ax, alpha=0.6)" if plan.histogram else "(ax=ax)"
            code.extend(
                [
                    f"if {cols}:",
                    "    fig, ax = plt.subplots(figsize=(6, 4))",
                    f"    {df}[{cols}].plot{kind}",
                    f"    ax.set_title({source})",
                    "    fig.tight_layout()",
                ]
            )
    code.append(f'if not {cols}:\n    print(f"{{{source}}}: no numeric columns to compute with")')
    code.append("")
    return code


def _grouped_code(plan: Plan, group: str, df: str, cols: str, aggregates: list[str]) -> list[str]:
    grouped, by = f"{df}_by", f"{df}_group"
    code = [f"{by} = {group!r}", f"{grouped} = {df}.groupby({by})"]
    if "count" in plan.intents:
        code.append(f"for key, n in {grouped}.size().items():")
        code.append(f'    print(f"count for {{{by}}}={{key}}: {{n}}")')
    ops = aggregates or ([] if "count" in plan.intents else ["mean"])
    for op in ops:
        code.append(f"for key, row in {grouped}[{cols}].{op}().iterrows():")
        code.append(f"    for col in {cols}:")
        code.append(f'        print(f"{op} of {{col}} for {{{by}}}={{key}}: {{fmt(row[col])}}")')
    if "describe" in plan.intents:
        code.append(f"print({grouped}[{cols}].describe().to_string())")
    if "plot" in plan.intents:
        what = f"{grouped}.size()" if not ops else f"{grouped}[{cols}].{ops[0]}()"
        title = "count" if not ops else ops[0]
        code.extend(
            [
                "fig, ax = plt.subplots(figsize=(6, 4))",
                f"{what}.plot.bar(ax=ax)",
                f'ax.set_title(f"{title} by {{{by}}}")',
                "fig.tight_layout()",
            ]
        )
    return code


_SCALAR_LINE = re.compile(r"^([^:\n]{1,120}): (\S[^\n]{0,80})$")


def answer_text(plan: Plan, execution: Execution) -> str:
    """The reply text, built only from what the executed code printed."""
    names = ", ".join([t.name for t in plan.tables] + [f.name for f in plan.files])
    if execution.outcome != OUTCOME_OK:
        return (
            f"The analysis of {names} did not complete ({execution.outcome}), so the offline "
            "emulator has no figures to report. The output above shows what happened."
        )
    scalars: list[str] = []
    table: list[str] = []
    for line in execution.output.splitlines():
        if not line.strip():
            continue
        match = _SCALAR_LINE.match(line)
        if match:
            scalars.append(f"- {match.group(1)}: **{match.group(2)}**")
        else:
            table.append(line)
    if plan.tables:
        text = [f"Computed offline with pandas from {names} (decimals rounded to 4 places):"]
    else:
        text = [f"Measured offline with Python from {names}:"]
    if scalars:
        text.append("\n".join(scalars))
    if table:
        text.append("```\n" + "\n".join(table) + "\n```")
    if execution.figures:
        count = len(execution.figures)
        text.append("The chart is shown above." if count == 1 else f"{count} charts above.")
    if plan.files:
        text.append(CANNOT_SEE)
    return "\n\n".join(text) + "\n"
