"""Simulated phones for bench/topology.py: each logs in and sends its outbox through the JSON
API as the offline outbox does — the report, then its photo unless the answer lists it — sending
again, with the same ``client_id``, whenever an answer is lost."""

from __future__ import annotations

import hashlib
import http.client
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.live_server import HttpClient, Response

MAX_ATTEMPTS = 60
RETRY_STATUSES = (429, 502, 503, 504)  # the server asks to come back; anything else is a bug


class PhoneError(RuntimeError):
    """An answer no retry can fix (a 4xx or 500), or no answer after MAX_ATTEMPTS."""


@dataclass
class Tally:
    """What all phones saw: latencies of answered requests by kind, losses, statuses, errors."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"report": [], "photo": []})
    lost_answers: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def outbox(phone: int, count: int, photos: list[bytes]) -> list[tuple[dict[str, Any], bytes]]:
    """``count`` reports as the phone builds them, each with one corpus photo."""
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    entries = []
    for number in range(count):
        body = {
            "client_id": str(uuid.uuid4()),
            "category": "ceasefire_violation",
            "subcategory": "small_arms_fire",
            "occurred_at": when,
            "latitude": "43.4675",
            "longitude": "11.8851",
            "accuracy_m": "12",
            "position_source": "gps",
            "basis": "seen",
            "narrative": f"Phone {phone}, report {number}: bursts of fire from the ridge.",
            "urgent": False,
            "details": {"count": "4"},
        }
        entries.append((body, photos[(phone * count + number) % len(photos)]))
    return entries


def corpus_photos(corpus: Path, max_bytes: int) -> list[bytes]:
    """The corpus photos the upload accepts, up to ``max_bytes`` each (tests/corpus)."""
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]
    rows = [line.split("\t") for line in lines if line.startswith("accept\t")]
    return [(corpus / row[1]).read_bytes() for row in rows if int(row[2]) <= max_bytes]


class Phone:
    def __init__(self, base_url: str, username: str, password: str, tally: Tally) -> None:
        self.client = HttpClient(base_url)
        self.username, self.password = username, password
        self.tally = tally

    def run(self, entries: list[tuple[dict[str, Any], bytes]], done: Callable[[], None]) -> None:
        try:
            self._retry(lambda: self._login(), "login")
            for body, photo in entries:
                self._send(body, photo)
                done()
        except PhoneError as error:
            with self.tally.lock:
                self.tally.errors.append(f"{self.username}: {error}")

    def _login(self) -> Response:
        self.client.login(self.username, self.password)
        return Response(200, b"{}", {})

    def _send(self, body: dict[str, Any], photo: bytes) -> None:
        answer = self._retry(lambda: self.client.post_report(body), "report")
        arrived = {item["sha256"] for item in answer.json().get("photos", [])}
        if hashlib.sha256(photo).hexdigest() not in arrived:
            client_id = body["client_id"]
            self._retry(lambda: self.client.post_photo(client_id, photo, "photo.jpg"), "photo")
        with self.tally.lock:
            self.tally.sent += 1

    def _retry(self, call: Callable[[], Response], kind: str) -> Response:
        for attempt in range(MAX_ATTEMPTS):
            began = time.perf_counter()
            try:
                answer = call()
            except (OSError, http.client.HTTPException):
                with self.tally.lock:
                    self.tally.lost_answers += 1
                time.sleep(min(0.05 * 2**attempt, 2.0))
                continue
            seconds = time.perf_counter() - began
            with self.tally.lock:
                self.tally.statuses[answer.status] += 1
                if answer.status in (200, 201) and kind in self.tally.latencies:
                    self.tally.latencies[kind].append(seconds)
            if answer.status in (200, 201):
                return answer
            if answer.status not in RETRY_STATUSES:
                raise PhoneError(f"{kind}: {answer.status} {answer.body[:300]!r}")
            time.sleep(min(0.1 * 2**attempt, 2.0))
        raise PhoneError(f"{kind}: no answer after {MAX_ATTEMPTS} attempts")
