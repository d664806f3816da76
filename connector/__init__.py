"""WhatsApp Cloud API channel for Rasa: webhook in (signature, parsing, durable queue, workers)
and messages out (formatting, limits, sending, delivery statuses).

`connector.channel.input.WhatsAppInput` is the class named in credentials.yml; see docs/DESIGN.md.
"""
