"""Everything the views need, built once per app; tests swap any piece through the config dict."""
from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app

from core.clock import SYSTEM_CLOCK
from bot.content.catalog import ROOT
from bot.csat import Csat
from bot.content.publish_store import PublishStore
from bot.content.try_store import TryStore
from bot.handoff import Handoff
from bot.insights.reader import EventInsights
from bot.profile.sync import ProfileSync
from connector.policy.consent import ConsentRegister
from connector.policy.outbound import BusinessInitiated
from connector.policy.quality import QualityRegister
from connector.policy.tier import MessagingTier
from connector.policy.templates import TEMPLATES_FILE, TemplateRegister
from connector.policy.window import ServiceWindow
from connector.cloudapi.delivery import DeliveryLog
from connector.outreach.campaigns import Campaigns
from connector.outreach.engine import Outreach

from .api.keys import ApiKeys
from .auth.audit import AuditLog
from .auth.sessions import SessionStore
from .auth.throttle import LoginThrottle
from .auth.users import UserStore
from .desk.canned import CannedReplies
from .desk.chats import Desk
from .desk.labels import Labels
from .desk.media_fetch import MediaFetcher
from .desk.notes import Notes
from .desk.unread import ReadMarks
from .desk.rasa_client import RasaClient
from .workspace.faq_editor import FaqEditor
from .workspace.hours_file import HoursDocument

EXTENSION = "console"


@dataclass
class Services:
    redis: redis.Redis
    clock: object
    desk: Desk
    window: object
    consent: ConsentRegister
    delivery: object
    rasa: RasaClient
    users: UserStore
    sessions: SessionStore
    throttle: LoginThrottle
    templates: TemplateRegister
    canned: CannedReplies
    notes: Notes
    faqs: FaqEditor
    hours: HoursDocument
    profile: ProfileSync
    insights: EventInsights
    publish: PublishStore
    tries: TryStore
    quality: QualityRegister
    tier: MessagingTier
    gate: BusinessInitiated
    outreach: Outreach
    campaigns: Campaigns
    api_keys: ApiKeys
    labels: Labels
    audit: AuditLog
    csat: Csat
    media: MediaFetcher
    reads: ReadMarks


def current() -> Services:
    """The services of the app handling this request."""
    return current_app.extensions[EXTENSION]


def build(config: dict) -> Services:
    r = config.get("REDIS")
    if r is None:
        from core.redis_conn import get_redis

        r = get_redis(config.get("REDIS_URL"))
    clock = config.get("CLOCK") or SYSTEM_CLOCK

    handoff = config.get("HANDOFF") or Handoff(r, clock)
    window = config.get("WINDOW") or ServiceWindow(r, clock)
    delivery = config.get("DELIVERY") or DeliveryLog(r, clock)

    # BUSINESS_HOURS_FILE unless a test gives its own copy.
    hours = HoursDocument(config.get("BUSINESS_HOURS_FILE"))
    profile = config.get("PROFILE") or ProfileSync.from_env(
        r, clock=clock, hours_file=hours.path, profile_file=config.get("BUSINESS_PROFILE_FILE"))
    templates = TemplateRegister(r, clock)
    # The picker needs them when the console runs on its own too; Meta's statuses stay.
    templates.load_file(config.get("TEMPLATES_FILE") or TEMPLATES_FILE)
    rasa = config.get("RASA") or RasaClient(config.get("RASA_URL", "http://127.0.0.1:5005"),
                                            config.get("RASA_TOKEN", ""))
    outreach = Outreach(r, clock, rasa=rasa)
    consent, quality, tier = ConsentRegister(r, clock), QualityRegister(r, clock), MessagingTier(r, clock)
    return Services(
        redis=r, clock=clock, desk=Desk(handoff), window=window, consent=consent,
        delivery=delivery, rasa=rasa,
        users=UserStore(r), sessions=SessionStore(r, config["SESSION_BIND"]),
        throttle=LoginThrottle(r, config.get("LOGIN_LIMIT", 5), config.get("LOGIN_WINDOW_SECONDS", 300)),
        templates=templates, canned=CannedReplies(r), notes=Notes(r, clock),
        faqs=config.get("FAQS") or FaqEditor(r, config.get("PROJECT_DIR") or ROOT, clock),
        hours=hours, profile=profile,
        insights=config.get("INSIGHTS") or EventInsights(config["EVENTS_DB_URL"], clock),
        publish=PublishStore(r),
        tries=TryStore(r),
        quality=quality,
        tier=tier,
        gate=BusinessInitiated(consent, templates, tier, quality, window),
        outreach=outreach,
        campaigns=Campaigns(outreach),
        api_keys=ApiKeys(r, clock),
        labels=Labels(r, clock),
        audit=AuditLog(r, clock),
        csat=Csat(r, clock),
        media=MediaFetcher.from_settings(config, clock),
        reads=ReadMarks(r),
    )
