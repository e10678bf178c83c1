"""Scripted reply files and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from gemini_magic.emulator import Emulator
from gemini_magic.emulator.answers.replies import load_replies
from gemini_magic.errors import ConfigurationError

MODEL = "gemini-2.5-flash"
ROOT = Path(__file__).resolve().parents[2]
YAML_REPLIES = """\
replies:
  - match: "squares? up to (\\\\d+)"
    parts:
      - text: "Squares, computed:"
      - code: |
          print(sum(i * i for i in range(1, 11)))
      - text: "The sum of the first ten squares is {output}."
  - match: "square"
    parts:
      - text: "This rule is never reached by 'squares up to 10'."
"""


def texts(response) -> list[str]:
    return [p.text for p in response.candidates[0].content.parts if p.text is not None]


def test_yaml_reply_file_runs_code_and_fills_in_its_output(emulator, tmp_path):
    replies = tmp_path / "replies.yaml"
    replies.write_text(YAML_REPLIES)
    emulator.set_replies(replies)
    client = genai.Client()  # kept in a name: a throw-away client closes its transport
    response = client.models.generate_content(model=MODEL, contents="squares up to 10")
    assert texts(response) == ["Squares, computed:", "The sum of the first ten squares is 385."]


def test_json_reply_file_and_first_matching_rule_wins(emulator, tmp_path):
    rules = [
        {"match": "^hello$", "parts": [{"text": "exact hello"}]},
        {"match": "HELLO", "parts": [{"text": "any hello"}]},
    ]
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({"replies": rules}))
    emulator.set_replies(replies)
    client = genai.Client()
    assert texts(client.models.generate_content(model=MODEL, contents="hello")) == ["exact hello"]
    reply = client.models.generate_content(model=MODEL, contents="well, hello there")
    assert texts(reply) == ["any hello"]


def test_replies_set_through_the_http_control_api(emulator):
    body = json.dumps({"replies": [{"match": "ping", "parts": [{"text": "pong"}]}]}).encode()
    request = urllib.request.Request(
        f"{emulator.url}/_emulator/config",
        data=body,
        method="POST",
        headers={"x-goog-api-key": emulator.key},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["replies"] == 1
    client = genai.Client()
    reply = client.models.generate_content(model=MODEL, contents="ping")
    assert texts(reply) == ["pong"]


def test_replies_file_from_the_environment(tmp_path, monkeypatch):
    replies = tmp_path / "env.yaml"
    replies.write_text(YAML_REPLIES)
    monkeypatch.setenv("GEMINI_EMULATOR_REPLIES", str(replies))
    assert len(Emulator().replies_rules) == 2


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"nope": []}, "expected a list of rules"),
        ([{"parts": [{"text": "x"}]}], "rule 0: a rule needs 'match'"),
        ([{"match": "(", "parts": [{"text": "x"}]}], "bad regex"),
        ([{"match": "a", "parts": []}], "non-empty list"),
        ([{"match": "a", "parts": [{"image": "x.png"}]}], "part 0: each part is"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(rules, message):
    with pytest.raises(ConfigurationError, match=message):
        load_replies(rules)


def test_unreadable_or_invalid_file_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="Cannot read the replies file"):
        load_replies(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("replies: [unclosed")
    with pytest.raises(ConfigurationError, match="is not valid"):
        load_replies(broken)


def test_command_line_serves_until_ctrl_c(tmp_path):
    replies = tmp_path / "replies.yaml"
    replies.write_text(YAML_REPLIES)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gemini_magic.emulator", "--port", "0", "--replies", str(replies)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = process.stdout.readline()
        url = first.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        assert process.stdout.readline().split() == ["export", f"GOOGLE_GEMINI_BASE_URL={url}"]
        # The key it made up is printed for its user, who has only to export it.
        name, key = process.stdout.readline().split()[1].split("=", 1)
        assert name == "GEMINI_API_KEY" and len(key) >= 40
        client = genai.Client(api_key=key, http_options={"base_url": url})
        reply = client.models.generate_content(model=MODEL, contents="squares up to 10")
        assert texts(reply)[-1] == "The sum of the first ten squares is 385."
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out


def test_thought_parts_show_on_generate_content_only_when_asked_for(emulator):
    emulator.set_replies(
        [{"match": "think", "parts": [{"thought": "Two and two."}, {"text": "Four."}]}]
    )
    client = genai.Client()
    plain = client.models.generate_content(model=MODEL, contents="think")
    assert [(p.text, p.thought) for p in plain.candidates[0].content.parts] == [("Four.", None)]
    assert plain.usage_metadata.thoughts_token_count is None
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True)
    )
    shown = client.models.generate_content(model=MODEL, contents="think", config=config)
    thought, answer = shown.candidates[0].content.parts
    assert (thought.text, thought.thought, answer.text) == ("Two and two.", True, "Four.")
    assert thought.thought_signature
    usage = shown.usage_metadata
    assert usage.thoughts_token_count == 3 and usage.candidates_token_count == 2
    assert usage.total_token_count == usage.prompt_token_count + 5
