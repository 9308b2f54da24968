"""Public portal pages: public cases by type with the units' replies and hot questions show only closed cases
the office made public, and never the citizen's name, phone, ID number or address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.cases.models import Case, CaseStatus
from hotline.common import clock
from hotline.intake.public_cases import depersonalize
from tests.conftest import submitted_case

pytestmark = pytest.mark.django_db

PERSONAL = ["王小明", "13812345678", "0712-8765432", "42010619800101123X", "wxm@example.com", "12栋", "501室"]


def _public_case(city: Any, people: Any, **marks: Any) -> Case:
    case = submitted_case(
        city,
        people,
        citizen_name="王小明",
        citizen_phone="13812345678",
        citizen_address="幸福社区12栋3单元501室",
        location="梨园街道幸福社区12栋3单元501室楼下",
        title="王小明反映12栋楼下烧烤油烟",
        content="我叫王小明，电话13812345678，家住12栋3单元501室，身份证42010619800101123X，"
        "邮箱wxm@example.com，座机0712-8765432。楼下烧烤店油烟很大，请处理。",
    )
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED,
        closed_at=clock.now(),
        answer="经核实，已责令烧烤店安装油烟净化设备。已电话联系王先生（13812345678）告知结果。",
        **marks,
    )
    return case


def test_public_case_pages_show_no_personal_data(city: Any, people: Any) -> None:
    shown = _public_case(city, people, is_public=True, push_hot=True)
    hidden = _public_case(city, people, is_public=False, push_hot=True)
    client = Client()
    listing = client.get("/portal/public/").content.decode()
    detail = client.get(f"/portal/public/{shown.number}/").content.decode()
    hot = client.get("/portal/hot/").content.decode()
    assert shown.number in listing and shown.number in hot and hidden.number not in listing + hot
    assert "烧烤店油烟很大" in detail and "安装油烟净化设备" in detail
    for page in (listing, detail, hot):
        for item in PERSONAL:
            assert item not in page, item
        assert "王先生" not in page
    assert client.get(f"/portal/public/{hidden.number}/").status_code == 404
    by_type = client.get(f"/portal/public/?type={shown.case_type.code}").content.decode()
    other_type = client.get("/portal/public/?type=consult").content.decode()
    assert shown.number in by_type and shown.number not in other_type
    assert 'data-testid="hot-week"' in hot


def test_depersonalize_masks_numbers_and_addresses() -> None:
    text = depersonalize("张三家在8号楼2单元1201室，手机+86 138-1234-5678", names=("张三",))
    assert "张三" not in text and "8号楼" not in text and "1201室" not in text and "5678" not in text
