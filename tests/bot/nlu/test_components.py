"""The custom NLU components: language detection and the n-gram intent/FAQ classifier,
alone and inside a real (tiny) Rasa assistant."""
from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.language import LanguageDetector, detect_language
from bot.nlu.text import normalize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cuanto cuesta el envio", "es"),  # no accents
        ("el shipping cuanto es", "es"),  # Spanglish: Spanish grammar, English noun
        ("costo del shipping?", "es"),
        ("kuanto kuesta el enbio a monterrey", "es"),  # typos
        ("tienen factura?", "es"),
        ("hola", "es"),
        ("gracias!!", "es"),
        ("how much is shipping", "en"),
        ("do you accept credit cards", "en"),
        ("hi", "en"),
        ("shipping cost to monterrey", "en"),
        ("opening hours", "en"),
        ("Hola, do you ship to the US?", "en"),  # mostly English with a Spanish greeting
    ],
)
def test_detects_language_of_tricky_text(text, expected):
    assert detect_language(text)[0] == expected


@pytest.mark.parametrize("text", ["ok", "OK!", "okey", "123", "👍", "👍👍 ok", "", "   ", "jajaja", "Juan", "si", "no"])
def test_stays_silent_when_the_language_is_unclear(text):
    assert detect_language(text) == (None, 0.0)


def test_normalize_drops_accents_emphasis_and_punctuation():
    assert normalize("¿Cuánto cuesta el ENVÍO???  Holaaaa") == "cuanto cuesta el envio holaa"
    assert normalize("llevar") == "llevar"


def test_component_adds_entity_only_when_confident():
    detector = LanguageDetector({})
    existing = {"entity": "faq_key", "value": "returns", "extractor": "X"}
    messages = [
        Message(data={"text": "el shipping cuanto es"}),
        Message(data={"text": "ok"}),
        Message(data={"text": "how much is shipping", "entities": [existing]}),
    ]
    detector.process(messages)
    assert messages[0].get("entities") == [
        {"entity": "language", "value": "es", "confidence": 1.0, "extractor": "LanguageDetector"}
    ]
    assert not messages[1].get("entities")
    assert messages[2].get("entities")[0] == existing
    assert messages[2].get("entities")[1]["value"] == "en"


def test_component_trusts_only_grammar_words_for_text_not_understood():
    detector = LanguageDetector({})
    fallback = {"name": "nlu_fallback", "confidence": 0.45}
    messages = [
        Message(data={"text": "hfhfhf hfhf", "intent": fallback}),
        Message(data={"text": "my cat is sick", "intent": fallback}),
        Message(data={"text": "hfhfhf hfhf"}),
    ]
    detector.process(messages)
    assert not messages[0].get("entities")
    assert messages[1].get("entities")[0]["value"] == "en"
    # lingua alone would call this English: the reason for the rule above.
    assert detect_language("hfhfhf hfhf")[0] == "en"


def test_sentence_embeddings_are_shipped_multilingual_and_cached():
    import numpy as np

    from bot.nlu import embedding

    vectors = embedding.embed(["cuanto cuesta el envio", "how much is shipping", "my cat is sick", ""])
    assert vectors.shape == (4, embedding.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-3)
    assert not vectors[3].any()  # empty text: similar to nothing
    # The same question in the other language is closer than an unrelated one.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    # Cached per text (whitespace-insensitive): the same numbers come back.
    assert np.array_equal(embedding.embed(["  cuanto cuesta  el envio"])[0], vectors[0])


def test_certainty_does_not_depend_on_the_number_of_labels():
    import numpy as np

    from bot.nlu.scoring import certainty as _certainty

    for labels in (5, 40):
        uniform = np.full((1, labels), 1.0 / labels)
        assert np.allclose(_certainty(uniform), 0.0)
        sure = np.eye(labels)[:1] * 0.999999 + 1e-6 / labels
        assert _certainty(sure)[0, 0] > 0.99
    # Runner-ups never score above the winner, so rankings stay sorted.
    scores = _certainty(np.array([[0.6, 0.3, 0.1]]))
    assert scores[0, 0] > scores[0, 1] > scores[0, 2]


