"""The classifier's zero-shot view: the title's embedding against the embedded label descriptions (the taxonomy's
names). Fake embeddings, so that the test needs neither the model nor the shared data."""

from __future__ import annotations

import numpy as np

from hotline.dispatching.learning.classifier import Config, Message, TextClassifier


class FakeCache:
    """Texts that mention 学校 point one way, everything else the other."""

    def embed(self, texts, *, store: bool = True):
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, 0 if "学校" in text else 1] = 1.0
        return out


def _fit(config: Config) -> TextClassifier:
    # the labelled messages tie 学校 to 交通运输 (a char model learns that); the descriptions say 教育文体
    messages = [
        Message("学校门口堵车", "早高峰拥堵"),
        Message("学校旁道路破损", "路面坑洼"),
        Message("公交线路调整", "希望加开"),
    ]
    labels = ["交通运输", "交通运输", "交通运输"]
    messages += [Message("体育馆开放时间", "周末不开放"), Message("图书馆座位", "座位太少")]
    labels += ["教育文体", "教育文体"]
    descriptions = {"交通运输": ["公路", "公交"], "教育文体": ["学校管理", "中小学校"]}
    return TextClassifier(config, FakeCache()).fit(messages, labels, descriptions=descriptions)  # type: ignore[arg-type]


def test_zero_shot_view_follows_the_nearest_description():
    query = [Message("学校收费问题", "学校乱收费")]
    # the fixed average's weights (the stacker, the default, weighs the views itself: tests/dispatching/test_stacking.py)
    alone = _fit(
        Config(self_training_rounds=0, embed_weight=0.0, zero_shot_weight=1.0, combine="average")
    ).predict(query)[0]
    assert alone.label == "教育文体" and alone.confidence > 0.99
    # without the view the same model has nothing but the labelled messages' words and embeddings to go by
    without = _fit(
        Config(self_training_rounds=0, embed_weight=0.0, zero_shot_weight=0.0, combine="average")
    ).predict(query)[0]
    assert without.label == "交通运输"


def test_a_model_pickled_before_the_zero_shot_view_still_predicts():
    model = _fit(Config(self_training_rounds=0, zero_shot_weight=0.4))
    del model.name_vectors_  # as unpickled from an older version (which had no stacker either)
    del model.stack_model_
    assert model.predict([Message("公交", "")])[0].label in {"交通运输", "教育文体"}
