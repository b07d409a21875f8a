"""The local SMTP catcher of the embedded default, and its Mailbox page."""
