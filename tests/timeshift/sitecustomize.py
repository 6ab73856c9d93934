"""Moves this Python process's clock by ``VOICEBOT_TEST_SHIFT_DAYS`` days (time-machine).

Put on ``PYTHONPATH`` by ``pytest --shift-days N`` (tests/conftest.py) so that the
subprocesses a test starts (``voicebot serve`` and friends) live on the same shifted date as
the test process, and signed requests between them still verify.
"""

import os

_days = os.environ.get("VOICEBOT_TEST_SHIFT_DAYS")
if _days:
    from datetime import datetime, timedelta, timezone

    import time_machine

    _travel = time_machine.travel(datetime.now(timezone.utc) + timedelta(days=float(_days)),
                                  tick=True)
    _travel.start()
