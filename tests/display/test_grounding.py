"""Google Search (``--search``): the tool sent, the queries and sources shown, sanitised;
offline and unscripted, an honest note and no invented source.  On both APIs."""

from __future__ import annotations

from tests.helpers.magic import run_cell
from tests.helpers.wire import prompt_requests

SEARCH_REPLY = [
    {
        "match": "population of lyon",
        "parts": [
            {
                "search": {
                    "queries": ["population of Lyon"],
                    "sources": [
                        {"title": "INSEE: Lyon", "uri": "https://www.insee.fr/fr/statistiques/lyon"}
                    ],
                    "suggestions": '<div class="chips"><a href="https://www.google.com/search?q=lyon">'
                    'Lyon</a><script>alert(1)</script><img src=x onerror="alert(2)"></div>',
                }
            },
            {"text": "Lyon had about 522,000 inhabitants in 2021."},
        ],
    }
]


def test_search_shows_queries_sources_and_a_sanitised_entry_point(any_api, emulator_with_replies):
    emulator = emulator_with_replies(SEARCH_REPLY)
    run = run_cell(any_api, "%%gemini --search\nWhat is the population of Lyon?")
    assert run.success, run.error
    request = prompt_requests(emulator)[-1]
    search_tool = {
        "interactions": {"type": "google_search"},
        "generate_content": {"googleSearch": {}},
    }
    api = any_api.magics_manager.registry["GeminiMagics"].api
    assert search_tool[api] in request.body["tools"]
    (search,) = [o for o in run.outputs if "gemini-magic-search" in o.get("text/html", "")]
    assert "population of Lyon" in search["text/html"]
    assert 'href="https://www.insee.fr/fr/statistiques/lyon"' in search["text/html"]
    assert "<script" not in search["text/html"] and "onerror" not in search["text/html"]
    assert "INSEE: Lyon — https://www.insee.fr" in search["text/plain"]
    response = any_api.user_ns["_gemini"]
    assert response.grounding.queries == ["population of Lyon"]


def test_search_unscripted_offline_says_so_and_invents_no_source(any_api, emulator):
    run = run_cell(any_api, "%%gemini --search\nWho won yesterday?")
    assert run.success, run.error
    assert "not available in the offline emulator" in run.all_text()
    assert not [o for o in run.outputs if "gemini-magic-search" in o.get("text/html", "")]
