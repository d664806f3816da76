"""The leads' workspace: pages where support leads change what the assistant knows and says."""
