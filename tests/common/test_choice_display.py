"""`ChoiceDisplayField` / `choice_display` give what the model's own `get_FOO_display()` gives, in every language."""

from __future__ import annotations

import pytest
from django.utils import translation

from hotline.cases.models import Case, CaseStatus
from hotline.common.api import choice_display

STATUS = Case._meta.get_field("status")
CHANNEL = Case._meta.get_field("channel")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_labels_equal_get_display_for_every_choice_and_an_unknown_value(language: str) -> None:
    with translation.override(language):
        for value in [*CaseStatus.values, "no_such_status", ""]:
            assert choice_display(STATUS, value) == Case(status=value).get_status_display()
        for value, _label in CHANNEL.flatchoices:
            assert choice_display(CHANNEL, value) == Case(channel=value).get_channel_display()


def test_labels_follow_the_active_language() -> None:
    with translation.override("zh-hans"):
        chinese = choice_display(STATUS, CaseStatus.SUBMITTED)
    with translation.override("en"):
        english = choice_display(STATUS, CaseStatus.SUBMITTED)
    assert chinese == "待派单"
    assert english and english != chinese  # not the label cached for the other language
