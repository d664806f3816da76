"""The words of consent: which whole messages are an opt-out or opt-in command ("BAJA", "STOP",
"no quiero recibir mensajes", "unsubscribe", "ALTA", "START"…), in Spanish and English, and
what the bot answers to each.

The connector (connector/channel/turns.py) acts on a command in any conversation state, also
while a person has the chat and the bot is paused, so this is not an NLU intent: it is a
short, exact list. Conservative on purpose: a message is a command only when the whole of it,
normalised (case, accents, punctuation, emoji, "por favor"/"please"), is one of the phrases;
"stop sending me the wrong size" or "¿cómo me doy de baja?" stay questions for the bot.
The FAQ answer data/faq/whatsapp_opt_out.yml names these words; a test holds the two together.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

OPT_OUT, OPT_IN = "opt_out", "opt_in"

# Phrases, normalised (see normalise). A phrase listed for both languages ("stop") says
# nothing about the language, and the conversation's is used.
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    OPT_OUT: {
        "es": ("baja", "stop", "darme de baja", "dame de baja", "denme de baja", "dar de baja",
               "darse de baja", "quiero darme de baja", "quiero la baja", "no quiero recibir mensajes",
               "no quiero recibir mas mensajes", "no quiero recibir promociones",
               "no quiero recibir ofertas", "no quiero mas mensajes", "no quiero mas promociones",
               "no me manden mas mensajes", "dejar de recibir", "dejar de recibir mensajes",
               "dejar de recibir promociones", "dejar de recibir ofertas", "detener promociones",
               "cancelar suscripcion", "desuscribirme", "desuscribir", "anular suscripcion"),
        "en": ("stop", "stop all", "stopall", "unsubscribe", "unsubscribe me", "opt out", "optout",
               "stop promotions", "stop messages", "stop messaging me", "stop sending me messages",
               "stop sending messages", "i want to unsubscribe", "cancel subscription",
               "no more messages", "no more promotions"),
    },
    OPT_IN: {
        "es": ("alta", "start", "darme de alta", "dame de alta", "dar de alta", "quiero darme de alta",
               "suscribirme", "suscribir", "volver a recibir promociones", "volver a recibir ofertas",
               "quiero recibir promociones", "quiero recibir ofertas", "reanudar promociones"),
        "en": ("start", "subscribe", "subscribe me", "resume", "unstop", "opt in", "optin",
               "resume promotions", "i want to subscribe", "send me offers"),
    },
}
# Said around a command without changing it.
POLITE = ("por favor", "porfavor", "porfa", "xfa", "please", "pls", "plz", "gracias", "thanks",
          "thank you")

# The confirmation says what now happens and how to undo it, with the words above.
CONFIRMATIONS = {
    OPT_OUT: {
        "es": "Listo ✅ Ya no te enviaremos mensajes promocionales por WhatsApp. Seguirás recibiendo "
              "los avisos de los pedidos que hagas. Si cambias de opinión, responde *ALTA* (o *START*).",
        "en": "Done ✅ We won't send you promotional messages on WhatsApp anymore. You'll still get "
              "updates about orders you place. Changed your mind? Reply *START* (or *ALTA*).",
    },
    OPT_IN: {
        "es": "¡Listo! ✅ Volverás a recibir nuestras ofertas por WhatsApp. Para dejar de recibirlas, "
              "responde *BAJA* (o *STOP*) cuando quieras.",
        "en": "Done ✅ You'll get our offers on WhatsApp again. To stop them, reply *STOP* (or *BAJA*) "
              "anytime.",
    },
}
DEFAULT_LANGUAGE = "es"

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_POLITE_WORDS = [phrase.split() for phrase in POLITE]


@dataclass(frozen=True)
class Command:
    action: str            # OPT_OUT | OPT_IN
    language: str | None   # None: the phrase is the same in both languages

    @property
    def intent(self) -> str:
        """The intent the customer's message is logged with in Rasa's tracker (not in the
        domain: the bot never predicts from it, see RasaTrackers.log_answered)."""
        return f"consent_{self.action}"


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation or emoji, single spaces, no polite words around it."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    words = _NOT_WORD.sub(" ", "".join(ch for ch in plain if not unicodedata.combining(ch))).split()
    trimmed = True
    while trimmed and words:
        trimmed = False
        for polite in _POLITE_WORDS:
            if words[:len(polite)] == polite:
                words, trimmed = words[len(polite):], True
            if words and words[-len(polite):] == polite:
                words, trimmed = words[:-len(polite)], True
    return " ".join(words)


_INDEX: dict[str, dict[str, set[str]]] = {}
for _action, _by_language in PHRASES.items():
    for _language, _phrases in _by_language.items():
        for _phrase in _phrases:
            _INDEX.setdefault(_phrase, {}).setdefault(_action, set()).add(_language)


def command(text: str | None) -> Command | None:
    """The consent command this whole message is, or None."""
    if not text:
        return None
    found = _INDEX.get(normalise(text))
    if not found or len(found) != 1:
        return None
    ((action, languages),) = found.items()
    return Command(action, next(iter(languages)) if len(languages) == 1 else None)


def confirmation(action: str, language: str | None) -> str:
    by_language = CONFIRMATIONS[action]
    return by_language.get(language or DEFAULT_LANGUAGE, by_language[DEFAULT_LANGUAGE])
