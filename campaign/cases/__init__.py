"""Urgent Actions: UA numbers, updates, people at risk, targets."""
