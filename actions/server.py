"""`python -m actions.server`: rasa_sdk's action server, answering only whoever holds the token.

rasa_sdk's /webhook runs any action for any caller, with whatever tracker the caller made up
(action_handoff would put a fake chat in front of the agents). Rasa sends endpoints.yml's
`action_endpoint.token` as the `token` query parameter (rasa/utils/endpoints.py); this entry
point builds rasa_sdk's own app and refuses every request without that token.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

from core.quiet import library_deprecations_off

library_deprecations_off()  # before rasa_sdk's imports, which raise most of them

from rasa_sdk import utils  # noqa: E402
from rasa_sdk.constants import DEFAULT_SERVER_PORT  # noqa: E402
from rasa_sdk.endpoint import create_app  # noqa: E402
from sanic import response  # noqa: E402
from sanic.request import Request  # noqa: E402

TOKEN_ENV = "ACTION_SERVER_TOKEN"
TOKEN_PARAM = "token"  # Rasa's EndpointConfig.token_name default
# Probes (the launcher, the tests, a container runtime) need no secret to ask "are you up?".
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)


def build_app(token: str, actions_package: str = "actions"):
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set; the action server refuses to run unauthenticated.")
    # No CORS: only Rasa calls this server, never a browser.
    app = create_app(actions_package, cors_origins=None)
    expected = token.encode()

    @app.on_request
    async def require_token(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get(TOKEN_PARAM)
        if not given:
            return response.json({"error": "token required"}, status=401)
        if not hmac.compare_digest(given.encode(), expected):
            return response.json({"error": "wrong token"}, status=403)
        return None

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interface", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--actions", default="actions", help="package with the Action classes")
    args = parser.parse_args(argv)
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    app = build_app(os.environ.get(TOKEN_ENV, ""), args.actions)
    logger.info("action server on http://%s:%s (token required)", args.interface, args.port)
    app.run(args.interface, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
