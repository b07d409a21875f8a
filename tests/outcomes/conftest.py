"""The mailing tests' real SMTP sink and supporter factory, shared with these tests."""

from tests.mailings.conftest import mail_config, make_supporters, sink  # noqa: F401
