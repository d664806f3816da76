"""The business profile customers see in WhatsApp: composed from business_profile.yml and the
opening hours (compose.py), and kept in sync with the Cloud API (sync.py)."""
