import pytest

from connector.policy import contacts


def test_a_number_as_people_write_it_becomes_the_wa_id_and_a_user_id_stays_as_it_is():
    assert contacts.normalize("+52 1 55-1234 5678") == "5215512345678"
    assert contacts.normalize(" (52) 155 1234.5678 ") == "5215512345678"
    assert contacts.normalize("US.13491208655302741918") == "US.13491208655302741918"
    assert contacts.is_user_id("US.13491208655302741918") and not contacts.is_user_id("5215512345678")


@pytest.mark.parametrize("bad", ["", "abc", "12", "1234567890123456", "52-55-abc", "us.123", "US."])
def test_anything_else_is_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="not a WhatsApp number"):
        contacts.normalize(bad)
