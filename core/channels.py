"""Redis pub/sub channel names: the one place both publishers and subscribers read them from.

Nothing is stored on a channel (pub/sub is fire-and-forget); what must survive lives in the
owners' keys (docs/DESIGN.md), and a console that missed an event re-reads that state.
"""

# Every handoff transition (bot/handoff), published inside its Lua scripts.
HANDOFF_EVENTS = "handoff:events"
# Each customer message of a handed-off chat (connector/channel/turns.py), for the console.
CUSTOMER_MESSAGES = "handoff:customer-messages"
# A status change (sent, delivered, read, failed) of a message the console shows
# (connector/cloudapi/delivery.py), so an open conversation refreshes its ticks.
DELIVERY_STATUSES = "wa:delivery-statuses"
# A conversation was queued (connector/inbox/queue.py: Ingest.enqueue), for the workers of every
# process (connector/inbox/pool.py); polling finds the work anyway, this only saves the wait.
INBOX_READY = "wa:inbox-ready"
