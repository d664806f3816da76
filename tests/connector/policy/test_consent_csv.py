"""The consent CSV shared by the CLI and the console: per-row checks with line numbers, the
preview of what an import would do (without writing), applying, the summary, export."""
from __future__ import annotations

import datetime as dt
import io

from connector.policy import consent_csv
from connector.policy.consent import MARKETING, OPTED_IN, OPTED_OUT, TRANSACTIONAL, ConsentRegister
from core.clock import FixedClock

NOW = dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.timezone.utc)
CSV = """wa_id,purpose,state,source,at
+52 1 55 1234 5678,marketing,opted_in,web_form,2026-11-01T10:00:00Z
5215500000002,marketing,yes please,web_form,
5215500000003,transactional,opted_in,,1764000000
abc,marketing,opted_in,,
5215500000005,marketing,opted_out,qr,yesterday
"""


def register(redis_client) -> ConsentRegister:
    return ConsentRegister(redis_client, FixedClock(NOW))


def test_each_bad_row_is_rejected_alone_with_its_line_and_the_row():
    parsed = consent_csv.read(io.StringIO(CSV))
    assert [row.line for row in parsed.rows] == [2, 4]
    assert [str(r) for r in parsed.rejected] == [
        "line 3: unknown state 'yes please' (one of opted_in, opted_out)",
        "line 5: wa_id: 'abc' is not a WhatsApp number (country code and number, digits only) nor a business-scoped user id",
        "line 6: at 'yesterday' is neither ISO 8601 nor Unix seconds"]
    assert parsed.rejected[0].raw == "5215500000002,marketing,yes please,web_form,"
    first = parsed.rows[0]
    assert (first.contact, first.source, first.at) == ("5215512345678", "web_form",
                                                       dt.datetime(2026, 11, 1, 10, tzinfo=dt.timezone.utc))
    assert parsed.rows[1].source == "import"  # no source given: the import is how


def test_a_file_without_the_columns_is_one_rejection_on_line_1():
    parsed = consent_csv.read(io.StringIO("phone,consent\n5215500000009,yes\n"))
    assert parsed.rows == [] and [str(r) for r in parsed.rejected] == [
        "line 1: missing column(s) wa_id, purpose, state, source, at (need wa_id,purpose,state,source,at)"]


def test_preview_says_what_each_row_would_do_and_writes_nothing(redis_client):
    reg = register(redis_client)
    reg.record("5215500000001", MARKETING, OPTED_OUT, "message", at=NOW - dt.timedelta(days=1))
    reg.record("5215500000002", MARKETING, OPTED_IN, "qr", at=NOW - dt.timedelta(days=1))
    reg.record("5215500000003", MARKETING, OPTED_IN, "qr", at=NOW - dt.timedelta(days=1))
    text = ("wa_id,purpose,state,source,at\n"
            "5215500000001,marketing,opted_in,web_form,\n"             # newer, other state
            "5215500000002,marketing,opted_in,web_form,\n"             # newer, same state
            "5215500000003,marketing,opted_out,web_form,2026-01-01\n"  # older than what stands
            "5215500000004,transactional,opted_in,,\n")                # nothing recorded yet
    rows = consent_csv.read(io.StringIO(text)).rows
    before = redis_client.dbsize()
    effects = consent_csv.preview(reg, rows)
    assert [e.effect for e in effects] == [consent_csv.CHANGE, consent_csv.SAME, consent_csv.OLDER,
                                           consent_csv.NEW]
    assert [e.changes for e in effects] == [True, False, False, True]
    assert redis_client.dbsize() == before

    summary = consent_csv.apply(reg, rows, by="lucia", rejected=2)
    assert (summary.read, summary.applied) == (4, 3)
    assert summary.text() == ("4 row(s) read, 3 now a contact's current state (1 older than what was "
                              "recorded, or already imported); 2 rejected row(s) not imported")
    # What the preview called "changes" happened; the same file again is "already imported".
    assert reg.status("5215500000001")[MARKETING].state == OPTED_IN
    assert reg.status("5215500000004")[TRANSACTIONAL].by == "lucia"
    again = consent_csv.preview(reg, rows)
    assert [e.effect for e in again] == [consent_csv.DONE, consent_csv.DONE, consent_csv.OLDER,
                                         consent_csv.DONE]
    assert consent_csv.apply(reg, rows, by="lucia").applied == 0


def test_export_writes_every_recorded_state_with_who_recorded_it(redis_client):
    reg = register(redis_client)
    reg.record("5215500000001", MARKETING, OPTED_OUT, "message", by="customer")
    out = io.StringIO()
    assert consent_csv.export(reg, out) == 1
    lines = out.getvalue().splitlines()
    assert lines == ["wa_id,purpose,state,source,at,by",
                     f"5215500000001,marketing,opted_out,message,{NOW.isoformat()},customer"]
    # What export writes, import reads back.
    assert consent_csv.read(io.StringIO(out.getvalue())).rows[0].state == OPTED_OUT
