"""`rightsizer schedule`: a long-lived APScheduler 3.x daemon that never misses a month.

- The job lives in a SQLite job store under `<report.directory>/.scheduler/`, so its next run
  time survives restarts; a fire time that passed while the daemon was down is still "due" when
  it comes back, and runs exactly once (coalesce=True, no misfire cut-off).
- max_instances=1: a run that is still going when the next fire time comes is not doubled.
- A failed run logs one line, posts a short failure message to Slack, and the daemon goes on.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import undefined

from rightsizer.config import (
    DEFAULT_CONFIG_PATH,
    Config,
    ScheduleSettings,
    SlackSettings,
    load_config,
)
from rightsizer.errors import RightsizerError

log = logging.getLogger("rightsizer.integrations.scheduler")

JOB_ID = "monthly-analysis"
# misfire_grace_time=None: "run no matter how late". With coalesce only the latest missed fire
# time runs, and that one is at most one period old; but for a monthly cron that is up to 31
# days, so any finite grace (say 7 days) would silently skip a month after a long outage.
JOB_DEFAULTS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def make_trigger(schedule: ScheduleSettings) -> CronTrigger:
    return CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)


def state_dir_for(config: Config) -> Path:
    return Path(config.report.directory).resolve() / ".scheduler"


def build_scheduler(state_dir: Path, timezone: str,
                    scheduler_cls: type[BaseScheduler] = BlockingScheduler
                    ) -> tuple[BaseScheduler, BaseJobStore]:
    """A scheduler whose only job store is `<state_dir>/jobs.sqlite`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    store = SQLAlchemyJobStore(url=f"sqlite:///{state_dir / 'jobs.sqlite'}")
    scheduler = scheduler_cls(jobstores={"default": store}, job_defaults=dict(JOB_DEFAULTS),
                              timezone=timezone)
    return scheduler, store


def install_job(scheduler: BaseScheduler, store: BaseJobStore, trigger: BaseTrigger,
                func: Any, args: list[Any], job_id: str = JOB_ID) -> str:
    """Add the job; if the store already holds it with the same trigger, keep its stored
    next_run_time. Returns "added", "kept" or "rescheduled".

    `add_job(..., replace_existing=True)` alone is not enough: it recomputes next_run_time from
    *now*, which drops a fire time missed while the daemon was down.
    """
    store.start(scheduler, "default")  # idempotent; lets us read the store before start()
    try:
        existing = store.lookup_job(job_id)
    except Exception as exc:  # noqa: BLE001 - e.g. a job pickled by an incompatible version
        log.warning("replacing an unreadable stored job: %s", type(exc).__name__)
        existing = None
    keep = existing is not None and repr(existing.trigger) == repr(trigger) \
        and existing.next_run_time is not None
    scheduler.add_job(func, trigger, args=args, id=job_id, name="rightsizer monthly analysis",
                      replace_existing=True,
                      next_run_time=existing.next_run_time if keep else undefined,
                      **JOB_DEFAULTS)
    if existing is None:
        return "added"
    return "kept" if keep else "rescheduled"


# --- the job ---------------------------------------------------------------------------------

def short_error(exc: BaseException) -> str:
    """Exception type + first line: no traceback, and no webhook URL even if one leaked in."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(exc, RightsizerError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    secret = os.environ.get(SlackSettings().webhook_url_env, "")
    if secret:
        text = text.replace(secret, "<webhook>")
    return text[:300]


def _run_pipeline(config: Config, demo: bool) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """collect + analyze + write `<report.directory>/<YYYY-MM>/`, as `rightsizer analyze`."""
    from rightsizer.outputs.write import write_outputs
    from rightsizer.pipeline import run_analysis

    report, context, out_dir = run_analysis(config, demo, None)
    write_outputs(report, context, out_dir, config.report.formats)
    return report, context, out_dir


def run_once(config_path: str | None, demo: bool = False) -> int:
    """One scheduled run: 0 ok, 2 failed (logged, and posted to Slack when possible)."""
    started = time.monotonic()
    settings = SlackSettings()
    try:
        config = load_config(Path(config_path) if config_path else None)
        settings = config.slack
        report, _context, out_dir = _run_pipeline(config, demo)
    except Exception as exc:  # noqa: BLE001 - a failed run must not stop the scheduler
        message = short_error(exc)
        log.error("scheduled run failed: %s", message)
        from rightsizer.integrations.slack import post_failure

        post_failure(message, settings)
        return 2
    summary = report["summary"]
    log.info("scheduled run done in %.0fs: %s findings, $%s/month; wrote %s",
             time.monotonic() - started, f"{summary['findings']:,}",
             f"{summary['monthly_savings_usd'] or 0:,.2f}", out_dir)
    from rightsizer.integrations import slack

    if not slack.webhook_configured(config.slack):
        log.info("no Slack webhook configured (%s or [slack] secret_id): not posting",
                 config.slack.webhook_url_env)
        return 0
    try:
        slack.send_summary(report, out_dir / "report.json", config)
    except RightsizerError as exc:
        log.error("could not post the Slack summary: %s", exc)
        return 2
    return 0


def scheduled_run(config_path: str | None, demo: bool = False) -> None:
    """The job the store pickles a reference to: module-level, simple arguments only."""
    run_once(config_path, demo)


# --- the daemon --------------------------------------------------------------------------------

class _Stopper:
    """SIGTERM/SIGINT -> shutdown(wait=True) from a helper thread (not inside the signal handler,
    which may have interrupted the scheduler while it holds its locks)."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self.requested = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def handle_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping after the running job, if any",
                 signal.Signals(signum).name)
        self.requested.set()
        if self.scheduler.running:
            self._shutdown()

    def on_start(self, _event: SchedulerEvent) -> None:
        job = self.scheduler.get_job(JOB_ID)
        if job is not None:
            log.info("scheduler started; next run at %s", job.next_run_time)
        if self.requested.is_set():  # a signal arrived between the check and start()
            self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._stop, name="rightsizer-shutdown",
                                                daemon=True)
                self._thread.start()

    def _stop(self) -> None:
        try:
            self.scheduler.shutdown(wait=True)
        except Exception as exc:  # noqa: BLE001 - e.g. already stopped
            log.debug("shutdown: %s", exc)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()


def serve(config_path: Path | None, *, demo: bool = False, once: bool = False) -> int:
    """`rightsizer schedule`: run forever (or once with --once); returns the exit code."""
    config = load_config(config_path)  # invalid cron/timezone: ConfigError, exit 2
    if config_path is None and DEFAULT_CONFIG_PATH.is_file():
        config_path = DEFAULT_CONFIG_PATH
    # absolute, because the stored job outlives this working directory
    path_arg = str(config_path.resolve()) if config_path is not None else None
    if once:
        return run_once(path_arg, demo)

    scheduler, store = build_scheduler(state_dir_for(config), config.schedule.timezone)
    stopper = _Stopper(scheduler)
    previous = {sig: signal.signal(sig, stopper.handle_signal)
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = install_job(scheduler, store, make_trigger(config.schedule), scheduled_run,
                             [path_arg, demo])
        log.info("schedule %r (%s): job %s; state in %s", config.schedule.cron,
                 config.schedule.timezone, status, state_dir_for(config))
        scheduler.add_listener(stopper.on_start, EVENT_SCHEDULER_STARTED)
        if not stopper.requested.is_set():
            scheduler.start()  # blocks until shutdown
        stopper.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped")
    return 0
