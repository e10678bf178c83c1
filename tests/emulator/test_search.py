"""Google Search in the emulator: scripted grounded replies, or an honest "not offline".

A script declares the queries and sources of a search; the emulator never invents one.
"""

from __future__ import annotations

import pytest
from google.genai import interactions as it
from google.genai import types

from gemini_magic.emulator.answers.replies import load_replies
from gemini_magic.errors import ConfigurationError

MODEL = "gemini-3-flash-preview"
SOURCES = [
    {"title": "INSEE: Lyon", "uri": "https://www.insee.fr/fr/statistiques/lyon"},
    {"title": "Lyon (Wikipedia)", "uri": "https://en.wikipedia.org/wiki/Lyon"},
]
ANSWER = "Lyon had about 522,000 inhabitants in 2021."
REPLIES = [
    {
        "match": "lyon",
        "parts": [
            {"search": {"queries": ["population of Lyon", "Lyon <census>"], "sources": SOURCES}},
            {"text": ANSWER},
            {"code": "print(522000 // 1000)"},
            {"text": "That is {output} thousand."},
        ],
    }
]
SEARCH = types.GenerateContentConfig(
    tools=[
        types.Tool(google_search=types.GoogleSearch()),
        types.Tool(code_execution=types.ToolCodeExecution()),
    ]
)
NOT_OFFLINE = "Google Search is not available in the offline emulator"


@pytest.fixture
def replies() -> list[dict]:
    """The script the `client` fixture gives the emulator."""
    return REPLIES


def test_generate_content_reports_the_scripted_search_as_grounding_metadata(client):
    response = client.models.generate_content(model=MODEL, contents="Lyon?", config=SEARCH)
    candidate = response.candidates[0]
    grounding = candidate.grounding_metadata
    assert grounding.web_search_queries == ["population of Lyon", "Lyon <census>"]
    assert [(c.web.title, c.web.uri) for c in grounding.grounding_chunks] == [
        (s["title"], s["uri"]) for s in SOURCES
    ]
    entry = grounding.search_entry_point.rendered_content
    assert "Lyon &lt;census&gt;" in entry and "<census>" not in entry
    assert "https://www.google.com/search?q=population+of+Lyon" in entry
    texts = [p.text for p in candidate.content.parts if p.text]
    assert texts == [ANSWER, "That is 522 thousand."]


def test_streamed_grounding_metadata_rides_on_the_last_event(client):
    chunks = list(
        client.models.generate_content_stream(model=MODEL, contents="Lyon?", config=SEARCH)
    )
    assert all(c.candidates[0].grounding_metadata is None for c in chunks[:-1])
    last = chunks[-1].candidates[0].grounding_metadata
    assert last.web_search_queries == ["population of Lyon", "Lyon <census>"]


def test_without_the_search_tool_the_script_does_not_search(client):
    response = client.models.generate_content(model=MODEL, contents="Lyon?")
    assert response.candidates[0].grounding_metadata is None
    assert response.candidates[0].content.parts[0].text == ANSWER


def test_unscripted_search_says_it_is_not_available_offline(client):
    response = client.models.generate_content(model=MODEL, contents="News today?", config=SEARCH)
    candidate = response.candidates[0]
    assert candidate.grounding_metadata is None
    assert candidate.content.parts[0].text.startswith(NOT_OFFLINE)
    assert "http" not in candidate.content.parts[0].text


def test_interactions_write_search_call_and_result_steps_and_citations(client):
    tools = [{"type": "google_search"}, {"type": "code_execution"}]
    interaction = client.interactions.create(model=MODEL, input="Lyon?", tools=tools)
    kinds = [s.type for s in interaction.steps]
    assert kinds[:4] == ["thought", "google_search_call", "google_search_result", "model_output"]
    call, result, output = interaction.steps[1:4]
    assert isinstance(call, it.GoogleSearchCallStep)
    assert call.arguments.queries == ["population of Lyon", "Lyon <census>"] and call.signature
    assert isinstance(result, it.GoogleSearchResultStep) and result.call_id == call.id
    assert "search-entry-point" in result.result[0].search_suggestions
    [text] = output.content
    assert text.text == ANSWER
    assert [(a.url, a.title, a.start_index, a.end_index) for a in text.annotations] == [
        (s["uri"], s["title"], 0, len(ANSWER.encode())) for s in SOURCES
    ]
    assert interaction.usage.grounding_tool_count[0].count == 1


def test_interactions_stream_the_search_steps(client):
    events = list(
        client.interactions.create(
            model=MODEL, input="Lyon?", tools=[{"type": "google_search"}], stream=True
        )
    )
    deltas = [e.delta for e in events if isinstance(e, it.StepDelta)]
    kinds = [type(d).__name__ for d in deltas]
    assert kinds[1:3] == ["GoogleSearchCallDelta", "GoogleSearchResultDelta"]
    assert "TextAnnotationDelta" in kinds
    [notes] = [d for d in deltas if isinstance(d, it.TextAnnotationDelta)]
    assert [a.url for a in notes.annotations] == [s["uri"] for s in SOURCES]


def test_unscripted_interaction_with_search_cites_nothing(client):
    interaction = client.interactions.create(
        model=MODEL, input="Weather in Paris?", tools=[{"type": "google_search"}]
    )
    assert [s.type for s in interaction.steps] == ["thought", "model_output"]
    [text] = interaction.steps[1].content
    assert text.text.startswith(NOT_OFFLINE) and text.annotations is None


@pytest.mark.parametrize(
    ("search", "words"),
    [
        ({"queries": []}, "non-empty list of strings"),
        ({"queries": ["q"], "sources": [{"title": "t"}]}, "each source is"),
        ({"queries": ["q"], "links": []}, "a search part is"),
    ],
)
def test_bad_search_parts_are_refused(search, words):
    with pytest.raises(ConfigurationError, match=words):
        load_replies([{"match": "x", "parts": [{"search": search}]}])
