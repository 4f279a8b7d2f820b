"""PDF batch jobs."""
from . import run


def render_batch(batch_id: int):
    from webapp.services.printing import render_batch as render

    return run(render, batch_id)
