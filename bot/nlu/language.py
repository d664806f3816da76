"""Per-message language detection (es/en) as a Rasa entity extractor.

The `language` slot is filled from the entity this component emits, so it must emit nothing
when unsure: "ok", "123", "👍" or a bare name must leave the conversation's language alone.

Two signals, because each fails where the other is strong:
- function words ("el", "cuanto", "the", "how"): decisive on short, accentless, misspelt
  and Spanglish text ("el shipping cuanto es" is Spanish by its grammar, not its nouns), where
  character models guess;
- lingua (restricted to ES/EN): decides longer text with no function words ("shipping cost
  monterrey") and breaks ties, but only for text the classifier understood (the component
  runs after the FallbackClassifier), because lingua is confident about keyboard mashing too.

`make bench-nlu` reports both against the language metadata of our NLU examples.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.text import words

logger = logging.getLogger(__name__)

ENTITY_NAME = "language"

# Accentless on purpose: text is normalised before lookup. Words that are common in both
# languages ("no", "a", "me", "has", "come", "son", "sale") are left out. Only grammar words:
# Mexican customers borrow English nouns ("shipping", "size", "refund") but not English
# grammar, so a message with Spanish grammar is Spanish.
SPANISH_CUES = frozenset(
    """
    que el la los las lo le les del al de en es un una unos unas por para con sin como cuanto
    cuanta cuantos cuantas cuando donde adonde cual cuales quien quienes porque pero y ni si
    tambien muy mas aun todavia hay tienen tiene tengo tienes puedo puede pueden puedes
    quiero quisiera queria necesito hacen hace hago estoy esta estan estas esto este eso ese esa
    aqui alli ahi mi mis su sus tu tus usted ustedes nosotros nos se te hola gracias buenas
    buenos buen dia dias tardes noches favor porfa porfavor ayuda ayudar saber seria cuesta
    cobran aceptan abren cierran llega llegan envian mandan hacer ver dar voy va van sabe
    ocupo quieren podria podrian tendran cuentan manejan algun alguna ningun nada todo todos
    """.split()
)
ENGLISH_CUES = frozenset(
    """
    the an of in on at to for from with without and or but is are was were be been being do
    does did don doesn didn can could would will should shall had i im my you your youre we
    our they their it its this that these those there here how what whats when where which who
    whom why much many any some hi hello hey thanks thank please pls plz want need know get
    got like just also yes yeah not if about morning afternoon evening good take accept
    see thx ty
    """.split()
)
# Replies that carry no language, or words both languages' chat uses ("yo", "ya"): they must
# not switch a conversation either way.
NEUTRAL = frozenset(
    """
    yo ya ok okay oki okey okis k kk vale va sip nop si no lol jaja jajaja jeje haha hahaha xd hmm
    mmm emm ah oh eh uh bye
    """.split()
)


@functools.lru_cache(maxsize=1)
def _lingua_detector():
    # Imported and built lazily: loading the models takes a moment and memory, and only the
    # two languages the business serves are worth loading. Preloaded: lingua otherwise reads
    # its n-gram models on the first text it is asked about, which made the first customer
    # message that needed it wait about 0.8 s (10 % of a benchmark's profile), not the model load.
    from lingua import Language, LanguageDetectorBuilder

    return (LanguageDetectorBuilder.from_languages(Language.SPANISH, Language.ENGLISH)
            .with_preloaded_language_models().build())


def detect_language(
    text: str,
    lingua_min_confidence: float = 0.9,
    lingua_min_letters: int = 8,
    use_lingua: bool = True,
) -> tuple[Optional[str], float]:
    """Returns ("es" | "en", confidence) when sure, else (None, 0.0)."""
    tokens = [w for w in words(text or "") if w not in NEUTRAL]
    if not tokens:
        return None, 0.0
    es_hits = sum(t in SPANISH_CUES for t in tokens)
    en_hits = sum(t in ENGLISH_CUES for t in tokens)
    if es_hits != en_hits:
        winner = "es" if es_hits > en_hits else "en"
        hits, other = max(es_hits, en_hits), min(es_hits, en_hits)
        return winner, (hits - other) / (hits + other)
    letters = sum(len(t) for t in tokens)
    if not use_lingua or letters < lingua_min_letters:
        return None, 0.0
    from lingua import Language

    best = _lingua_detector().compute_language_confidence_values(" ".join(tokens))[0]
    if best.value < lingua_min_confidence:
        return None, 0.0
    return ("es" if best.language == Language.SPANISH else "en"), float(best.value)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Adds a `language` entity (es/en) to messages whose language is clear."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # 0.9: no wrong answer on the FAQ examples that reach lingua (0.85 had two).
            "lingua_min_confidence": 0.9,
            "lingua_min_letters": 8,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        # Loaded with the model, not on the first customer's message.
        _lingua_detector()
        return cls(config)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["lingua"]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            # Placed after the FallbackClassifier, this sees whether the text was understood.
            # lingua is sure of itself even on keyboard mashing ("hfhfhf hfhf" → English at
            # 0.9999), so text we could not understand switches language only on grammar words.
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            language, confidence = detect_language(
                message.get(TEXT) or "",
                self._config["lingua_min_confidence"],
                self._config["lingua_min_letters"],
                use_lingua=intent != DEFAULT_NLU_FALLBACK_INTENT_NAME,
            )
            if language is None:
                continue
            entity = {
                ENTITY_ATTRIBUTE_TYPE: ENTITY_NAME,
                ENTITY_ATTRIBUTE_VALUE: language,
                ENTITY_ATTRIBUTE_CONFIDENCE: confidence,
                EXTRACTOR: self.__class__.__name__,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages
