import pytest
from django.core.exceptions import ValidationError

from hotline.common.validators import id_card_check_code, normalize_phone, validate_id_card, validate_phone


@pytest.mark.parametrize(
    "number", ["13812345678", "+86 138 1234 5678", "027-87654321", "02787654321", "12345"]
)
def test_valid_phone_numbers(number: str) -> None:
    validate_phone(normalize_phone(number))


@pytest.mark.parametrize("number", ["1381234567", "23812345678", "abc", "027-123", "138123456789"])
def test_malformed_phone_numbers_are_rejected(number: str) -> None:
    with pytest.raises(ValidationError, match="电话号码格式不正确"):
        validate_phone(normalize_phone(number))


def test_id_card_checksum() -> None:
    # 11010519491231002X is the standard's published example.
    validate_id_card("11010519491231002X")
    validate_id_card("11010519491231002x")
    assert id_card_check_code("11010519491231002") == "X"
    with pytest.raises(ValidationError, match="校验位"):
        validate_id_card("110105194912310021")


@pytest.mark.parametrize("value", ["1101051949123100", "11010519491331002X", "A1010519491231002X"])
def test_malformed_id_cards(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_id_card(value)
