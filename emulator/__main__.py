"""`python -m emulator`: serve the Cloud API emulator and the customer chat page."""
from __future__ import annotations

import logging

from werkzeug.serving import make_server

from .app import create_app
from .settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env()
    app = create_app(settings)
    server = make_server(settings.host, settings.port, app, threaded=True)
    base = f"http://{settings.host}:{settings.port}"
    print(f"WhatsApp Cloud API emulator on {base}/{settings.api_version}/"
          f"{settings.phone_number_id}/messages", flush=True)
    print(f"Customer chat page: {base}/   (webhooks go to {settings.webhook_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["whatsapp_emulator"].close()


if __name__ == "__main__":
    main()
