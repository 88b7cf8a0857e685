"""Phones' signatures on the server: a registered key, a report signed over its exact body, and
refusal (422, with the reason) of a report that differs from what the phone signed."""

from __future__ import annotations

import base64
import json
import runpy

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlalchemy import select

from fieldreport.ledger.models import DeviceSignature, LedgerLeaf
from fieldreport.ledger.verify import verify_all
from fieldreport.reports.models import Report
from tests.helpers import api_token, post_report, report_body

VERIFY_PACKAGE = runpy.run_path("tools/verify_package.py")["verify"]


class Phone:
    """What device-key.js does with WebCrypto: a P-256 key; signatures as r || s, base64."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.spki = base64.b64encode(der).decode()
        self.key_id = ""

    def register(self, client) -> object:
        response = client.post(
            "/api/v1/devices",
            json={"algorithm": "ECDSA-P256", "public_key_spki": self.spki},
            headers={"X-CSRFToken": api_token(client)},
        )
        self.key_id = (response.get_json() or {}).get("key_id", "")
        return response

    def sign(self, body: dict, photos: list[str] | None = None) -> dict:
        signed_body = json.dumps(
            {"photos": photos or [], "report": body}, sort_keys=True, separators=(",", ":")
        )
        der = self.key.sign(signed_body.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return {
            **body,
            "device_key_id": self.key_id,
            "device_signature": base64.b64encode(raw).decode(),
            "signed_body": signed_body,
        }


def _leaf_device(runtime, client_id: str):
    with runtime.db.session_scope(write=False) as s:
        leaf = s.scalar(select(LedgerLeaf).where(LedgerLeaf.data.contains(client_id)))
        return json.loads(leaf.data)["device"]


def test_a_registered_phone_signs_a_report_and_the_signature_is_logged(
    runtime, client_for, tmp_path, capsys
):
    client, phone = client_for("obs1"), Phone()
    assert phone.register(client).status_code == 201
    assert phone.register(client).status_code == 200
    body = report_body()
    response = post_report(client, phone.sign(body))
    assert response.status_code == 201, response.get_json()
    device = _leaf_device(runtime, body["client_id"])
    assert device["key_id"] == phone.key_id and device["signature"]
    with runtime.db.session_scope(write=False) as s:
        assert s.scalar(select(DeviceSignature)).device_key_id == phone.key_id
        assert verify_all(s, runtime.storage, runtime.settings.data_dir).problems == []
    package = tmp_path / "package.zip"
    package.write_bytes(client_for("coord").get(f"/reports/{body['client_id']}/evidence.zip").data)
    assert VERIFY_PACKAGE(str(package)) == 0
    assert "the phone's signature checks" in capsys.readouterr().out


def test_a_report_that_differs_from_what_the_phone_signed_is_refused(runtime, client_for):
    client, phone = client_for("obs1"), Phone()
    phone.register(client)
    signed = phone.sign(report_body(narrative="Two bursts."))
    altered = {**signed, "narrative": "Twenty bursts."}
    response = post_report(client, altered)
    assert response.status_code == 422
    assert (
        "differs from what the phone signed" in response.get_json()["errors"]["device_signature"][0]
    )
    forged = {**signed, "device_signature": base64.b64encode(b"\x01" * 64).decode()}
    response = post_report(client, forged)
    assert response.status_code == 422
    assert "signature does not match" in response.get_json()["errors"]["device_signature"][0]
    with runtime.db.session_scope(write=False) as s:
        assert s.scalar(select(Report)) is None


def test_another_observers_key_cannot_sign_and_no_signature_is_kept_unsigned(runtime, client_for):
    phone = Phone()
    phone.register(client_for("obs2"))
    response = post_report(client_for("obs1"), phone.sign(report_body()))
    assert response.status_code == 422
    assert "not registered to your account" in str(response.get_json())
    body = report_body()
    assert post_report(client_for("obs1"), body).status_code == 201
    assert _leaf_device(runtime, body["client_id"]) is None


def test_a_key_that_is_not_p256_spki_is_refused(client_for):
    client = client_for("obs1")
    response = client.post(
        "/api/v1/devices",
        json={"algorithm": "ECDSA-P256", "public_key_spki": "bm90IGEga2V5"},
        headers={"X-CSRFToken": api_token(client)},
    )
    assert response.status_code == 422
    assert "public_key_spki" in response.get_json()["errors"]


def test_a_photo_the_phone_did_not_sign_is_named_by_verify(runtime, client_for, corpus):
    from fieldreport.photos.models import Photo
    from tests.helpers import upload_photo

    client, phone = client_for("obs1"), Phone()
    phone.register(client)
    body = report_body()
    assert post_report(client, phone.sign(body, photos=["0" * 64])).status_code == 201
    assert (
        upload_photo(client, body["client_id"], corpus / "accept" / "Canon_40D.jpg").status_code
        == 201
    )
    with runtime.db.session_scope(write=False) as s:
        problems = verify_all(s, runtime.storage, runtime.settings.data_dir).problems
        photo_id = s.scalar(select(Photo.id))
    assert problems == [
        f"Photo {photo_id} of report {body['client_id']} is not one its phone signed."
    ]
