"""Display filters: WhatsApp's formatting is rendered in the history, and customer text stays inert."""
from console.formatting import whatsapp


def test_bold_italic_strike_and_code_render_as_the_phone_shows_them():
    assert whatsapp("Tu pedido *A-1042* llega _mañana_, ~hoy~ no") == (
        "Tu pedido <strong>A-1042</strong> llega <em>mañana</em>, <s>hoy</s> no")
    assert whatsapp("usa `OXXO` o ```pago 1234```") == (
        'usa <code class="wa-code">OXXO</code> o <code class="wa-mono">pago 1234</code>')
    assert whatsapp("*Volver al menú*: escribe *menú*") == "<strong>Volver al menú</strong>: escribe <strong>menú</strong>"


def test_lists_and_quotes():
    assert whatsapp("Opciones:\n* tarjeta\n- OXXO\n1. efectivo") == "Opciones:\n• tarjeta\n• OXXO\n1. efectivo"
    assert whatsapp("> ¿llega hoy?\nsí") == '<span class="wa-quote">¿llega hoy?</span>\nsí'


def test_markers_inside_words_or_around_spaces_stay_as_typed():
    for text in ("snake_case_name", "2*3*4", "a * no * b", "a ~ b ~ c", "*sin cerrar", "__", "**"):
        assert whatsapp(text) == text
    assert whatsapp("*uno\ndos*") == "*uno\ndos*"  # a marker does not span lines


def test_customer_text_is_escaped_before_any_tag_and_code_is_not_formatted():
    assert whatsapp("<script>alert(1)</script> *<b>hola</b>*") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <strong>&lt;b&gt;hola&lt;/b&gt;</strong>")
    assert whatsapp('`*no* "x"`') == '<code class="wa-code">*no* &#34;x&#34;</code>'
    assert whatsapp(None) == ""
