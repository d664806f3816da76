"""Display filters: WhatsApp's formatting as the phone shows it, with every other character inert."""
from console.formatting import whatsapp


def test_bold_italic_strike_and_monospace_render_as_the_phone_shows_them():
    assert whatsapp("Tu pedido *A-1042* llega _mañana_, ~hoy~ no") == (
        "Tu pedido <strong>A-1042</strong> llega <em>mañana</em>, <s>hoy</s> no")
    assert whatsapp("paga con ```*1234*```") == "paga con <code>*1234*</code>"  # mono keeps markers
    assert whatsapp("*Volver al menú*: escribe *menú*\notra línea") == (
        "<strong>Volver al menú</strong>: escribe <strong>menú</strong><br>otra línea")


def test_markers_inside_words_around_spaces_or_across_lines_stay_as_typed():
    for text in ("snake_case_name", "2*3*4", "a * no * b", "a ~ b ~ c", "*sin cerrar", "```sin cerrar"):
        assert whatsapp(text) == text
    assert whatsapp("*uno\ndos*") == "*uno<br>dos*"


def test_customer_text_is_escaped_before_any_tag():
    assert whatsapp("<script>alert(1)</script> *<b>hola</b>*") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <strong>&lt;b&gt;hola&lt;/b&gt;</strong>")
    assert whatsapp(None) == ""
