"""Shared core: settings, Redis, clock and the helpers the connector, actions and console all use."""
