"""`python -m ops.alerts`: the CLI sends through the same engine, refusals shown with the reason."""
import json

import pytest

from core.clock import FixedClock
from connector.outreach.engine import Outreach
from connector.policy.consent import ConsentRegister
from connector.policy.templates import TemplateRegister
from ops.alerts import main
from tests.connector.fake_graph import NOON

OPTED_IN, NOT_OPTED_IN = "5215512348001", "5215512348002"
ORDER = ["--param", "A-1042", "--param", "María", "--param", "A-1042", "--param", "1250.00 MXN"]


@pytest.fixture
def outreach(redis_client):
    clock = FixedClock(NOON)
    TemplateRegister(redis_client, clock).load_file()
    ConsentRegister(redis_client, clock).record(OPTED_IN, "transactional", "opted_in", "web_form")
    return Outreach(redis_client, clock)  # no Rasa: the register's language order


def send(outreach, *args):
    return main(["send", "--template", "order_confirmation", *ORDER, *args], outreach=outreach)


def test_send_schedules_for_an_opted_in_customer_and_status_reads_it(outreach, capsys):
    assert send(outreach, "--to", "+52 1 55 1234 8001", "--key", "order-A-1042",
                "--at", "2026-01-05T18:00:00-06:00") == 0
    line = capsys.readouterr().out.splitlines()[1].split()
    send_id = line[0]
    assert line[1:5] == [OPTED_IN, "order_confirmation", "(es_MX)", "scheduled"]
    assert main(["status", send_id], outreach=outreach) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["state"], status["due"]) == ("scheduled", "2026-01-06T00:00:00+00:00")
    # The same key again: the same send, nothing new.
    assert send(outreach, "--to", OPTED_IN, "--key", "order-A-1042", "--at", "2026-01-05T18:00:00-06:00") == 0
    assert "already submitted" in capsys.readouterr().out
    assert main(["queue"], outreach=outreach) == 0
    assert f"2026-01-06T00:00:00+00:00  {send_id}  {OPTED_IN}  order_confirmation  scheduled" in capsys.readouterr().out
    assert main(["cancel", send_id], outreach=outreach) == 0
    assert outreach.status(send_id)["state"] == "cancelled"


def test_a_contact_who_did_not_opt_in_is_refused_with_the_reason(outreach, capsys):
    assert send(outreach, "--to", NOT_OPTED_IN) == 2
    out = capsys.readouterr().out
    assert "refused: transactional: no opt-in recorded for this contact" in out


def test_a_wrong_request_sends_nothing_and_says_why(outreach, capsys):
    assert main(["send", "--template", "order_confirmation", "--to", OPTED_IN, "--param", "x"],
                outreach=outreach) == 1
    assert "nothing sent" in capsys.readouterr().err
