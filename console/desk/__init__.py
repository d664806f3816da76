"""The agent desk: the live queue, one conversation with every action on it, canned replies,
private notes, and the event stream that keeps open pages current. `chats.Desk` is the only
door into bot.handoff; `rasa_client` the only one into Rasa."""
