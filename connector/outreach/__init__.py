"""Business-initiated messages: alerts and campaigns (template sends the business starts).

`store` (the durable sends: schedule, leases, idempotency), `engine` (submitting and reading
sends: the alerts API, the CLI and campaigns use it), `worker` (sends what is due through the
CloudSender), `history` (a sent template into the conversation's Rasa tracker), `campaigns`.
"""
