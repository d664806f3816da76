"""The consent commands: whole messages only, both languages, and the words the FAQ answer and the
confirmations tell customers to send are the words that work."""
import re

import pytest

from bot.consent import CONFIRMATIONS, OPT_IN, OPT_OUT, PHRASES, command
from bot.content.catalog import load_catalog

BOLD = re.compile(r"\*([^*]+)\*")


@pytest.mark.parametrize("text, action, language", [
    ("STOP", OPT_OUT, None), ("Baja", OPT_OUT, "es"), ("¡BAJA!", OPT_OUT, "es"),
    ("baja por favor", OPT_OUT, "es"), ("Por favor, denme de baja 🙏", OPT_OUT, "es"),
    ("No quiero recibir más mensajes.", OPT_OUT, "es"), ("darme de baja", OPT_OUT, "es"),
    ("Unsubscribe, please!", OPT_OUT, "en"), ("stop promotions", OPT_OUT, "en"),
    ("STOP_PROMOTIONS", OPT_OUT, "en"), ("Dejar de recibir", OPT_OUT, "es"),
    ("ALTA", OPT_IN, "es"), ("start", OPT_IN, None), ("Suscribirme", OPT_IN, "es"),
    ("subscribe", OPT_IN, "en"),
])
def test_whole_message_commands_in_both_languages(text, action, language):
    found = command(text)
    assert (found.action, found.language) == (action, language)


@pytest.mark.parametrize("text", [
    "stop sending me the wrong size", "¿cómo me doy de baja?", "quiero dar de baja mi pedido 123",
    "start my order", "please", "", None, "no quiero recibir mensajes de error en mi pedido",
])
def test_a_message_that_only_contains_a_command_word_is_not_one(text):
    assert command(text) is None


def test_no_phrase_is_both_an_opt_out_and_an_opt_in():
    outs = {p for phrases in PHRASES[OPT_OUT].values() for p in phrases}
    ins = {p for phrases in PHRASES[OPT_IN].values() for p in phrases}
    assert not outs & ins


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_faq_answer_names_the_words_that_work(language):
    """"Reply STOP (or BAJA) … Reply START (or ALTA)": opt-out words first, then opt-in."""
    answer = load_catalog().get("whatsapp_opt_out").answer(language)
    words = BOLD.findall(answer)
    assert [command(w).action for w in words] == [OPT_OUT, OPT_OUT, OPT_IN, OPT_IN], words


@pytest.mark.parametrize("action, undo", [(OPT_OUT, OPT_IN), (OPT_IN, OPT_OUT)])
def test_each_confirmation_says_how_to_undo_it_with_words_that_work(action, undo):
    for text in CONFIRMATIONS[action].values():
        words = BOLD.findall(text)
        assert words and all(command(w).action == undo for w in words), text
