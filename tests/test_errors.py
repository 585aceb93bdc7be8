"""Every user-facing error and its exit code is defined once, in ``vaultmap.errors``, and the
README's list of exit codes is the one generated from it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import vaultmap
from vaultmap import errors
from vaultmap.errors import EXIT_CODES, VaultmapError, exit_codes_markdown

ROOT = Path(__file__).resolve().parent.parent


def _all_error_classes() -> list[type[VaultmapError]]:
    for module in pkgutil.walk_packages(vaultmap.__path__, "vaultmap."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: list[type[VaultmapError]] = []
    todo: list[type[VaultmapError]] = [VaultmapError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_the_readme_lists_exactly_the_generated_exit_codes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- exit-codes: start -->\n(.*?)<!-- exit-codes: end -->", readme,
                      re.DOTALL)
    assert block is not None, "README.md lost its exit-code markers"
    assert block.group(1) == exit_codes_markdown(), (
        "README.md's exit codes differ from vaultmap.errors.EXIT_CODES; paste:\n"
        + exit_codes_markdown())


def test_every_error_class_lives_in_errors_py_with_a_documented_code() -> None:
    classes = _all_error_classes()
    for cls in classes:
        if not cls.__module__.startswith("vaultmap"):
            continue  # test doubles (e.g. an injected remote failure) live in the tests
        assert cls.__module__ == "vaultmap.errors", f"{cls.__qualname__} is defined elsewhere"
        assert cls.exit_code in EXIT_CODES, f"{cls.__name__}: exit {cls.exit_code} undocumented"
        assert f":class:`{cls.__name__}`" in (errors.__doc__ or ""), cls.__name__


def test_every_documented_code_is_raised_by_some_class() -> None:
    codes = {cls.exit_code for cls in _all_error_classes()}
    # 2 is also click's usage error; every other code needs a class of its own.
    assert set(EXIT_CODES) - codes == set()
    for code in EXIT_CODES:
        assert re.search(rf"^{code}\s", errors.__doc__ or "", re.MULTILINE), code


def test_no_module_outside_errors_py_assigns_an_exit_code() -> None:
    offenders = [str(path.relative_to(ROOT))
                 for path in (ROOT / "src" / "vaultmap").rglob("*.py")
                 if path.name != "errors.py"
                 and re.search(r"^\s+exit_code\s*=", path.read_text(encoding="utf-8"),
                               re.MULTILINE)]
    assert offenders == []


def test_the_pre_assigned_codes() -> None:
    assert errors.GitStateError.exit_code == 17
    assert errors.GitRemoteError.exit_code == 18
    assert errors.GitConflictError.exit_code == 19
    assert errors.DaemonRunningError.exit_code == 20
    assert errors.NoteEncodingError.exit_code == 21
    assert len({cls.exit_code for cls in (errors.TaskMovedError, errors.NoteEncodingError)}) == 2


def test_a_line_the_note_encoding_cannot_hold_is_a_note_encoding_error(tmp_path: Path) -> None:
    import pytest

    from vaultmap.config import Settings
    from vaultmap.edit import append_tasks

    note = tmp_path / "Ancien.md"
    note.write_bytes("- [ ] Réserver la salle\n".encode("cp1252"))
    with pytest.raises(errors.NoteEncodingError) as caught:
        append_tasks(Settings(root=tmp_path), Path("Ancien.md"), ["- [ ] flèche → ici"])
    assert caught.value.exit_code == 21
    assert note.read_bytes() == "- [ ] Réserver la salle\n".encode("cp1252")
