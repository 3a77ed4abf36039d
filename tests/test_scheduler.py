"""`rightsizer schedule`: cron/timezone fire times, a missed run happening exactly once after a
restart, no overlapping runs, failures posted to Slack without stopping the scheduler, SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from pytest_httpserver import HTTPServer

from rightsizer import pipeline
from rightsizer.config import ScheduleSettings
from rightsizer.integrations import scheduler as sched
from tests.test_slack import HOOK_PATH, sample_report

ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


# Job functions must be importable by reference: the SQLite store pickles "module:function".
def append_line(path: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{datetime.now(UTC).isoformat()}\n")


RELEASE = threading.Event()


def slow_job(path: str) -> None:
    append_line(path)
    RELEASE.wait(10)


# --- fire times ---------------------------------------------------------------------------------

def fire_times(cron: str, timezone: str, start: datetime, count: int) -> list[datetime]:
    trigger = sched.make_trigger(ScheduleSettings(cron=cron, timezone=timezone))
    times: list[datetime] = []
    previous, now = None, start
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        times.append(nxt)
        previous, now = nxt, nxt
    return times


def test_monthly_in_kolkata() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    [first, second] = fire_times("0 6 1 * *", "Asia/Kolkata",
                                 datetime(2026, 11, 28, 9, 0, tzinfo=kolkata), 2)
    assert first == datetime(2026, 12, 1, 6, 0, tzinfo=kolkata)
    assert first.utcoffset() == timedelta(hours=5, minutes=30)
    assert first.astimezone(UTC) == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert second == datetime(2027, 1, 1, 6, 0, tzinfo=kolkata)


def test_daily_across_the_new_york_spring_dst_change() -> None:
    """02:30 does not exist on 2027-03-14 (clocks jump 02:00 -> 03:00): APScheduler 3.x still
    fires once that day, at 07:30 UTC (03:30 EDT), then at 02:30 EDT: no day skipped or doubled.
    """
    new_york = ZoneInfo("America/New_York")
    times = fire_times("30 2 * * *", "America/New_York",
                       datetime(2027, 3, 12, 12, 0, tzinfo=new_york), 4)
    assert [t.astimezone(UTC) for t in times] == [
        datetime(2027, 3, 13, 7, 30, tzinfo=UTC),   # 02:30 EST
        datetime(2027, 3, 14, 7, 30, tzinfo=UTC),   # the missing 02:30 -> 03:30 EDT
        datetime(2027, 3, 15, 6, 30, tzinfo=UTC),   # 02:30 EDT
        datetime(2027, 3, 16, 6, 30, tzinfo=UTC),
    ]


def test_day_31_skips_short_months() -> None:
    times = fire_times("0 0 31 * *", "UTC", datetime(2027, 1, 31, 1, 0, tzinfo=UTC), 4)
    assert [t.date().isoformat() for t in times] == [
        "2027-03-31", "2027-05-31", "2027-07-31", "2027-08-31"]


def set_stored_next_run_time(state_dir: Path, when: datetime) -> None:
    scheduler, store = sched.build_scheduler(state_dir, "UTC", BackgroundScheduler)
    store.start(scheduler, "default")
    job = store.lookup_job(sched.JOB_ID)
    job._modify(next_run_time=when)
    store.update_job(job)
    store.shutdown()


# --- persistence: a missed run happens exactly once ----------------------------------------

def far_from_now(cron: str) -> str:
    """`cron` with its {minute} and {hour} half an hour and half a day away from now: its next
    fire time cannot fall inside the test, where a second, legitimate run would look like the
    missed run running twice."""
    now = datetime.now(UTC)
    return cron.format(minute=(now.minute + 30) % 60, hour=(now.hour + 12) % 24)


@pytest.mark.parametrize(("cron", "missed_by"), [
    # 72 hourly fire times missed: coalesced into one run
    pytest.param("{minute} * * * *", timedelta(days=3), id="hourly"),
    # a monthly run 20 days late still runs (no grace cut)
    pytest.param("0 {hour} 1 * *", timedelta(days=20), id="monthly"),
])
def test_missed_run_runs_exactly_once_after_restart(tmp_path: Path, cron: str,
                                                    missed_by: timedelta) -> None:
    out = tmp_path / "runs.txt"
    trigger = CronTrigger.from_crontab(far_from_now(cron), timezone="UTC")

    # First life: the job is stored; then the daemon is down while its fire time passes.
    first, store = sched.build_scheduler(tmp_path / "state", "UTC", BackgroundScheduler)
    assert sched.install_job(first, store, trigger, append_line, [str(out)]) == "added"
    first.start(paused=True)
    first.shutdown(wait=True)
    # The clock moves on while nothing runs: the stored next run time is now in the past.
    # (Written to the store directly: modify_job on a live scheduler would race its thread.)
    set_stored_next_run_time(tmp_path / "state", datetime.now(UTC) - missed_by)
    assert lines(out) == []

    # Second life, same store: the stored (past) next_run_time is kept and runs once.
    second, store = sched.build_scheduler(tmp_path / "state", "UTC", BackgroundScheduler)
    assert sched.install_job(second, store, trigger, append_line, [str(out)]) == "kept"
    second.start()
    try:
        assert wait_for(lambda: len(lines(out)) >= 1)
        time.sleep(0.5)
        assert len(lines(out)) == 1
        job = second.get_job(sched.JOB_ID)
        assert job.next_run_time > datetime.now(UTC)
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time is None
    finally:
        second.shutdown(wait=True)


def test_changed_cron_reschedules_from_now(tmp_path: Path) -> None:
    out = tmp_path / "runs.txt"
    first, store = sched.build_scheduler(tmp_path / "state", "UTC", BackgroundScheduler)
    sched.install_job(first, store, CronTrigger.from_crontab("0 6 1 * *", timezone="UTC"),
                      append_line, [str(out)])
    first.start(paused=True)
    first.shutdown(wait=False)
    second, store = sched.build_scheduler(tmp_path / "state", "UTC", BackgroundScheduler)
    new_trigger = CronTrigger.from_crontab("0 7 2 * *", timezone="UTC")
    assert sched.install_job(second, store, new_trigger, append_line, [str(out)]) == \
        "rescheduled"
    second.start(paused=True)
    try:
        job = second.get_job(sched.JOB_ID)
        assert (job.next_run_time.day, job.next_run_time.hour) == (2, 7)
    finally:
        second.shutdown(wait=False)


# --- no overlap --------------------------------------------------------------------------------

def test_no_overlapping_runs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="apscheduler")
    out = tmp_path / "runs.txt"
    RELEASE.clear()
    scheduler, store = sched.build_scheduler(tmp_path / "state", "UTC", BackgroundScheduler)
    sched.install_job(scheduler, store, CronTrigger.from_crontab("0 6 1 * *", timezone="UTC"),
                      slow_job, [str(out)])
    scheduler.start()
    try:
        scheduler.modify_job(sched.JOB_ID, next_run_time=datetime.now(UTC))
        assert wait_for(lambda: len(lines(out)) == 1)
        scheduler.modify_job(sched.JOB_ID, next_run_time=datetime.now(UTC))  # still running
        assert wait_for(lambda: "maximum number of running instances reached" in caplog.text)
    finally:
        RELEASE.set()
        scheduler.shutdown(wait=True)
    assert len(lines(out)) == 1


# --- failures --------------------------------------------------------------------------------

@pytest.fixture()
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[report]\ndirectory = "{tmp_path / "reports"}"\nformats = ["json"]\n'
                    '[schedule]\ncron = "0 6 1 * *"\ntimezone = "UTC"\n')
    return path


def test_failed_run_posts_failure_and_scheduler_keeps_going(
        tmp_path: Path, config_file: Path, httpserver: HTTPServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    out_dir = tmp_path / "reports" / "2026-12"
    calls: list[int] = []

    def fake_run_analysis(config: Any, demo: bool, output: Any, **_: Any
                          ) -> tuple[dict[str, Any], dict[str, Any], Path]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom: throttled\nsecond line that must not be posted")
        return sample_report(), {}, out_dir

    monkeypatch.setattr(pipeline, "run_analysis", fake_run_analysis)
    scheduler, store = sched.build_scheduler(tmp_path / "state", "UTC", BackgroundScheduler)
    sched.install_job(scheduler, store, sched.make_trigger(ScheduleSettings(timezone="UTC")),
                      sched.scheduled_run, [str(config_file), False])
    scheduler.start()
    try:
        scheduler.modify_job(sched.JOB_ID, next_run_time=datetime.now(UTC))
        assert wait_for(lambda: len(httpserver.log) == 1)
        failure = json.loads(httpserver.log[0][0].get_data())
        assert failure["text"] == \
            ":x: rightsizer: the scheduled run failed: RuntimeError: boom: throttled"
        assert scheduler.running

        scheduler.modify_job(sched.JOB_ID, next_run_time=datetime.now(UTC))
        assert wait_for(lambda: len(httpserver.log) == 2)
        summary = json.loads(httpserver.log[1][0].get_data())
        assert summary["blocks"][0]["type"] == "header"
        assert (out_dir / "report.json").is_file()
        assert scheduler.get_job(sched.JOB_ID).next_run_time > datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=True)


def test_once_returns_the_runs_exit_code(config_file: Path, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK", raising=False)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("no credentials")

    monkeypatch.setattr(pipeline, "run_analysis", broken)
    assert sched.serve(config_file, once=True) == 2
    monkeypatch.setattr(pipeline, "run_analysis", lambda *_, **__: (
        sample_report(), {}, tmp_path / "reports" / "2026-12"))
    assert sched.serve(config_file, once=True) == 0  # no webhook: logged and skipped
    assert (tmp_path / "reports" / "2026-12" / "report.json").is_file()


def test_invalid_cron_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[schedule]\ncron = "0 6 32 * *"\n')
    result = subprocess.run([sys.executable, "-m", "rightsizer", "schedule", "--config",
                             str(bad)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"rightsizer: {bad}: [schedule]")


# --- SIGTERM ------------------------------------------------------------------------------------

def test_sigterm_stops_the_daemon_cleanly(tmp_path: Path, config_file: Path) -> None:
    log_path = tmp_path / "stderr.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("RIGHTSIZER_SLACK_WEBHOOK", None)
    with open(log_path, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "rightsizer", "schedule", "--demo", "--config",
             str(config_file)], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            assert wait_for(lambda: "scheduler started" in log_path.read_text(), timeout=20), \
                log_path.read_text()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert "scheduler stopped" in log_path.read_text()
    assert (tmp_path / "reports" / ".scheduler" / "jobs.sqlite").is_file()
