"""``.vaultmap.toml``: one schema for keys, types, defaults and docs; typos and bad values are
told in one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import msgspec
import pytest

from vaultmap.config import (
    NOTION_PROPERTY_DEFAULTS,
    SCHEMA,
    ConfigFinding,
    NotionSettings,
    ReportSettings,
    Settings,
    VaultSettings,
    check_config,
    default_config_text,
    default_of,
    load_settings,
)
from vaultmap.errors import ConfigError

TEMPLATE = Path(__file__).resolve().parent.parent / "vault-template" / ".vaultmap.toml"


def _vault(tmp_path: Path, config: str) -> Path:
    (tmp_path / ".vaultmap.toml").write_text(config, encoding="utf-8")
    (tmp_path / "note.md").write_text("# Plan\n\n- [ ] one\n- [x] two\n", encoding="utf-8")
    return tmp_path


def _run(*args: str, cwd: Path,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaultmap.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------- one source of truth


def test_the_template_is_the_generated_default_file() -> None:
    assert TEMPLATE.read_text(encoding="utf-8") == default_config_text(), (
        "regenerate vault-template/.vaultmap.toml from vaultmap.config.default_config_text()")


def test_the_template_documents_every_key_with_its_default() -> None:
    document = tomllib.loads(TEMPLATE.read_text(encoding="utf-8"))
    text = TEMPLATE.read_text(encoding="utf-8")
    for option in SCHEMA:
        table: object = document
        for part in option.table.split("."):
            assert isinstance(table, dict)
            table = table[part]
        assert isinstance(table, dict)
        assert option.key in table, f"[{option.table}] {option.key} missing from the template"
        default = option.default
        written = table[option.key]
        assert (tuple(written) if isinstance(written, list) else written) == default
        assert option.doc.splitlines()[0] in text, f"{option.key}: its doc is not in the template"


def test_the_settings_defaults_come_from_the_schema() -> None:
    for cls, table in ((NotionSettings, "notion"), (ReportSettings, "report"),
                       (VaultSettings, "vault")):
        for f in msgspec.structs.fields(cls):
            if f.name in ("properties", "max_note_bytes", "flavor"):
                continue
            assert f.default == default_of(table, f.name), f"{table}.{f.name}"
    assert VaultSettings().max_note_bytes == default_of("vault", "max_note_mb") * 1024 * 1024
    assert VaultSettings().flavor.value == default_of("vault", "flavor")
    assert dict(NotionSettings().properties) == dict(NOTION_PROPERTY_DEFAULTS)


def test_one_notion_settings_type_serves_the_http_adapter() -> None:
    from vaultmap.sync.notion import NotionOptions

    assert NotionOptions is NotionSettings


def test_init_config_only_writes_the_generated_defaults(tmp_path: Path) -> None:
    from vaultmap.cli.report_cmds import DEFAULT_CONFIG

    assert default_config_text() == DEFAULT_CONFIG
    assert load_settings(_vault(tmp_path, DEFAULT_CONFIG)) == Settings(root=tmp_path)


# ------------------------------------------------------------------------------- typos


@pytest.mark.parametrize(("config", "closest"), [
    ("[vault]\nmax_note_MB = 5\n", "max_note_mb"),
    ("[vault]\nflavour = 'gfm'\n", "flavor"),
    ("[report]\ndepht = 3\n", "depth"),
    ("[report]\ndeph = 3\n", "depth"),
    ("[notion]\ndatabse_id = 'x'\n", "database_id"),
    ("[vault]\ndepth = 3\n", "[report] depth"),
    ("[reprot]\ndepth = 3\n", "[report]"),
])
def test_a_misspelled_key_is_found_with_its_closest_valid_key(tmp_path: Path, config: str,
                                                             closest: str) -> None:
    findings = check_config(_vault(tmp_path, config))
    assert len(findings) == 1
    assert findings[0].kind in ("unknown_key", "unknown_table")
    assert findings[0].suggestion == closest
    assert not findings[0].is_error
    settings = load_settings(tmp_path)
    assert settings.warnings == (findings[0].message,)
    assert f"did you mean {closest}?" in findings[0].message


def test_the_cli_warns_once_per_typo_on_stderr(tmp_path: Path) -> None:
    vault = _vault(tmp_path, "[vault]\nflavour = 'gfm'\n[report]\ndepht = 3\n")
    result = _run("report", "--no-index", cwd=vault)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line for line in lines if "flavour" in line] == [
        "vaultmap: warning: .vaultmap.toml: [vault] unknown key 'flavour' ignored "
        "(did you mean flavor?)"]
    assert len([line for line in lines if "depht" in line]) == 1
    assert "flavour" not in result.stdout


# ---------------------------------------------------------------- wrong types and values


@pytest.mark.parametrize(("config", "fragment"), [
    ("[vault]\nextensions = [1, true]\n", "[vault] extensions must be an array of strings"),
    ("[vault]\nextensions = ['']\n", "[vault] extensions must be file name endings"),
    ("[report]\ndepth = -1\n", "[report] depth must be at least 0, not -1"),
    ("[report]\ndepth = 2.0\n", "[report] depth must be an integer"),
    ("[vault]\nmax_note_mb = inf\n", "[vault] max_note_mb must be a finite number"),
    ("[vault]\nmax_note_mb = nan\n", "[vault] max_note_mb must be a finite number"),
    ("[vault]\nmax_note_mb = 1e308\n", "[vault] max_note_mb must be at most"),
    ("[notion]\ntimeout = nan\n", "[notion] timeout must be a finite number"),
    ("[notion]\ntimeout = 1e308\n", "[notion] timeout must be at most"),
    ("[notion]\nguard_ratio = -inf\n", "[notion] guard_ratio must be a finite number"),
    ("[vault]\nexclude = ['!']\n", "[vault] exclude holds '!', which is not a .gitignore"),
    ("[vault]\nexclude = ['ok/', '\\']\n", "which is not a .gitignore pattern"),
    ("[vault]\nflavor = 'commonmark'\n", "[vault] flavor must be 'gfm' or 'obsidian'"),
    ("[notion]\nprefer = 'mine'\n", "[notion] prefer must be 'done' or 'vault' or 'notion'"),
    ("[notion.properties]\ndue = ''\n", "[notion.properties] due must name a property"),
    ("[statuses]\n'ab' = 'done'\n", "[statuses] key 'ab' must be one character"),
    ("[statuses]\n'?' = 'maybe'\n", "the type must be one of"),
    ("vault = 3\n", "[vault] must be a table"),
    ('[notion]\ninbox = "In\\u0000box.md"\n', "[notion] inbox must be a note path"),
])
def test_a_wrong_value_is_refused_naming_the_key(tmp_path: Path, config: str,
                                                 fragment: str) -> None:
    vault = _vault(tmp_path, config)
    with pytest.raises(ConfigError) as caught:
        load_settings(vault)
    assert fragment in str(caught.value)
    findings = check_config(vault / ".vaultmap.toml")
    assert [f.is_error for f in findings] == [True]
    assert fragment in findings[0].message


@pytest.mark.parametrize("config", [
    "[vault]\nmax_note_mb = inf\n",
    "[vault]\nmax_note_mb = 1e308\n",
    "[notion]\ntimeout = nan\n",
    "[vault]\nexclude = ['!']\n",
    "[vault]\nextensions = [1, true]\n",
    "[report]\ndepth = -1\n",
    "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
])
def test_the_cli_says_one_line_and_exits_3(tmp_path: Path, config: str) -> None:
    result = _run("report", "--no-index", cwd=_vault(tmp_path, config))
    assert result.returncode == 3, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("vaultmap: ")
    assert "Traceback" not in result.stderr


def test_check_config_reports_every_problem_as_data(tmp_path: Path) -> None:
    vault = _vault(tmp_path, "[vault]\nflavour = 'gfm'\nextensions = [1]\n"
                             "[report]\ndepth = -1\n[nope]\n")
    findings = check_config(vault)
    assert [(f.kind, f.table, f.key, f.suggestion) for f in findings] == [
        ("unknown_key", "vault", "flavour", "flavor"),
        ("wrong_type", "vault", "extensions", ""),
        ("bad_value", "report", "depth", ""),
        ("unknown_table", "nope", "", ""),
    ]
    assert all(isinstance(f, ConfigFinding) for f in findings)


def test_check_config_on_unreadable_and_absent_files(tmp_path: Path) -> None:
    assert check_config(tmp_path) == []
    (tmp_path / ".vaultmap.toml").write_text("[vault\n")
    [finding] = check_config(tmp_path)
    assert finding.kind == "unreadable" and finding.is_error
    assert check_config(TEMPLATE) == []


def test_good_values_are_read(tmp_path: Path) -> None:
    settings = load_settings(_vault(tmp_path, "[vault]\nextensions = ['md', '.txt']\n"
                                              "max_note_mb = 0.5\nexclude = ['Templates/']\n"
                                              "[report]\ndepth = 0\n[notion]\ntimeout = 5\n"
                                              "[notion.properties]\ndue = 'When'\n"))
    assert settings.vault.extensions == (".md", ".txt")
    assert settings.vault.max_note_bytes == 512 * 1024
    assert settings.vault.exclude == ("Templates/",)
    assert settings.report.depth == 0
    assert settings.notion.timeout == 5.0 and isinstance(settings.notion.timeout, float)
    assert settings.notion.properties["due"] == "When"
    assert settings.warnings == ()


def test_the_typed_choices_are_the_schema_choices() -> None:
    from typing import get_args

    from vaultmap.config import GitHubPrefer, GitPrefer, GitPull, Prefer

    for literal, (table, key) in ((Prefer, ("notion", "prefer")), (GitPull, ("git", "pull")),
                                  (GitPrefer, ("git", "prefer")),
                                  (GitHubPrefer, ("github", "prefer"))):
        option = next(o for o in SCHEMA if (o.table, o.key) == (table, key))
        assert set(get_args(literal)) == set(option.choices), key
