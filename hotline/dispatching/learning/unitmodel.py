"""The auto-dispatch model: the text classifier with units as labels, plus the training cases' TF-IDF rows so a
suggestion can name the most similar past cases. Saved with joblib under HOTLINE_VAR_DIR (never committed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from . import texts as T
from .classifier import Config, Message, TextClassifier
from .embed import EmbeddingCache


@dataclass(frozen=True)
class TrainingCase:
    number: str
    title: str
    content: str
    unit_id: int
    weight: float = 1.0


@dataclass
class UnitPrediction:
    unit_id: int
    confidence: float
    similar: list[dict[str, Any]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)


class UnitModel:
    def __init__(self, classifier: TextClassifier, rows: Any, numbers: list[str], units: list[int]) -> None:
        self.classifier = classifier
        self.rows = rows
        self.numbers = numbers
        self.units = units

    @classmethod
    def train(
        cls,
        cases: list[TrainingCase],
        *,
        descriptions: dict[int, list[str]] | None = None,
        embeddings: bool = True,
    ) -> UnitModel:
        cache = EmbeddingCache() if embeddings else None
        # the catalogue's descriptions (keywords, examples) are not validated as zero-shot labels: the mix that
        # was measured before the taxonomy's zero-shot view
        config = Config(
            use_embeddings=embeddings,
            self_training_rounds=0,
            svm_temperature=4.0,
            embed_weight=0.5,
            zero_shot_weight=0.0,
            combine="average",
        )
        classifier = TextClassifier(config, cache)
        classifier.fit(
            [Message(c.title, c.content) for c in cases],
            [c.unit_id for c in cases],
            descriptions=descriptions,
            weights=[c.weight for c in cases],
        )
        assert classifier.tfidf_ is not None
        rows = classifier.tfidf_.transform([T.full_text(c.title, c.content) for c in cases])
        return cls(classifier.with_cache(None), rows, [c.number for c in cases], [c.unit_id for c in cases])

    def predict(self, title: str, content: str) -> UnitPrediction:
        if self.classifier.embed_model_ is not None and self.classifier._cache is None:
            self.classifier.with_cache(EmbeddingCache())
        prediction = self.classifier.predict([Message(title, content)], store=True)[0]
        assert self.classifier.tfidf_ is not None
        query = self.classifier.tfidf_.transform([T.full_text(title, content)])
        scores = (self.rows @ query.T).toarray().ravel()
        top = np.argsort(-scores)[:3]
        similar = [
            {"number": self.numbers[i], "unit_id": self.units[i], "score": round(float(scores[i]), 3)}
            for i in top
            if scores[i] > 0
        ]
        return UnitPrediction(
            unit_id=int(prediction.label), confidence=prediction.confidence, similar=similar
        )

    def save(self, path: Path) -> None:
        self.classifier.with_cache(None)
        tmp = path.with_suffix(".tmp")
        joblib.dump(self, tmp)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> UnitModel:
        model = joblib.load(path)
        assert isinstance(model, UnitModel)
        return model
