"""Local stand-in for the WhatsApp Cloud API plus a customer chat page (development and tests only).

Nothing in production imports this package: it exists so `make run` works on day one without
Meta credentials, and so tests can drive real webhooks, statuses and failures end to end.
"""
