"""Agent console for the WhatsApp assistant: queue, conversations, replies inside WhatsApp's rules.

Flask's app-factory shape: `app.create_app` builds an app, `services` holds what the views use
(`services.current()`), and each area is a subpackage whose blueprints import their siblings:
`auth/` decides who is signed in, `desk/` is where agents work their chats.
"""
from .app import create_app

__all__ = ["create_app"]
