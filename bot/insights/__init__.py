"""What happened in conversations, read from the event store Rasa's SQL event broker writes.

store.py owns where the store is and its tables; turns.py reads events into customer turns;
health.py and not_understood.py compute what the leads' workspace shows.
"""
