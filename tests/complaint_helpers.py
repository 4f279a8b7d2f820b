"""Builders for complaint tests."""
from datetime import datetime

from webapp.services import complaints


def new(org, *, kind="direct", store=0, contact="13900001111", name="赵先生",
        description="衬衫洗后掉色", received_at: datetime | None = None, **kw):
    return complaints.NewComplaint(kind=kind, channel=kw.pop("channel", "phone"),
                                   store_id=org.stores[store].id if store is not None else None,
                                   customer_name=name, contact=contact, product="衬衫",
                                   description=description, customer_wants="退货",
                                   received_at=received_at, **kw)


def record(org, username="hq", now=None, **kw):
    return complaints.record(actor=org[username], new=new(org, **kw), now=now)


def step(org, case, name, username="hq", **data):
    comment = data.pop("comment", "")
    return complaints.act(actor=org[username], case=case, step=name, version=case.version,
                          data=data, comment=comment)
