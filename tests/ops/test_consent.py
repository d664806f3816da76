"""`python -m ops.consent`: import a CSV (all rows or none), look a contact up, export."""

from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, TRANSACTIONAL, ConsentRegister
from ops.consent import main

CSV = """wa_id,purpose,state,source,at
+52 1 55 1234 5678,marketing,opted_in,web_form,2026-11-01T10:00:00Z
5215512345678,transactional,opted_in,,1764000000
US.13491208655302741918,marketing,opted_out,qr,2026-11-02 08:00
"""


def run(register, capsys, *argv):
    code = main(list(argv), register=register)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_lookup_export_and_import_again(redis_client, tmp_path, capsys):
    register = ConsentRegister(redis_client)
    source = tmp_path / "optins.csv"
    source.write_text(CSV)
    code, out, _ = run(register, capsys, "import", str(source))
    assert code == 0 and out.startswith("3 row(s) read, 3 now")
    status = register.status("5215512345678")
    assert (status[MARKETING].state, status[MARKETING].source, status[MARKETING].by) == (
        OPTED_IN, "web_form", "import:optins.csv")
    assert status[TRANSACTIONAL].source == "import"  # no source given: the import is how
    assert register.status("US.13491208655302741918")[MARKETING].state == OPTED_OUT

    code, out, _ = run(register, capsys, "lookup", "+52 1 55 1234 5678")
    assert "marketing: opted_in since 2026-11-01T10:00:00+00:00 via web_form (import:optins.csv)" in out
    assert "history (newest first):" in out

    exported = tmp_path / "out.csv"
    assert run(register, capsys, "export", str(exported))[0] == 0
    rows = exported.read_text().splitlines()
    assert rows[0] == "wa_id,purpose,state,source,at,by" and len(rows) == 4

    # Importing the same file again records nothing new.
    code, out, _ = run(register, capsys, "import", str(source))
    assert "0 now a contact's current state" in out
    assert len(register.history("5215512345678")) == 2


def test_a_file_with_a_bad_row_imports_nothing(redis_client, tmp_path, capsys):
    register = ConsentRegister(redis_client)
    source = tmp_path / "bad.csv"
    source.write_text(CSV + "5215500000009,marketing,yes please,web_form,\nabc,marketing,opted_in,,\n")
    code, _, err = run(register, capsys, "import", str(source))
    assert code == 1 and "nothing imported" in err
    assert "line 5: unknown state 'yes please'" in err and "line 6: wa_id: 'abc'" in err
    assert list(register.contacts()) == []


def test_a_file_without_the_columns_is_refused(redis_client, tmp_path, capsys):
    source = tmp_path / "cols.csv"
    source.write_text("phone,consent\n5215500000009,yes\n")
    code, _, err = run(ConsentRegister(redis_client), capsys, "import", str(source))
    assert code == 1 and "missing column(s) wa_id, purpose, state, source, at" in err


def test_export_to_stdout(redis_client, capsys):
    register = ConsentRegister(redis_client)
    register.record("5215500000001", MARKETING, OPTED_OUT, "message", by="customer")
    code, out, _ = run(register, capsys, "export")
    assert code == 0 and out.splitlines()[1].startswith("5215500000001,marketing,opted_out,message,")
    assert len(out.splitlines()) == 2
