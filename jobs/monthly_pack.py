"""The month's pack review (services/monthly_pack.request_review queues it)."""
from . import run


def review(batch_id: int):
    from webapp.services.monthly_pack import run_review

    return run(run_review, batch_id)
