"""The layering lint of the Rust core (scripts/check_layers.py): the repository passes it, and an
upward import injected into a copy of the core fails it, named by file and line."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_layers.py"
SRC = ROOT / "crates" / "sagepipe-core" / "src"


def run_lint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_the_core_imports_only_downward():
    result = run_lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "layers ok" in result.stdout


@pytest.fixture
def core_copy(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy)
    return copy


def inject(path: Path, line: str) -> int:
    """Put `line` after the file's first `use` line; returns its line number."""
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if text.startswith("use ")) + 1
    lines.insert(at, line + "\n")
    path.write_text("".join(lines))
    return at + 1


@pytest.mark.parametrize(
    ("file", "line", "used"),
    [
        ("store/records.rs", "use crate::engine::Host;", "engine"),
        ("store/records.rs", "use crate::{util, selection::Plan};", "selection"),
        ("validate.rs", "use super::executors::StepKind;", "executors"),
        ("executors/job.rs", "use super::super::engine::RunConfig;", "engine"),
        ("store/records.rs", "use crate\n    ::engine::Host;", "engine"),
        ("store/records.rs", "macro_rules! host { () => { $crate::engine::Host }; }", "engine"),
    ],
)
def test_an_upward_import_fails_naming_file_line_and_rule(core_copy, file, line, used):
    number = inject(core_copy / file, line)
    result = run_lint(str(core_copy))
    assert result.returncode == 1, result.stdout
    user = file.split("/")[0].removesuffix(".rs")
    reported = [v for v in result.stdout.splitlines() if v.startswith(f"{core_copy / file}:{number}: ")]
    assert len(reported) == 1, result.stdout
    assert f"'{user}'" in reported[0] and f"uses '{used}'" in reported[0], reported[0]
    assert len(result.stdout.splitlines()) == 1, "only the injected import is a violation"


def test_downward_and_same_module_paths_comments_and_strings_pass(core_copy):
    path = core_copy / "engine" / "mod.rs"
    inject(path, "use crate::{store, validate::CompiledPipeline};")
    inject(path, '// use crate::engine from below would be: "use crate::engine" (not code)')
    records = core_copy / "store" / "records.rs"
    inject(records, 'const HINT: &str = "crate::engine::Host is above the store";')
    inject(records, "use super::files; // crate::selection in a comment")
    result = run_lint(str(core_copy))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("use crate::*;", "imports the crate root with a glob"),
        ("use super::super::*;", "imports the crate root with a glob"),
        ("use crate as root;", "renames the crate root"),
        ("use crate::{self as root};", "renames the crate root"),
    ],
)
def test_a_glob_or_alias_of_the_crate_root_fails(core_copy, line, says):
    number = inject(core_copy / "store" / "records.rs", line)
    result = run_lint(str(core_copy))
    assert result.returncode == 1, result.stdout
    assert f"{core_copy / 'store' / 'records.rs'}:{number}: 'store' {says}" in result.stdout, result.stdout


def test_a_module_in_no_layer_is_reported(core_copy):
    (core_copy / "newthing.rs").write_text("use crate::util;\n")
    result = run_lint(str(core_copy))
    assert result.returncode == 1
    assert "module 'newthing' is in no layer" in result.stdout
