"""The opening-hours answer is built from the hours file when it is sent, by the running stack.

The really trained model picks the FAQ, the running action server fills it from the stack's
BUSINESS_HOURS_FILE; an edit of that file shows in the next answer with no restart.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_end_to_end import Customer, text_of

pytestmark = pytest.mark.model


def test_opening_hours_answer_follows_the_hours_file_without_a_restart(stack):
    path = Path(stack.extra_env["BUSINESS_HOURS_FILE"])
    original = path.read_text()
    spanish, english = Customer(stack, "5215512349001"), Customer(stack, "5215512349002")
    try:
        spanish.says("a que hora abren")
        answer, status, _ = spanish.wait_for_replies(3)
        # The stack's file is open every day around the clock: one run of seven days.
        assert "• Lunes a domingo: 00:00–24:00" in text_of(answer)
        assert "Fechas especiales" not in text_of(answer)
        assert "abiertos" in text_of(status)

        english.says("what are your opening hours")
        answer, _, _ = english.wait_for_replies(3)
        assert "• Monday to Sunday: 00:00–24:00" in text_of(answer)

        # Still open around the clock (other tests rely on it), but Sunday is now split and a
        # named special date is due within the month: both must show in the next answers.
        edited = original.replace("sunday: ['00:00-24:00']", "sunday: ['00:00-12:00', '12:00-24:00']")
        assert edited != original
        path.write_text(edited + "special:\n  '01-01': {name: Año Nuevo, hours: ['00:00-24:00']}\n"
                        + "".join(f"  '{m:02d}-15': {{name: Quincena, hours: ['00:00-24:00']}}\n"
                                  for m in range(1, 13)))
        spanish.says("a que hora abren")
        answer, _, _ = spanish.wait_for_replies(3)
        assert "• Lunes a sábado: 00:00–24:00\n• Domingo: 00:00–12:00 y 12:00–24:00" in text_of(answer)
        assert "*Fechas especiales*" in text_of(answer) and "(Quincena): 00:00–24:00" in text_of(answer)

        english.says("what are your opening hours")
        answer, _, _ = english.wait_for_replies(3)
        assert "• Sunday: 00:00–12:00 and 12:00–24:00" in text_of(answer)
        assert "*Special dates*" in text_of(answer)
    finally:
        path.write_text(original)
