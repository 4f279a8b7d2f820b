"""The local peers the staff-alert tests post to (tests/messaging/receivers.py)."""
import pytest

from .receivers import Mailbox, Receiver


@pytest.fixture
def receiver():
    """A WeCom / DingTalk / webhook receiver on a local port."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mailbox(monkeypatch):
    """A local SMTP server, with the SMTP_* environment pointing at it."""
    box = Mailbox()
    for key, value in box.environ().items():
        monkeypatch.setenv(key, value)
    yield box
    box.close()
