"""Erasure leaves the audit trail without a personal value but the NHS number (SPEC §3, §9).

Events are never changed, so a patient's changed details go into them sealed with a key of the
patient's, and erasure deletes the key: before erasure an auditor reads what changed and to what;
after it, which fields changed and nothing more — and no table holds the old values in any form.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.auth.conftest import Keys
from tests.factories import nhs_number, patient_body

P = nhs_number(7)
SECRETS = ("Zebedee Quill", "quill.secret@example.org", "07700 900555", "+447700900555")


async def every_stored_text(engine: AsyncEngine) -> str:
    """Every value of every row of every table, as text (a crude dump of the whole database)."""
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        dump = []
        for name in names:
            for row in (await connection.execute(text(f'SELECT * FROM "{name}"'))).all():
                dump.extend(v.hex() if isinstance(v, bytes) else str(v) for v in row)
    return "\n".join(dump)


async def test_an_erased_patients_changed_details_cannot_be_read_from_the_trail(
    client: Any, keys: Keys, engine: AsyncEngine
) -> None:
    book, admin, auditor = keys.header("booking"), keys.header("admin"), keys.header("auditor")
    assert (await client.post("/patients", json=patient_body(P), headers=book)).status_code == 201
    changed = await client.patch(
        f"/patients/{P}", json={"name": SECRETS[0], "email": SECRETS[1], "phone": SECRETS[2]}, headers=book
    )
    assert changed.status_code == 200, changed.text
    assert (await client.patch(f"/patients/{P}", json={"name": "Plain Name"}, headers=book)).status_code == 200

    updates = (await client.get("/audit", params={"patient": P, "action": "update"}, headers=auditor)).json()
    older, newer = updates["items"][1]["changes"], updates["items"][0]["changes"]
    assert older["name"] == {"from": patient_body(P)["name"], "to": SECRETS[0]}
    assert older["email"]["to"] == SECRETS[1] and older["phone"]["to"] == SECRETS[3]
    assert newer == {"name": {"from": SECRETS[0], "to": "Plain Name"}}
    # The name changed away lives on only in the sealed events, not in clear anywhere.
    assert SECRETS[0] not in await every_stored_text(engine)

    assert (await client.delete(f"/patients/{P}", headers=admin)).status_code == 204

    updates = (await client.get("/audit", params={"patient": P, "action": "update"}, headers=auditor)).json()
    erased = {"from": None, "to": None, "erased": True}
    assert [e["changes"] for e in updates["items"]] == [
        {"name": erased},
        {"email": erased, "name": erased, "phone": erased},
    ]
    assert [e["patient"] for e in updates["items"]] == [P, P]  # the NHS number stays, and only it
    stored = await every_stored_text(engine)
    for value in (*SECRETS, "Plain Name", patient_body(P)["name"]):
        assert value not in stored


async def test_a_number_registered_again_after_erasure_does_not_unseal_the_old_events(client: Any, keys: Keys) -> None:
    book, auditor = keys.header("booking"), keys.header("auditor")
    await client.post("/patients", json=patient_body(P), headers=book)
    await client.patch(f"/patients/{P}", json={"name": SECRETS[0]}, headers=book)
    await client.delete(f"/patients/{P}", headers=keys.header("admin"))
    await client.post("/patients", json=patient_body(P), headers=book)
    await client.patch(f"/patients/{P}", json={"name": "Second Life"}, headers=book)

    updates = (await client.get("/audit", params={"patient": P, "action": "update"}, headers=auditor)).json()
    assert updates["items"][0]["changes"] == {"name": {"from": patient_body(P)["name"], "to": "Second Life"}}
    assert updates["items"][1]["changes"] == {"name": {"from": None, "to": None, "erased": True}}
