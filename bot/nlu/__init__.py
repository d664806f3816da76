"""Custom Rasa NLU components: language detection and the n-gram intent/FAQ classifier."""
