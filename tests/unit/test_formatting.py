"""Display helpers."""
from datetime import datetime, timezone

from webapp.formatting import countdown, due_time, local_time, yuan


def test_times_show_in_shanghai():
    assert local_time(datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)) == "2026-11-24 00:30"


def test_midnight_deadline_reads_as_end_of_previous_day():
    assert due_time(datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)) == "2026-11-24 24:00"
    assert due_time(datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)) == "2026-11-24 16:00"


def test_countdown_and_money():
    now = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    assert countdown(datetime(2026, 11, 23, 3, 20, tzinfo=timezone.utc), now) == "剩余 3小时20分"
    assert countdown(datetime(2026, 11, 21, 22, 0, tzinfo=timezone.utc), now) == "已超时 1天2小时"
    assert yuan(123456) == "1234.56" and yuan(5) == "0.05"
