"""Mailings: appeals, updates, outcomes and reminders sent to supporters through the outbox."""
