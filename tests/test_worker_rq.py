"""The photo job on real RQ workers and a real Redis: enqueue, outages, killed workers, health."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from fieldreport.config import PROJECT_ROOT, Settings
from fieldreport.photos.models import Photo
from fieldreport.photos.tasks import enqueue_photo
from fieldreport.storage import original_key
from tests.helpers import (
    add_photo_row,
    make_settings,
    post_report,
    report_body,
    upload_photo,
    wait_until,
)

JOB_TIMEOUT_S = 8  # long enough that RQ does not time out the job a test holds on purpose
JOB_HEARTBEAT_S = 1


@pytest.fixture
def settings(tmp_path: Path, database_url: str, own_redis_url: str) -> Settings:
    """The app in RQ mode on a Redis database of the test's own (tests here stop Redis)."""
    return make_settings(
        tmp_path,
        database_url,
        redis_url=own_redis_url,
        job_timeout_s=JOB_TIMEOUT_S,
        job_heartbeat_s=JOB_HEARTBEAT_S,
    )


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FIELDREPORT_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        FIELDREPORT_DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url,
        REDIS_URL=str(settings.redis_url),
        FIELDREPORT_TESTING="true",
        FIELDREPORT_PARTIES=",".join(settings.parties),
        FIELDREPORT_TIME_ZONE=settings.time_zone,
        FIELDREPORT_JOB_TIMEOUT_S=str(settings.job_timeout_s),
        FIELDREPORT_JOB_HEARTBEAT_S=str(settings.job_heartbeat_s),
        **extra,
    )
    return env


