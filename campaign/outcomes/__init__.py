"""Closing cases: outcomes per person, official replies, outcome notices, reminders, reports."""
