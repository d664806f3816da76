import hashlib
import hmac

from connector.webhook.signature import Verdict, sign, tokens_match, verify


def test_sign_is_sha256_hmac_of_raw_body():
    body = b'{"a": 1}'
    assert sign(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_verdicts():
    body = b"{}"
    assert verify(body, None, "k") is Verdict.MISSING
    assert verify(body, "", "k") is Verdict.MISSING
    assert verify(body, sign(body, "k"), "k") is Verdict.VALID
    assert verify(body, sign(body, "other"), "k") is Verdict.INVALID
    assert verify(body + b" ", sign(body, "k"), "k") is Verdict.INVALID
    sha1 = "sha1=" + hmac.new(b"k", body, hashlib.sha1).hexdigest()
    assert verify(body, sha1, "k") is Verdict.INVALID
    assert verify(body, "sha256=ñ", "k") is Verdict.INVALID


def test_verify_token():
    assert tokens_match("abc", "abc")
    assert not tokens_match("abd", "abc")
    assert not tokens_match(None, "abc")
    assert not tokens_match("ä", "abc")