# -- a tiny real assistant: our pipeline, a retrieval intent, Rasa's utter_faq --------------

NLU = """
version: "3.1"
nlu:
- intent: greet
  metadata: {language: es}
  examples: |
    - hola
    - buenas tardes
    - buenos dias
- intent: greet
  metadata: {language: en}
  examples: |
    - hi
    - hello there
    - good morning
- intent: faq/shipping_cost
  metadata: {language: es}
  examples: |
    - cuanto cuesta el envio
    - costo de envio
    - el envio es gratis?
    - cuanto cobran por mandar
- intent: faq/shipping_cost
  metadata: {language: en}
  examples: |
    - how much is shipping
    - shipping cost
    - is shipping free
    - delivery fee
- intent: faq/opening_hours
  metadata: {language: es}
  examples: |
    - a que hora abren
    - horario de la tienda
    - cuando cierran
    - abren el domingo?
- intent: faq/opening_hours
  metadata: {language: en}
  examples: |
    - what time do you open
    - opening hours
    - when do you close
    - are you open on sunday
"""

DOMAIN = """
version: "3.1"
intents: [greet, faq]
entities:
- language:
    influence_conversation: false
slots:
  language:
    type: categorical
    values: [es, en]
    initial_value: es
    influence_conversation: false
    mappings:
    - type: from_entity
      entity: language
actions: [utter_faq]
responses:
  utter_greet:
  - condition: [{type: slot, name: language, value: en}]
    text: "Hi!"
  - text: "¡Hola!"
  utter_faq/shipping_cost:
  - condition: [{type: slot, name: language, value: en}]
    text: "Shipping is $99"
  - text: "El envío cuesta $99"
  utter_faq/opening_hours:
  - condition: [{type: slot, name: language, value: en}]
    text: "We open at 10"
  - text: "Abrimos a las 10"
"""

RULES = """
version: "3.1"
rules:
- rule: faq
  steps:
  - intent: faq
  - action: utter_faq
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: fallback
  steps:
  - intent: nlu_fallback
  - action: action_default_fallback
"""


@pytest.fixture(scope="module")
def tiny_agent(tmp_path_factory):
    import rasa.model_training
    from rasa.core.agent import Agent

    from bot.content.training import rasa_cache

    root = tmp_path_factory.mktemp("tiny-assistant")
    (root / "data").mkdir()
    (root / "data" / "nlu.yml").write_text(textwrap.dedent(NLU))
    (root / "data" / "rules.yml").write_text(textwrap.dedent(RULES))
    (root / "domain.yml").write_text(textwrap.dedent(DOMAIN))
    # The project's own pipeline and policies, so this is what ships.
    config = (Path(__file__).resolve().parents[3] / "config.yml").read_text()
    (root / "config.yml").write_text(config)
    with rasa_cache(root / "cache"):
        result = rasa.model_training.train(
            domain=str(root / "domain.yml"),
            config=str(root / "config.yml"),
            training_files=[str(root / "data")],
            output=str(root / "models"),
            fixed_model_name="tiny",
        )
    assert result.code == 0
    return Agent.load(result.model)


def _parse(agent, text):
    return asyncio.run(agent.parse_message(text))


def test_pipeline_fills_response_selector_like_rasa(tiny_agent):
    parsed = _parse(tiny_agent, "kuanto cuesta el enbio??")
    assert parsed["intent"]["name"] == "faq"
    selected = parsed["response_selector"]["faq"]
    assert selected["response"]["intent_response_key"] == "faq/shipping_cost"
    assert selected["response"]["utter_action"] == "utter_faq/shipping_cost"
    assert selected["ranking"][0]["intent_response_key"] == "faq/shipping_cost"
    assert parsed["response_selector"]["all_retrieval_intents"] == ["faq"]
    assert {"entity": "language", "value": "es"}.items() <= parsed["entities"][0].items()


@pytest.mark.parametrize("text", ["asdkjh qwe", "👍", "zxcvb plmqaz", "hfhfhf hfhf"])
def test_pipeline_rejects_gibberish_and_keeps_the_language(tiny_agent, text):
    parsed = _parse(tiny_agent, text)
    assert parsed["intent"]["name"] == "nlu_fallback"
    assert not [e for e in parsed["entities"] if e["entity"] == "language"]


