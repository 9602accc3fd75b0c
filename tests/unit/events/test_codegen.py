"""The committed generated code matches proto/: regenerating gives identical files."""

from __future__ import annotations

from pathlib import Path

from ringrift.events.codegen import GEN_DIR, generate


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    generate(tmp_path / "gen")
    fresh, committed = _files(tmp_path / "gen"), _files(GEN_DIR)
    assert sorted(fresh) == sorted(committed), "run `make proto`: files added or removed"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"run `make proto`: stale generated files {stale}"


def test_generated_imports_stay_inside_the_gen_package() -> None:
    for name, text in _files(GEN_DIR).items():
        for line in text.splitlines():
            if line.startswith(("from ringrift.", "import ringrift.")):
                assert line.split()[1].startswith("ringrift.events.gen."), (name, line)
