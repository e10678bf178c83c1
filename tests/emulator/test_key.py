"""The emulator answers only its own key: another local process can make it run nothing.

The emulator runs the code of its replies as the user who started it, and on a shared
machine every user can reach every loopback port.  Every route (both APIs, uploads,
files, caches, models, the ``/_emulator/`` control API) is tried here from another
process with plain ``urllib``, without a key and with a wrong one, the way a stranger
would: each is refused as the service refuses it, nothing runs, nothing changes and
nothing is logged.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from google import genai
from google.genai import _interactions_errors as ix
from google.genai import errors

from gemini_magic.emulator import Emulator
from gemini_magic.errors import GeminiAPIError
from tests.helpers.magic import run_cell

MODEL = "gemini-3-flash-preview"
NO_KEY = {
    "error": {
        "code": 403,
        "message": "Method doesn't allow unregistered callers (callers without established "
        "identity). Please use API key or other form of API consumer identity to call this API.",
        "status": "PERMISSION_DENIED",
    }
}
BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
#: What the service answers a wrong key, on generateContent and Interactions alike.
BAD_KEY = {
    "error": {
        "code": 400,
        "message": BAD_KEY_MESSAGE,
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": BAD_KEY_MESSAGE,
            },
        ],
    }
}

#: Another process: sends each request of a JSON list (stdin) with plain urllib and
#: prints (status, JSON body) for each.
STRANGER = r"""
import json, sys, urllib.error, urllib.request
answers = []
for method, url, headers, body in json.load(sys.stdin):
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        answers.append([status, json.loads(raw)])
    except ValueError:
        answers.append([status, raw.decode(errors="replace")])
