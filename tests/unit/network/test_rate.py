"""The download meter's rate and time left (bootd.loader.transfer), on a clock the test moves."""

from __future__ import annotations

from bootd.loader.transfer import PROGRESS_INTERVAL, PROGRESS_STEP, ProgressMeter, RateMeter
from bootd.model import Transfer

MiB = 1024 * 1024


def test_rate_and_time_left_follow_the_last_seconds() -> None:
    now = [0.0]
    meter = RateMeter(lambda: now[0])
    now[0] = 0.1
    assert meter.measure(MiB, 100 * MiB) == Transfer(MiB, 100 * MiB, None, None), "too soon to tell"
    for second in range(1, 11):  # 10 s at 4 MiB/s
        now[0] = second
        t = meter.measure(4 * MiB * second, 100 * MiB)
    assert t.rate == 4 * MiB and t.eta == 15.0
    for second in range(11, 15):  # the link slows down to 1 MiB/s: the rate follows within the window
        now[0] = second
        t = meter.measure(40 * MiB + MiB * (second - 10), 100 * MiB)
    assert t.rate is not None and t.rate == 1 * MiB and t.eta == 56.0
    now[0] = 20.0
    last = meter.measure(100 * MiB, 100 * MiB, final=True)
    assert last == Transfer(100 * MiB, 100 * MiB, 5 * MiB, 0.0), "the last report: the average of the whole"
    assert last.complete


def test_the_last_report_of_a_download_of_unknown_size_has_the_size() -> None:
    now = [0.0]
    meter = RateMeter(lambda: now[0])
    now[0] = 1.0
    assert meter.measure(MiB, None).eta is None
    now[0] = 2.0
    assert meter.measure(3 * MiB, None, final=True) == Transfer(3 * MiB, 3 * MiB, 1.5 * MiB, 0.0)


def test_the_meter_reports_every_step_and_the_end_once() -> None:
    seen: list[Transfer] = []
    now = [0.0]
    meter = ProgressMeter(seen.append, clock=lambda: now[0])
    meter.total = 10 * PROGRESS_STEP
    for i in range(1, 10 * 16 + 1):  # 16 chunks per step, one per 10 ms
        now[0] = i / 100
        meter.update(i * PROGRESS_STEP // 16)
    meter.update(10 * PROGRESS_STEP, final=True)
    meter.update(10 * PROGRESS_STEP, final=True)
    done = [t.done for t in seen]
    assert done[0] == PROGRESS_STEP // 16 and len(done) == 11, done
    assert all(b - a >= PROGRESS_STEP for a, b in zip(done[:-2], done[1:-1], strict=True)), done
    assert done[-1] == 10 * PROGRESS_STEP and [t.complete for t in seen].count(True) == 1
    assert seen[-1].complete and seen[-1].eta == 0.0 and seen[-1].rate == 10 * PROGRESS_STEP / 1.6
    assert seen[5].rate is not None and seen[5].eta is not None and seen[5].eta > 0


def test_a_fast_link_is_reported_a_few_times_a_second_not_per_step() -> None:
    seen: list[Transfer] = []
    now = [0.0]
    meter = ProgressMeter(seen.append, clock=lambda: now[0])
    meter.total = 1000 * PROGRESS_STEP
    for i in range(1, 1001):  # 250 MiB in one second
        now[0] = i / 1000
        meter.update(i * PROGRESS_STEP)
    meter.update(1000 * PROGRESS_STEP, final=True)
    assert len(seen) <= 1 / PROGRESS_INTERVAL + 2, len(seen)
    assert seen[-1].complete and seen[-1].done == 1000 * PROGRESS_STEP
