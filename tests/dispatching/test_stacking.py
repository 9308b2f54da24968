"""The classifier's stacker: a logistic regression over the views' out-of-fold log-probabilities. Fake
embeddings, so that the test needs neither the model nor the shared data."""

from __future__ import annotations

import pickle

import numpy as np

from hotline.dispatching.learning.classifier import Config, Message, TextClassifier


class FakeCache:
    """The embedding knows the topic (学校 or not); the characters are shared by both labels."""

    def embed(self, texts, *, store: bool = True):
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, 0 if "学校" in text else 1] = 1.0
        return out


def _data():
    messages, labels = [], []
    for i in range(12):
        # the same filler characters under both labels: the char view is weak, the embedding view is right
        filler = "问题反映请处理" * (1 + i % 3)
        messages.append(Message(f"学校{i}号", filler))
        labels.append("教育文体")
        messages.append(Message(f"道路{i}号", filler))
        labels.append("交通运输")
    return messages, labels


def test_the_stacker_is_fitted_over_the_views_and_predicts_a_distribution():
    messages, labels = _data()
    model = TextClassifier(Config(), FakeCache()).fit(messages, labels)  # type: ignore[arg-type]
    assert model.stack_model_ is not None
    # features: the char SVM's, the embedding LR's and the word SVM's log-probabilities, two labels each (no
    # descriptions: no zero-shot view)
    assert model.stack_model_.n_features_in_ == 6
    predicted = model.predict([Message("学校食堂", "问题反映请处理"), Message("道路破损", "问题反映请处理")])
    assert [p.label for p in predicted] == ["教育文体", "交通运输"]
    for p in predicted:
        assert 0.5 < p.confidence <= 1.0
        assert abs(sum(score for _, score in p.ranking) - 1.0) < 1e-6  # two labels: the whole distribution


def test_too_few_messages_per_label_fall_back_to_the_fixed_average():
    messages, labels = _data()
    messages.append(Message("医院排队", "挂号难"))
    labels.append("卫生计生")  # one message: no stratified fold can hold it out
    model = TextClassifier(Config(), FakeCache()).fit(messages, labels)  # type: ignore[arg-type]
    assert model.stack_model_ is None
    assert model.predict([Message("学校食堂", "问题反映请处理")])[0].label == "教育文体"


def test_the_average_keeps_no_stacker_and_a_stacked_model_pickles():
    messages, labels = _data()
    average = TextClassifier(Config(combine="average"), FakeCache()).fit(messages, labels)  # type: ignore[arg-type]
    assert average.stack_model_ is None
    stacked = TextClassifier(Config(), FakeCache()).fit(messages, labels)  # type: ignore[arg-type]
    restored = pickle.loads(pickle.dumps(stacked)).with_cache(FakeCache())  # type: ignore[arg-type]
    query = [Message("学校食堂", "问题反映请处理")]
    assert restored.predict(query)[0].confidence == stacked.predict(query)[0].confidence


def test_the_word_view_can_be_left_out_and_a_model_pickled_before_it_still_predicts():
    messages, labels = _data()
    without = TextClassifier(Config(word_view=False), FakeCache()).fit(messages, labels)  # type: ignore[arg-type]
    assert without.word_model_ is None and without.stack_model_ is not None
    assert without.stack_model_.n_features_in_ == 4
    # a model pickled before the word view: no word attributes at all
    state = without.__getstate__()
    del state["word_model_"], state["word_tfidf_"]
    old = TextClassifier.__new__(TextClassifier)
    old.__dict__.update(state)
    old.with_cache(FakeCache())  # type: ignore[arg-type]
    assert old.predict([Message("学校食堂", "问题反映请处理")])[0].label == "教育文体"
