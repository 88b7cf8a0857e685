"""Building and sending a digest: the steps of ``service.py`` chained, each its own transaction.

These are the job side's units of work (``tasks.py`` runs them; so do the ``fieldreport digest``
command, the benchmark and the tests). A build marks the day building (committed, so a reader
and the nightly check see it under way), reads one snapshot, renders and stores the files
outside any transaction, then points the row at them. A send commits its claim before the mail
goes out and records the outcome after, so two workers never send the same day twice. Never
call these inside a web request's transaction: on SQLite they would wait for its write lock.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import date

from fieldreport import metrics
from fieldreport.accounts.models import User
from fieldreport.digests import email, exports, sending, service
from fieldreport.digests.models import Digest
from fieldreport.digests.outputs import render_outputs
from fieldreport.ledger import seal
from fieldreport.runtime import Runtime

log = logging.getLogger(__name__)


def build(runtime: Runtime, day: date, timings: dict[str, float] | None = None) -> Digest:
    """Build (or rebuild) ``day``'s digest; the row is ready only once every file is stored.

    Rebuilding the same day updates the same row; the same data gives the same figures and
    signature. Raises whatever went wrong: the caller records it (:func:`record_failure`).
    ``timings``, when given, receives the seconds each phase took (``bench/digest.py``).
    """
    settings, zone = runtime.settings, runtime.settings.time_zone
    began = started = time.perf_counter()
    with runtime.db.session_scope() as session:
        service.start_build(session, day, zone)
    with runtime.db.session_scope(write=False) as session:
        service.begin_snapshot(session)
        # The figures, the map, the exports' records and (issue 11) the signed tree head all
        # come from this one snapshot: a report verified after it is in none of them.
        snapshot = service.read_snapshot(session, day, settings)
        sealed = seal.seal_snapshot(session, settings.data_dir, day)
    snapshot = dataclasses.replace(snapshot, tree_head=sealed.context)
    signature = service.sign(settings, snapshot.figures, snapshot.ledger_head)
    figures_s = time.perf_counter() - began
    began = time.perf_counter()
    export_files = exports.export_files(snapshot.records)  # encoded after the transaction
    exports_s = time.perf_counter() - began
    outputs = render_outputs(settings, day, snapshot, signature)
    began = time.perf_counter()
    files = {**outputs.files, **export_files}
    files.update(seal.signed_manifest(settings.data_dir, day, sealed.context, files))
    base = service.store_files(runtime.storage, day, signature, files)
    with runtime.db.session_scope() as session:
        digest = service.mark_ready(session, day, zone, snapshot, signature, base)
        session.add(sealed.head)  # issue 11: the head is kept once the build is
    if timings is not None:
        timings.update(
            outputs.timings,
            figures=figures_s,
            exports=exports_s,
            store=time.perf_counter() - began,
        )
    metrics.DIGEST_BUILD_SECONDS.observe(time.perf_counter() - started)
    return digest


def record_failure(runtime: Runtime, day: date, error: BaseException, *, final: bool) -> None:
    """Note why a build failed (its own transaction: the build's were rolled back)."""
    reason = f"{type(error).__name__}: {error}"
    with runtime.db.session_scope() as session:
        service.record_failure(session, day, runtime.settings.time_zone, reason, final=final)


def send(runtime: Runtime, day: date, *, resend: bool = False, actor_id: int | None = None) -> bool:
    """Email the ready digest to the recipients once; False when there is nothing to send.

    Each attempt leaves a ``DigestSend`` row with its outcome; a refusal raises
    :class:`sending.DigestSendFailed` (after recording it) so a job may retry. ``actor_id`` is
    the admin who asked for a resend (the audit trail names them), None for the nightly run.
    """
    settings = runtime.settings
    if not settings.digest_recipients or not settings.smtp_host:
        log.info("digest %s: no recipients or no SMTP host; not sent", day)
        return False
    with runtime.db.session_scope() as session:
        if not sending.claim(session, day, resend=resend):
            return False
    with runtime.db.session_scope(write=False) as session:
        parts = sending.outgoing(session, runtime.storage, day)
    message = email.compose(settings, day=day, html=parts.html, text=parts.text, pdf=parts.pdf)
    try:
        message_id = email.deliver(settings, message)
    except (OSError, email.SMTPException) as error:
        with runtime.db.session_scope() as session:
            actor = session.get(User, actor_id) if actor_id else None
            sending.record_send_failure(session, settings, day, parts.digest_id, str(error), actor)
        raise sending.DigestSendFailed(f"digest {day}: {error}") from error
    with runtime.db.session_scope() as session:
        actor = session.get(User, actor_id) if actor_id else None
        sending.record_sent(session, settings, day, parts.digest_id, message_id, actor)
    return True
