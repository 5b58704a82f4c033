"""The house as documented: the README's layout table and the import-linter contracts cover the tree."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def top_level_packages() -> set[str]:
    """Top-level folders holding Python code (a package, or the test suite's namespace package)."""
    return {p.name for p in ROOT.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "__init__.py").exists()}


def readme_layout_rooms() -> set[str]:
    """The folders (`name/`) named in the folder column of the README's layout table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text.split("## Layout", 1)[1]
    rooms = set()
    for line in layout.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rooms.update(re.findall(r"`([A-Za-z_./]+)/`", line.split("|")[2]))
    return rooms


def linter() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config


def test_every_package_is_in_the_readme_layout_and_every_room_there_exists():
    rooms = readme_layout_rooms()
    assert top_level_packages() - {r.split("/")[0] for r in rooms} == set()
    assert sorted(r for r in rooms if not (ROOT / r).is_dir()) == []


def test_the_contracts_cover_every_top_level_package():
    roots = set(linter()["importlinter"]["root_packages"].split())
    assert top_level_packages() - roots == set()
    layered = " ".join(linter()["importlinter:contract:layers"]["layers"].split())
    for package in top_level_packages() - {"tests"}:
        assert re.search(rf"(^|[\s|:]){package}(\.|\s|$)", layered), f"{package} has no layer"


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_bytes()) < 15_000