print(json.dumps(answers))
"""


def from_another_process(requests: list[tuple[str, str, dict[str, str], str | None]]) -> list:
    """Send ``requests`` from a separate Python process; its (status, body) answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    done = subprocess.run(
        [sys.executable, "-c", STRANGER],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def every_route(
    emulator: Emulator, file_id: str, interaction_id: str, marker: Path
) -> list[tuple[str, str, dict[str, str], str | None]]:
    """One request per route and method, each asking for something to run or change."""
    run = json.dumps({"contents": [{"role": "user", "parts": [{"text": "write the marker"}]}]})
    create = json.dumps({"model": MODEL, "input": "write the marker"})
    sneaky_reply = {"match": "stranger", "parts": [{"code": f"open({str(marker)!r}, 'w')"}]}
    cache = json.dumps({"model": f"models/{MODEL}", "contents": [{"parts": [{"text": "x"}]}]})
    upload_headers = {
        "X-Goog-Upload-Protocol": "resumable",
        "X-Goog-Upload-Command": "start",
        "X-Goog-Upload-Header-Content-Type": "text/csv",
    }
    json_type = {"Content-Type": "application/json"}
    return [
        ("POST", f"/v1/models/{MODEL}:generateContent", json_type, run),
        ("POST", f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", json_type, run),
        ("POST", "/v1/interactions", json_type, create),
        (
            "POST",
            "/v1beta/interactions",
            json_type,
            json.dumps({**json.loads(create), "stream": True}),
        ),
        ("GET", f"/v1/interactions/{interaction_id}", {}, None),
        ("GET", f"/v1/interactions/{interaction_id}?stream=true", {}, None),
        ("POST", f"/v1/interactions/{interaction_id}/cancel", json_type, "{}"),
        ("DELETE", f"/v1/interactions/{interaction_id}", {}, None),
        ("POST", "/upload/v1beta/files", upload_headers, json.dumps({"file": {}})),
        ("GET", "/v1/files", {}, None),
        ("GET", f"/v1/files/{file_id}", {}, None),
        ("DELETE", f"/v1beta/files/{file_id}", {}, None),
        ("GET", "/v1/cachedContents", {}, None),
        ("POST", "/v1/cachedContents", json_type, cache),
        ("PATCH", "/v1/cachedContents/c1", json_type, json.dumps({"ttl": "60s"})),
        ("DELETE", "/v1/cachedContents/c1", {}, None),
        ("GET", "/v1/models", {}, None),
        ("GET", f"/v1beta/models/{MODEL}", {}, None),
        ("POST", f"/v1/models/{MODEL}:explode", json_type, "{}"),
        ("GET", "/_emulator/log", {}, None),
        ("GET", "/_emulator/faults", {}, None),
        ("POST", "/_emulator/faults", json_type, json.dumps({"kind": "expire_file"})),
        ("GET", "/_emulator/config", {}, None),
        ("POST", "/_emulator/config", json_type, json.dumps({"replies": [sneaky_reply]})),
        ("POST", "/_emulator/reset", json_type, "{}"),
        ("POST", "/v1/interactions", json_type, json.dumps({"model": MODEL, "input": "stranger"})),
    ]


@pytest.fixture
def marked(emulator: Emulator, tmp_path: Path) -> Path:
    """A scripted reply whose code writes a file: the file appears only if code ran."""
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('ran')\nprint('written')"
    emulator.set_replies([{"match": "write the marker", "parts": [{"code": code}]}])
    return marker


def test_no_key_and_a_wrong_key_are_refused_on_every_route_and_run_nothing(
    emulator, marked, tmp_path
):
    client = genai.Client()  # the emulator's own key, from GEMINI_API_KEY
    file = client.files.upload(file=_csv(tmp_path), config={"mime_type": "text/csv"})
    interaction = client.interactions.create(model=MODEL, input="hello")
    emulator.inject("status", code=500, count=1, path="never-matches")
    before = (len(emulator.log), len(emulator.replies_rules), emulator.config())
    sneaky = tmp_path / "sneaky"
    routes = every_route(emulator, file.name.removeprefix("files/"), interaction.id, sneaky)
    requests = []
    for key in (None, "made-up-key", emulator.key[:-1], emulator.key + "x"):
        for method, path, headers, body in routes:
            sent = dict(headers) if key is None else {**headers, "x-goog-api-key": key}
            requests.append((method, f"{emulator.url}{path}", sent, body))
        # The key as a query parameter, as the service also takes it.
        if key is not None:
            method, path, headers, body = routes[0]
            requests.append((method, f"{emulator.url}{path}?key={key}", headers, body))

    answers = from_another_process(requests)

    assert len(answers) == len(requests)
    for (method, url, headers, _), (status, body) in zip(requests, answers, strict=True):
        keyed = "x-goog-api-key" in headers or "?key=" in url
        expected = (400, BAD_KEY) if keyed else (403, NO_KEY)
        assert (status, body) == expected, f"{method} {url}"
    assert not marked.exists() and not sneaky.exists()  # no code ran
    assert (len(emulator.log), len(emulator.replies_rules), emulator.config()) == before
    assert client.files.get(name=file.name).name == file.name  # nothing deleted or expired
    assert client.interactions.get(interaction.id).status == "completed"


def test_with_its_key_the_same_requests_do_run(emulator, marked):
    """The other side of the test above: the marker does appear when the key is right."""
    answers = from_another_process(
        [
            (
                "POST",
                f"{emulator.url}/v1/interactions",
                {"Content-Type": "application/json", "x-goog-api-key": emulator.key},
                json.dumps({"model": MODEL, "input": "write the marker"}),
            ),
            ("GET", f"{emulator.url}/_emulator/log", {"x-goog-api-key": emulator.key}, None),
        ]
    )
    assert [status for status, _ in answers] == [200, 200]
    assert marked.read_text() == "ran"
    assert len(answers[1][1]["requests"]) == 1


def test_an_upload_url_cannot_be_guessed_and_a_wrong_one_stores_nothing(emulator, tmp_path):
    client = genai.Client()
    client.files.upload(file=_csv(tmp_path), config={"mime_type": "text/csv"})
    (_start, data) = [r for r in emulator.log if r.path.startswith("/upload/")]
    upload_id = data.query["upload_id"]
    assert len(upload_id) >= 40  # random: 32 bytes of secrets.token_urlsafe
    guess = f"{emulator.url}/upload/v1beta/files?upload_id=files-1"
    headers = {"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"}
    [(status, body)] = from_another_process([("POST", guess, headers, "a,b\n1,2\n")])
    assert status == 404 and "upload session" in body["error"]["message"]
    assert len(emulator.files.list()) == 1


def test_the_sdk_reads_a_wrong_key_as_the_service_s_invalid_key_error(emulator):
    stranger = genai.Client(
        api_key="made-up-key",
        http_options={"base_url": emulator.url, "retry_options": {"attempts": 1}},
    )
    with pytest.raises(errors.ClientError) as caught:
        stranger.models.generate_content(model=MODEL, contents="hello")
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert caught.value.message == BAD_KEY_MESSAGE
    with pytest.raises(ix.BadRequestError) as refused:
        stranger.interactions.create(model=MODEL, input="hello")
    assert refused.value.body == BAD_KEY
    assert emulator.log == []


@pytest.mark.parametrize("shell", ["ip", "ix"])
def test_a_wrong_key_fails_the_prompt_with_the_key_hint_on_both_apis(
    shell, emulator, marked, monkeypatch, request
):
    ip = request.getfixturevalue(shell)  # generateContent, then Interactions
    monkeypatch.setenv("GEMINI_API_KEY", "made-up-key")
    run = run_cell(ip, "%%gemini\nwrite the marker")
    assert isinstance(run.error, GeminiAPIError), run.error
    assert (run.error.code, run.error.service_message) == (400, BAD_KEY_MESSAGE)
    assert "GEMINI_API_KEY" in run.error.hint and "made-up-key" not in str(run.error)
    assert not marked.exists() and emulator.log == []


def test_each_emulator_makes_its_own_long_random_key():
    first, second = Emulator(replies=[]), Emulator(replies=[])
    assert first.key != second.key and len(first.key) >= 40
    assert Emulator(replies=[], key="chosen").key == "chosen"
    with pytest.raises(Exception, match="non-empty"):
        Emulator(replies=[], key="")


def test_the_magic_s_offline_mode_uses_its_own_emulator_s_key(ip, emulator):
    assert run_cell(ip, "%gemini offline on").success
    run = run_cell(ip, "%%gemini\nhello")
    assert run.success, run.error
    own = ip.magics_manager.registry["GeminiMagics"].session.emulator
    assert own is not emulator and own.key not in (emulator.key, os.environ["GEMINI_API_KEY"])
    assert own.log and not emulator.log
    [(status, body)] = from_another_process(
        [("GET", f"{own.url}/_emulator/log", {"x-goog-api-key": emulator.key}, None)]
    )
    assert (status, body) == (400, BAD_KEY)


def test_the_command_line_writes_its_key_to_a_private_file_and_never_prints_it(tmp_path):
    key_file = tmp_path / "key"
    out, err = _serve_briefly(["--key-file", str(key_file)])
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key) >= 40 and key not in out + err
    assert "serving on http://127.0.0.1:" in out and "warning" not in err


def test_the_command_line_takes_a_chosen_key_and_warns_when_not_on_loopback(tmp_path):
    out, err = _serve_briefly(["--key", "chosen-key-for-a-test", "--host", "0.0.0.0"])
    assert "export GEMINI_API_KEY=chosen-key-for-a-test" in out
    assert "anyone who can reach it and has the key can run code as you" in err


def test_the_command_line_refuses_an_existing_key_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("someone else's\n")
    done = subprocess.run(
        [sys.executable, "-m", "gemini_magic.emulator", "--key-file", str(key_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Cannot create the key file" in done.stderr
    assert key_file.read_text() == "someone else's\n"


def _serve_briefly(options: list[str]) -> tuple[str, str]:
    """Start ``python -m gemini_magic.emulator`` with ``options``, check it answers its
    key only, stop it; return its stdout and stderr."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gemini_magic.emulator", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Its three lines: where it serves, the URL and the key to export.
        first = "".join(server.stdout.readline() for _ in range(3))
        url = first.split("\n")[0].split()[-1]
        [(status, _)] = from_another_process([("GET", f"{url}/_emulator/log", {}, None)])
        assert status == 403
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=10)
    return first + out, err


def _csv(folder: Path) -> Path:
    path = folder / "data.csv"
    path.write_text("a,b\n1,2\n")
    return path