def run_burst_worker(settings: Settings) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def descendants(pid: int) -> list[int]:
    """The processes a worker started: its job process (in a group of its own) and scheduler."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            child = int(stat.parent.name)
            found += [child, *descendants(child)]
    return found


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and everything it started, as when its machine is lost."""
    for pid in [*descendants(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextlib.contextmanager
def running_worker(settings: Settings, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker process (not burst) for the length of the block."""
    log = (settings.data_dir / f"worker-{time.monotonic_ns()}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        cwd=PROJECT_ROOT,
        env=worker_env(settings, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            kill_worker(process)
        log.close()


def upload(client: Any, data: bytes) -> Any:
    """File a report and upload ``data`` to it as its photo."""
    body = report_body()
    assert post_report(client, body).status_code == 201
    return upload_photo(client, body["client_id"], data)


def photo_state(runtime: Any, photo_id: int) -> str:
    with runtime.db.session_scope(write=False) as session:
        return session.get_one(Photo, photo_id).state


def photos_queue(settings: Settings) -> Queue:
    return Queue("photos", connection=Redis.from_url(str(settings.redis_url)))


def test_real_worker_processes_a_submitted_photo_and_fails_a_bad_one_without_retry(
    client_for, runtime, corpus
):
    client = client_for("obs1")
    response = upload(client, (corpus / "accept/gps_DSCN0021.jpg").read_bytes())
    assert response.status_code == 201
    good = response.get_json()["id"]
    queue = photos_queue(runtime.settings)
    assert queue.job_ids == [f"photo_{good}"]

    bad_bytes = (corpus / "reject/pillow_truncated_jpeg.jpg").read_bytes()
    with runtime.db.session_scope(write=False) as session:
        report_id = session.get_one(Photo, good).report_id
    bad = add_photo_row(runtime, report_id, bad_bytes)
    enqueue_photo(runtime.queue, bad)

    run_burst_worker(runtime.settings)

    with runtime.db.session_scope(write=False) as session:
        done = session.get_one(Photo, good)
        failed = session.get_one(Photo, bad)
        assert (done.state, done.exif_latitude is not None) == ("done", True)
        assert (failed.state, failed.attempts) == ("failed", 1)
        assert "damaged" in failed.failure_reason
    job = Job.fetch(f"photo_{bad}", connection=queue.connection)
    assert job.get_status() == JobStatus.FINISHED
    assert queue.failed_job_registry.count == 0
    assert queue.scheduled_job_registry.count == 0


def test_enqueueing_the_same_job_twice_queues_it_once(runtime, client_for, corpus):
    response = upload(client_for("obs1"), (corpus / "accept/Canon_40D.jpg").read_bytes())
    photo_id = response.get_json()["id"]
    for _ in range(3):
        assert enqueue_photo(runtime.queue, photo_id)
    assert photos_queue(runtime.settings).job_ids == [f"photo_{photo_id}"]


def test_same_photo_uploaded_twice_is_queued_once_under_its_photo_id(runtime, client_for, corpus):
    client = client_for("obs1")
    body = report_body()
    assert post_report(client, body).status_code == 201
    path = corpus / "accept/Canon_40D.jpg"
    first = upload_photo(client, body["client_id"], path)
    again = upload_photo(client, body["client_id"], path)
    assert (first.status_code, again.status_code) == (201, 200)
    assert photos_queue(runtime.settings).job_ids == [f"photo_{first.get_json()['id']}"]


def test_photo_sent_while_redis_is_down_is_processed_once_it_is_back(
    client_for, runtime, redis_server, corpus
):
    client = client_for("obs1")
    redis_server.stop()
    response = upload(client, (corpus / "accept/gps_DSCN0010.jpg").read_bytes())
    assert response.status_code == 201
    photo_id = response.get_json()["id"]
    assert photo_state(runtime, photo_id) == "pending"
    assert client.get("/healthz").get_json()["queue"] == "down"

    redis_server.start()
    assert photos_queue(runtime.settings).count == 0
    run_burst_worker(runtime.settings)
    assert photo_state(runtime, photo_id) == "done"


def test_photo_whose_worker_was_killed_mid_job_is_done_by_the_next(client_for, runtime, corpus):
    data = (corpus / "accept/gps_DSCN0012.jpg").read_bytes()
    response = upload(client_for("obs1"), data)
    photo_id = response.get_json()["id"]
    original = runtime.storage.path(original_key(hashlib.sha256(data).hexdigest()))
    # Reading a FIFO blocks until someone writes to it: the job stops there, mid-way, for sure.
    original.unlink()
    os.mkfifo(original)

    with running_worker(runtime.settings) as worker:
        wait_until(lambda: photo_state(runtime, photo_id) == "processing", "the job to start")
        # While its worker lives, enqueueing the running job again adds nothing.
        assert enqueue_photo(runtime.queue, photo_id)
        assert photos_queue(runtime.settings).count == 0
        kill_worker(worker)
    original.unlink()
    runtime.storage.put(original_key(hashlib.sha256(data).hexdigest()), data)
    assert photo_state(runtime, photo_id) == "processing"

    with running_worker(runtime.settings, FIELDREPORT_SWEEP_INTERVAL_S="0.5"):
        wait_until(lambda: photo_state(runtime, photo_id) == "done", "the sweep to redo the job")
    with runtime.db.session_scope(write=False) as session:
        photo = session.scalar(select(Photo))
        assert photo.attempts == 2
        assert photo.exif_latitude is not None


def test_healthz_reports_the_queue_ok_or_down_with_real_redis(app, redis_server):
    client = app.test_client()
    assert client.get("/healthz").get_json()["queue"] == "ok"
    redis_server.stop()
    body = client.get("/healthz")
    assert (body.status_code, body.get_json()["queue"]) == (200, "down")
    redis_server.start()
    assert client.get("/healthz").get_json()["queue"] == "ok"


def test_a_running_worker_works_again_after_redis_restarts_twice(
    client_for, runtime, redis_server, corpus
):
    """The topology's fault, in small: Redis goes away (empty when back) under a worker that
    lives on; photos sent meanwhile are done by the sweep, and later ones as they come."""
    client = client_for("obs1")
    photos = [corpus / "accept/gps_DSCN0010.jpg", corpus / "accept/gps_DSCN0012.jpg"]
    sent = []
    with running_worker(runtime.settings, FIELDREPORT_SWEEP_INTERVAL_S="1") as worker:
        for path in photos:
            redis_server.stop()
            sent.append(upload(client, path.read_bytes()).get_json()["id"])
            time.sleep(2)  # the worker notices: its next call to Redis fails
            redis_server.start()
        sent.append(
            upload(client, (corpus / "accept/gps_DSCN0021.jpg").read_bytes()).get_json()["id"]
        )
        with stacks_on_failure(worker, runtime.settings):
            wait_until(
                lambda: all(photo_state(runtime, photo_id) == "done" for photo_id in sent),
                "every photo to be processed after the restarts",
                timeout=90,
            )
        assert worker.poll() is None, "the worker quit instead of working again"


@contextlib.contextmanager
def stacks_on_failure(worker: subprocess.Popen[bytes], settings: Settings) -> Iterator[None]:
    """A failing wait names where the worker is: its threads' stacks (SIGUSR1) and log tail."""
    try:
        yield
    except AssertionError as failure:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGUSR1)
        time.sleep(1)
        logs = sorted(settings.data_dir.glob("worker-*.log"))
        tail = "\n".join(logs[-1].read_text(errors="replace").splitlines()[-150:]) if logs else ""
        raise AssertionError(f"{failure}\n--- the worker's log, last lines:\n{tail}") from None


def test_a_worker_writes_every_threads_stack_to_its_log_on_sigusr1(runtime):
    """How an operator sees where a stuck worker waits: ``kill -USR1 <pid>``."""
    with running_worker(runtime.settings) as worker:
        log = next(runtime.settings.data_dir.glob("worker-*.log"))
        wait_until(lambda: b"Listening on" in log.read_bytes(), "the worker to listen")
        os.kill(worker.pid, signal.SIGUSR1)
        wait_until(lambda: b"most recent call first" in log.read_bytes(), "the stacks")
        assert b"in _loop" in log.read_bytes()  # the periodic thread's stack is there too
        assert worker.poll() is None, "the signal must not stop the worker"


def _ignore_sigterm_and_wait() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(120)


def test_stopping_a_worker_does_not_wait_forever_for_a_stuck_scheduler(own_redis_url, monkeypatch):
    """RQ joins its scheduler process with no limit; a stuck one would hold the worker for
    good (it stops only to start again after losing Redis)."""
    import multiprocessing
    from types import SimpleNamespace

    from worker import rq_worker as module

    monkeypatch.setattr(module, "SCHEDULER_STOP_S", 0.5)
    stuck = multiprocessing.get_context("fork").Process(target=_ignore_sigterm_and_wait)
    stuck.start()
    rq_worker = module.PatientWorker(["photos"], connection=Redis.from_url(own_redis_url))
    rq_worker.scheduler = SimpleNamespace(_process=stuck)
    began = time.monotonic()
    rq_worker.stop_scheduler()
    assert time.monotonic() - began < 10
    assert not stuck.is_alive()
