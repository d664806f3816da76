"""The Rasa input channel for the WhatsApp Cloud API (`connector.channel.input.WhatsAppInput` in
credentials.yml). Shaped like Rasa's own channels (name, from_credentials, blueprint,
get_output_channel). Its /webhook routes are connector/webhook/endpoint.py's, the same code the
ingress process serves (`make run` points Meta at the ingress; this route keeps working for
tests and single-process deployments). The bot's answers are produced by the workers this
channel starts (connector/inbox/pool.py running connector/channel/turns.py), whichever process
stored the message.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import redis
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.clock import SYSTEM_CLOCK
from bot.handoff import Handoff
from connector.cloudapi.config import WhatsAppConfig
from connector.cloudapi import reply_ids
from connector.webhook.endpoint import WebhookEndpoint, redis_from_env
from connector.channel.output import WhatsAppOutput
from connector.cloudapi.sender import build_sender
from connector.channel.tracker import RasaTrackers
from connector.channel.turns import TurnHandler
from connector.inbox.pool import WorkerPool
from connector.webhook.metrics import count_webhooks, sanic_route
from connector.inbox.metrics import BacklogCollector
from bot.handoff.metrics import HandoffCollector

logger = logging.getLogger(__name__)

# A turn holds its worker through its sends, which must go one after another (answer, then
# follow-up): at 250 ms a Graph call, a worker does at most ~2 turns a second whatever the CPU.
# Workers are coroutines and an idle one costs nothing (pool.py wakes one per message), so the
# pool is sized to keep the CPU busy while sends wait: `make bench` at 250 ms, 4 workers 4.7
# answers/s against 9.2 with the Graph answering at once; 32 workers 11.7 against 8.1.
DEFAULT_WORKERS = 32
# Conversations one process serves at once; credentials.yml's `workers:` wins over it.
WORKERS_ENV = "WA_WORKERS"


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # Unlike Rasa's channels, empty credentials are fine: the environment is the source.
        overrides = dict(credentials or {})
        workers = int(overrides.pop("workers", None) or os.environ.get(WORKERS_ENV) or DEFAULT_WORKERS)
        return cls(WhatsAppConfig.load(overrides), redis_from_env(), workers=workers)

    def __init__(
        self,
        config: WhatsAppConfig,
        redis_client: redis.Redis,
        workers: int = DEFAULT_WORKERS,
        clock: Any = SYSTEM_CLOCK,
        poll_seconds: float = 1.0,
        http: Any = None,
    ) -> None:
        self.config = config
        self.redis = redis_client
        self.clock = clock
        self.endpoint = WebhookEndpoint(config, redis_client, clock)
        self.identity = self.endpoint.identity
        self.ingest = self.endpoint.ingest
        self.window = self.endpoint.window
        self.consent = self.endpoint.consent
        self.templates = self.endpoint.templates
        self.intake = self.endpoint.intake
        self.handoff = Handoff(redis_client, clock)
        self.workers = workers
        self._http = http  # an httpx.AsyncClient for the sender; None = the sender makes its own
        self.poll_seconds = poll_seconds
        self.pool: WorkerPool | None = None
        self._output: OutputChannel | None = None

    # --- outbound ------------------------------------------------------------------------

    def get_output_channel(self) -> Optional[OutputChannel]:
        """The one WhatsAppOutput of this process: used by the workers and by Rasa's
        `POST /conversations/{id}/tracker/events?output_channel=whatsapp` (agent replies)."""
        if self._output is None:
            self._output = WhatsAppOutput(self._sender(), self.identity.recipient, handoff=self.handoff,
                                          id_key=reply_ids.key(self.config.app_secret))
        return self._output

    def _sender(self) -> Any:
        options = {"http": self._http} if self._http is not None else {}
        return build_sender(self.config, self.redis, self.clock, window=self.window, **options)

    # --- inbound -------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"whatsapp_webhook_{id(self)}", __name__)
        count_webhooks(bp)
        bp.add_route(sanic_route([BacklogCollector(self.ingest, self.clock), HandoffCollector(self.handoff)]),
                     "/metrics", methods=["GET"])

        @bp.route("/", methods=["GET"])
        @bp.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            running = self.pool.running if self.pool else 0
            return response.json({"status": "ok", "workers": running})

        # No wake-up of our own: queuing a message announces it to every pool, this one included.
        self.endpoint.add_routes(bp)

        @bp.listener("after_server_start")
        async def start_workers(app: Any, loop: Any) -> None:
            await self.start_workers(on_new_message, app)

        @bp.listener("before_server_stop")
        async def stop_workers(app: Any, loop: Any) -> None:
            if self.pool is not None:
                await self.pool.stop()
                self.pool = None
            if self._output is not None:
                await self._output.sender.aclose()

        return bp

    async def start_workers(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any) -> None:
        if self.pool is not None:
            return
        trackers = RasaTrackers(lambda: app.ctx.agent, self.handoff)
        handler = TurnHandler(on_new_message, trackers, self.get_output_channel(), self.handoff,
                              self.window, self.redis, self.consent)
        self.pool = WorkerPool(
            self.ingest, handler, size=self.workers, poll_seconds=self.poll_seconds,
            already_handled=trackers.handled,
            on_dead_letter=lambda conv, wamid, raw, reason: self.intake.delivery.record_failure(
                conv, None, None, "Customer message not answered", reason, kind="dead_letter", wamid=wamid),
        )
        await self.pool.start()
