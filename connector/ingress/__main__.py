"""`python -m connector.ingress [--interface HOST] [--port PORT]`: serve Meta's webhooks.

Settings come from the environment as for the Rasa channel (WHATSAPP_*, REDIS_URL); the port
from --port, else WEBHOOK_PORT, else 5004 (Rasa's 5005 minus one).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from connector.cloudapi.config import WhatsAppConfig
from connector.ingress.app import create_app
from connector.webhook.endpoint import WebhookEndpoint, redis_from_env

PORT_ENV = "WEBHOOK_PORT"
DEFAULT_PORT = 5004


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interface", default=os.environ.get("BIND_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get(PORT_ENV) or DEFAULT_PORT))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(WebhookEndpoint(WhatsAppConfig.load({}), redis_from_env()))
    # One process: the work per webhook is a few Redis round trips, and more processes would
    # only split the two cores with the Rasa workers.
    app.run(host=args.interface, port=args.port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
