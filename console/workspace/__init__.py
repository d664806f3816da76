"""The leads' workspace: the pages where support leads improve the assistant themselves."""
