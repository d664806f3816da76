"""The leads' workspace: where support leads improve the assistant themselves (lead role only)."""
