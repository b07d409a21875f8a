"""Supporters: sign-up with consent, lists and segments, import, unsubscribe, data rights."""
