"""`python -m ops.account`: status, set-tier, resume-marketing."""
import pytest

from connector.policy.quality import QualityRegister
from connector.policy.tier import MessagingTier
from ops.account import main


def run(redis_client, capsys, *argv):
    code = main(list(argv), redis=redis_client)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_set_tier_then_status_shows_tier_use_and_throughput(redis_client, capsys, monkeypatch):
    monkeypatch.setenv("WHATSAPP_THROUGHPUT_MPS", "250")
    assert run(redis_client, capsys, "set-tier", "tier_2k")[1] == "tier set to TIER_2K\n"
    MessagingTier(redis_client).reserve("5215512345678")
    code, out, _ = run(redis_client, capsys, "status")
    assert code == 0
    assert "tier: TIER_2K (2,000 unique contacts per moving 24 h), set by cli since" in out
    assert "used: 1 in the last 24 h; next slot frees at" in out
    assert "throughput: 250 messages per second" in out
    assert "quality: no update received" in out and "marketing: sending" in out
    with pytest.raises(SystemExit):
        run(redis_client, capsys, "set-tier", "TIER_3")


def test_a_flag_pauses_marketing_until_resume_marketing(redis_client, capsys):
    QualityRegister(redis_client).record_quality("FLAGGED", current_limit="TIER_10K")
    code, out, _ = run(redis_client, capsys, "status")
    assert "quality: FLAGGED at" in out and "marketing: PAUSED since" in out and "(quality FLAGGED)" in out
    assert "tier: TIER_10K" in out and "set by webhook" in out
    assert run(redis_client, capsys, "resume-marketing", "--by", "ana")[0] == 0
    assert "marketing: sending (resumed by ana at" in run(redis_client, capsys, "status")[1]
    code, _, err = run(redis_client, capsys, "resume-marketing", "--by", "ana")
    assert code == 1 and "was not paused" in err