def test_answers_in_the_customers_language_and_keeps_it_for_ok(tiny_agent):
    async def conversation():
        english = await tiny_agent.handle_text("what time do you open?", sender_id="c1")
        ok = await tiny_agent.handle_text("ok", sender_id="c1")
        tracker = await tiny_agent.tracker_store.retrieve("c1")
        spanish = await tiny_agent.handle_text("cuanto cuesta el envio", sender_id="c2")
        return english, ok, tracker.get_slot("language"), spanish

    english, _, language_after_ok, spanish = asyncio.run(conversation())
    assert [m["text"] for m in english] == ["We open at 10"]
    assert language_after_ok == "en"
    assert [m["text"] for m in spanish] == ["El envío cuesta $99"]


def test_scores_are_the_plain_formula_over_the_whole_feature_matrix():
    """The classifier's inference takes shortcuts (weights split by block, examples grouped by
    label once); its numbers must be those of the whole features times the whole weights and
    each label's nearest example, computed the plain way."""
    import numpy as np
    import scipy.sparse as sp

    from bot.nlu import embedding
    from bot.nlu.classifier import NgramIntentClassifier
    from bot.nlu.scoring import certainty as _certainty
    from bot.nlu.features import NgramBlock, l2_normalise
    from bot.nlu.text import normalize

    examples = ["cuanto cuesta el envio", "costo de envio", "a que hora abren", "horario", "hola", "buenas"]
    labels = np.array([0, 0, 1, 1, 2, 2])
    blocks = [NgramBlock("word", (1, 2)).fit(examples), NgramBlock("char_wb", (2, 5)).fit(examples)]
    width = sum(len(b.vocabulary) for b in blocks)
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(3, width + embedding.DIMENSIONS))
    intercept = rng.normal(size=3)
    example_vectors = embedding.embed(examples)
    classifier = NgramIntentClassifier(
        {"embedding_weight": 0.7}, None, None, blocks=blocks, labels=["a", "b", "c"], coef=coef,
        intercept=intercept, examples=blocks[1].transform(examples), example_labels=labels,
        example_embeddings=example_vectors)

    texts = ["cuanto cuesta mandar", "abren el domingo", "hfhfhf", "hola buenas"]
    normalized = [normalize(t) for t in texts]
    parts = [b.transform(normalized) for b in blocks]
    vectors = embedding.embed(normalized)
    features = sp.hstack([l2_normalise(sp.hstack(parts)), sp.csr_matrix(vectors * 0.7)]).toarray()
    logits = features @ coef.T + intercept
    expected_p = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected_p /= expected_p.sum(axis=1, keepdims=True)
    characters = np.clip(parts[1].toarray() @ blocks[1].transform(examples).toarray().T, 0, 1)
    semantic = np.clip(vectors @ example_vectors.T, 0, 1)
    nearest = np.column_stack([
        np.sqrt(characters[:, labels == i].max(axis=1) * semantic[:, labels == i].max(axis=1))
        for i in range(3)])
    expected_c = np.sqrt(_certainty(expected_p) * nearest)

    for batch in (texts, texts[:1]):
        probabilities, confidences = classifier.scores(batch)
        assert np.allclose(probabilities, expected_p[: len(batch)], atol=1e-9)
        assert np.allclose(confidences, expected_c[: len(batch)], atol=1e-6)


def test_the_language_models_are_read_when_the_component_loads_not_on_a_customers_message():
    """lingua reads its n-gram models (about 100 MB) lazily unless told to preload them; read on
    a customer's message, they held that message up for most of a second. Memory shows where
    they were read: nothing more may be loaded by the first text that reaches lingua."""
    import subprocess
    import sys

    script = """
import psutil
from bot.nlu.language import LanguageDetector, detect_language
LanguageDetector.create({}, None, None, None)
before = psutil.Process().memory_info().rss
assert detect_language("precio envio monterrey zapatos")[0] == "es"
print((psutil.Process().memory_info().rss - before) // 2**20)
"""
    grown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[3])
    assert int(grown.stdout.split()[-1]) < 20, grown.stdout
