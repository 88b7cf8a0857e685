"""The mutation test: change one byte anywhere (a report row, a version, a photo file, a digest
file, a signature, a leaf's entry or order) and ``fieldreport verify`` names it; the unchanged
evidence verifies clean. Also the command itself: exit status 1 and the first mismatch in words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from fieldreport.ledger.models import LedgerLeaf, TreeHead
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors.models import Sector
from fieldreport.storage import original_key
from tests.helpers import square
from tests.test_ledger import _verify, _world


def _flip(data: bytes, at: int = -10) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def _mutate_row(model, column: str, change: Callable) -> Callable:
    def mutate(runtime) -> None:
        with runtime.db.session_scope() as s:
            row = s.scalars(select(model)).first()
            setattr(row, column, change(getattr(row, column)))

    return mutate


def _mutate_file(key_of: Callable) -> Callable:
    def mutate(runtime) -> None:
        with runtime.db.session_scope(write=False) as s:
            key = key_of(s)
        runtime.storage.put(key, _flip(runtime.storage.get(key)))

    return mutate


def _digest_file(name: str) -> Callable:
    def key_of(s) -> str:
        from fieldreport.digests.models import Digest

        return s.scalar(select(Digest.html_key)).rsplit("/", 1)[0] + "/" + name

    return key_of


def _swap_leaves(runtime) -> None:
    """Two leaves change places (each still consistent with its own hash)."""
    with runtime.db.session_scope() as s:
        a, b = s.scalars(select(LedgerLeaf).where(LedgerLeaf.leaf_index.in_([1, 4])))
        a_values, b_values = (
            (a.data, a.leaf_hash, a.kind, a.subject_id),
            (b.data, b.leaf_hash, b.kind, b.subject_id),
        )
        for index, values in ((1, b_values), (4, a_values)):
            s.execute(
                update(LedgerLeaf)
                .where(LedgerLeaf.leaf_index == index)
                .values(data=values[0], leaf_hash=values[1], kind=values[2], subject_id=values[3])
            )


def _text_flip(text: str) -> str:
    return text[:-2] + chr(ord(text[-2]) ^ 1) + text[-1]


def _hex_flip(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def _photo_key(s) -> str:
    return original_key(s.scalar(select(Photo.sha256)))


MUTATIONS = {
    "report row": (_mutate_row(Report, "narrative", lambda v: v + "!"), "row differs"),
    "report version": (_mutate_row(ReportVersion, "content", _text_flip), "version 1"),
    "photo file": (_mutate_file(_photo_key), "file was changed"),
    "photo row": (_mutate_row(Photo, "byte_size", lambda v: v + 1), "Photo"),
    "review decision": (_mutate_row(ReviewEvent, "comment", lambda v: v + "."), "Review event"),
    "sector line": (_mutate_row(Sector, "geometry", lambda v: square(11.86, 43.47)), "Sector S-01"),
    "digest PDF": (_mutate_file(_digest_file("digest.pdf")), "digest.pdf was changed"),
    "digest CSV": (_mutate_file(_digest_file("reports.csv")), "reports.csv was changed"),
    "digest manifest": (_mutate_file(_digest_file("manifest.json")), "manifest's signature"),
    "head signature": (_mutate_row(TreeHead, "signature", _hex_flip), "does not check"),
    "head root": (_mutate_row(TreeHead, "root_hash", _hex_flip), "does not check"),
    "leaf entry": (
        _mutate_row(LedgerLeaf, "data", lambda v: v.replace('"kind"', '"kind" ')),
        "hash does not match",
    ),
    "leaf order": (_swap_leaves, "reordered"),
}


def test_unchanged_evidence_verifies_clean(runtime, users, corpus):
    _world(runtime, users, corpus)
    assert _verify(runtime) == []


@pytest.mark.parametrize("what", sorted(MUTATIONS))
def test_one_changed_byte_anywhere_is_named_by_verify(runtime, users, corpus, what):
    _world(runtime, users, corpus)
    mutate, words = MUTATIONS[what]
    mutate(runtime)
    problems = _verify(runtime)
    assert problems, f"{what}: verify found nothing"
    assert words in problems[0], problems


def test_the_verify_command_exits_1_and_names_the_first_mismatch(runtime, users, corpus, tmp_path):
    from click.testing import CliRunner

    from fieldreport.cli import main

    _world(runtime, users, corpus)
    env = {
        "FIELDREPORT_DATA_DIR": str(runtime.settings.data_dir),
        "DATABASE_URL": runtime.settings.database_url,
        "FIELDREPORT_TIME_ZONE": "Europe/Rome",
    }
    clean = CliRunner().invoke(main, ["verify"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "3 report versions" in clean.output and "1 photos" in clean.output
    _mutate_row(ReportVersion, "content", _text_flip)(runtime)
    changed = CliRunner().invoke(main, ["verify"], env=env)
    assert changed.exit_code == 1
    assert "First mismatch: Report" in changed.output and "version 1" in changed.output
