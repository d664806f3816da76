"""The ingress: a small process of its own that receives Meta's webhooks (`python -m
connector.ingress`), so acks never wait behind NLU and the conversation workers (Rasa processes)
can be restarted, added or removed while webhooks keep being stored.

It serves connector/webhook/endpoint.py, the same code as the Rasa channel's route, and imports
neither Rasa nor TensorFlow (tests/connector/ingress/test_ingress.py checks it in a subprocess).
"""
