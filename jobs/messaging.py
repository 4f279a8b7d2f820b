"""Message jobs: send the outbox's due SMS (started after each commit that queued one, and every
minute as a sweeper for a lost start, a back-off that came due, or the end of quiet hours)."""
from . import run


def send_queued():
    """Send what is due; harmless when run twice at once (each row is claimed once)."""
    from webapp.services.sending import send_queued as send

    return run(send)


def deliver_staff_posts():
    """Post the group-robot messages, digest e-mails and outgoing webhooks that are due (started
    after each commit that queued one, and every minute for back-offs and a lost start)."""
    from webapp.services.staff_posts import deliver_due

    return run(deliver_due)
