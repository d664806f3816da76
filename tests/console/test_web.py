"""What every page shares: the security headers."""
from __future__ import annotations


def test_pages_forbid_inline_script(client_for):
    response = client_for("ana").get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
