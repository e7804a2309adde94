"""bench.api_versus: the side-by-side table and how an earlier build is started (no servers run)."""

from __future__ import annotations

from pathlib import Path

from bench.api import SCENARIOS
from bench.api_versus import LABELS, api_argv, table
from bench.harness import WrkResult


def test_table_has_one_row_per_scenario_with_the_ratios() -> None:
    rates = {"baseline": 2000.0, "current": 1500.0, "ceiling": 0.0}
    best = {(name, label): WrkResult(rates[label], 1.0, 9.5, 1) for name, *_ in SCENARIOS for label in LABELS}
    best[(SCENARIOS[0][0], "ceiling")] = WrkResult(4000.0, 1.0, 2.0, 0)
    lines = table(best)
    assert len(lines) == 2 + len(SCENARIOS)
    cells = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert cells == [SCENARIOS[0][0], "2,000", "1,500", "4,000", "50%", "38%", "75%", "9.5 / 9.5 / 2.0", "1 / 1 / 0"]
    # A ceiling that served nothing gives no ratio rather than a division by zero.
    assert lines[3].split("|")[5].strip() == "—"


def test_an_earlier_build_without_panda_api_is_served_by_uvicorn_on_its_factory(tmp_path: Path) -> None:
    (tmp_path / "panda").mkdir()
    assert api_argv(tmp_path, "py", 8001)[:4] == ["py", "-m", "uvicorn", "--factory"]
    (tmp_path / "panda" / "cli.py").write_text("def api() -> None: ...\n")
    assert api_argv(tmp_path, "py", 8001) == ["py", "-m", "panda.cli", "api"]
