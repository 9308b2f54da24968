"""Choosing the classifier's configuration on the training data alone: a fixed stratified 25 % of it is held out,
each candidate is trained on the rest (with the unlabelled pool) and scored on it. `dispatch_eval` and the bench's
nested cross-validation both call this, so no reported fold ever chose the configuration it is scored with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .classifier import Config, Message, TextClassifier
from .embed import EmbeddingCache

# One candidate since the stacker (session 9): it fits the views' mix inside `TextClassifier.fit` on out-of-fold
# predictions, which beat both the fixed averages this used to choose among and weights chosen by inner CV
# (bench/README.md, issue 16). With one candidate nothing is trained here.
CANDIDATES: list[dict[str, Any]] = [{}]


def select_config(
    messages: Sequence[Message],
    labels: Sequence[Any],
    pool: Sequence[Message],
    descriptions: Mapping[Any, Sequence[str]] | None,
    cache: EmbeddingCache | None,
    use_embeddings: bool,
    *,
    seed: int = 0,
) -> Config:
    from sklearn.model_selection import train_test_split

    base = Config(use_embeddings=use_embeddings)
    if len(CANDIDATES) < 2:
        return replace(base, **CANDIDATES[0]) if CANDIDATES else base
    idx = list(range(len(messages)))
    try:
        fit_idx, held_idx = train_test_split(idx, test_size=0.25, stratify=list(labels), random_state=seed)
    except ValueError:  # a class with one example: no stratified split, keep the default
        return base
    best, best_score = base, -1.0
    for change in CANDIDATES:
        if not use_embeddings and ("embed_weight" in change or "zero_shot_weight" in change):
            continue
        config = replace(base, **change)
        model = TextClassifier(config, cache).fit(
            [messages[i] for i in fit_idx],
            [labels[i] for i in fit_idx],
            unlabeled=pool,
            descriptions=descriptions,
        )
        predicted = model.predict([messages[i] for i in held_idx])
        score = sum(int(p.label == labels[i]) for p, i in zip(predicted, held_idx, strict=True)) / len(
            held_idx
        )
        if score > best_score + 1e-9:
            best, best_score = config, score
    return best
