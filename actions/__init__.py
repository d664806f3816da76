"""Custom actions run by our action server (`python -m actions.server`, see actions/server.py)."""
