"""``panda import``: the operator's command runs the same job and reports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from panda.examples import example_rows


def panda(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'panda.sqlite'}",
        "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    argv = [sys.executable, "-m", "panda.cli", *args]
    return subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def test_panda_import_validates_then_imports_a_file(tmp_path: Path) -> None:
    source = tmp_path / "patients.json"
    source.write_text(json.dumps(example_rows("example_patients.json")), encoding="utf-8")
    assert panda(tmp_path, "migrate").returncode == 0

    checked = panda(tmp_path, "import", str(source), "--kind", "patients")
    stored = panda(tmp_path, "import", str(source), "--kind", "patients", "--mode", "import")
    again = panda(tmp_path, "import", str(source), "--kind", "patients", "--mode", "import")

    assert checked.returncode == 0, checked.stderr
    assert "succeeded: 100 of 100 rows; valid 100, invalid 0, duplicates 0, imported 0" in checked.stdout
    assert "imported 100" in stored.stdout
    assert "duplicates 100, imported 0" in again.stdout
    assert not any((tmp_path / "uploads").iterdir()), "uploads are deleted when their job ends"


def test_panda_import_lists_rejected_rows_without_their_values(tmp_path: Path) -> None:
    source = tmp_path / "patients.csv"
    source.write_text("nhs_number,name,date_of_birth,postcode\r\n9434765918,Ann Secret,1970-01-01,N6 2FA\r\n")
    assert panda(tmp_path, "migrate").returncode == 0

    result = panda(tmp_path, "import", str(source), "--kind", "patients")

    assert result.returncode == 0, result.stderr
    assert "row 1, nhs_number: nhs_number.checksum" in result.stdout
    assert "Ann Secret" not in result.stdout + result.stderr
    assert "9434765918" not in result.stdout + result.stderr


def test_panda_import_fails_on_a_file_it_cannot_read(tmp_path: Path) -> None:
    source = tmp_path / "patients.json"
    source.write_text('[{"nhs_number": ', encoding="utf-8")
    assert panda(tmp_path, "migrate").returncode == 0

    result = panda(tmp_path, "import", str(source), "--kind", "patients", "--mode", "import")

    assert result.returncode == 1
    assert "failed" in result.stdout and "file.json_malformed" in result.stdout
