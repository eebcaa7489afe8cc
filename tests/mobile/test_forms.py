"""What the enrolment screen accepts before it goes to the network (no window needed)."""

from __future__ import annotations

import pytest

from mobile.forms import FormError, check_code, check_enrolment, check_server_url


@pytest.mark.parametrize(
    ("typed", "used"),
    [
        ("http://192.168.1.10:8000", "http://192.168.1.10:8000"),
        ("  https://vigie.example.org/ ", "https://vigie.example.org"),
        ("192.168.1.10:8000", "http://192.168.1.10:8000"),
        ("vigie.local", "http://vigie.local"),
    ],
)
def test_server_address_is_completed_and_tidied(typed: str, used: str) -> None:
    assert check_server_url(typed) == used


@pytest.mark.parametrize(
    "typed", ["ftp://vigie.local", "http://", "http://vigie local", "http://h:port", "h:0"]
)
def test_malformed_server_address_is_refused(typed: str) -> None:
    with pytest.raises(FormError) as refused:
        check_server_url(typed)
    assert refused.value.key == "form.server_invalid"
    assert refused.value.values == {"value": typed.strip()}


def test_missing_server_address_is_refused() -> None:
    with pytest.raises(FormError) as refused:
        check_server_url("   ")
    assert refused.value.key == "form.server_missing"


@pytest.mark.parametrize("typed", ["ABCD-EFGH", "abcd efgh", " abcdEFGH "])
def test_code_is_read_whatever_its_case_and_separators(typed: str) -> None:
    assert check_code(typed) == "ABCDEFGH"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "form.code_missing"),
        ("--", "form.code_missing"),
        ("ABC-DEF", "form.code_length"),
        ("ABCD-EFGH-J", "form.code_length"),
    ],
)
def test_missing_or_wrong_length_code_is_refused(typed: str, key: str) -> None:
    with pytest.raises(FormError) as refused:
        check_code(typed)
    assert refused.value.key == key


def test_server_address_is_checked_before_the_code() -> None:
    with pytest.raises(FormError) as refused:
        check_enrolment("", "")
    assert refused.value.key == "form.server_missing"
    assert check_enrolment("vigie.local:8000", "abcd-efgh").code == "ABCDEFGH"
