"""envdoctor/fixes.py and the `--fix` / `--diff` / `--unsafe-fixes` / `--digest-map` flags: edits, plans,
atomic writes that keep every other byte, diffs, the fix loop, exit codes, the text tally and SARIF fixes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from envdoctor.config import ConfigError
from envdoctor.findings import Finding, Severity
from envdoctor.fixes import (
    Edit, FileChange, FixError, apply_edits, changes, effective_safety, fix, insert, load_digest_map, newline_of,
    plan, replace_range, unified_diff, write,
)

DIGEST = "sha256:" + "3" * 64
BASE = f"FROM python:3.12-slim@{DIGEST}\n"
SARIF_SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


# --- edits ---------------------------------------------------------------------------------------------

def test_insert_and_replace_keep_everything_else():
    text = "one\ntwo words\nthree"
    edits = [insert("f", 2, 4, " more"), replace_range("f", 3, 1, 3, 6, "3"), insert("f", 1, 1, "# head\n")]
    assert apply_edits(text, edits) == "# head\none\ntwo more words\n3"


def test_new_text_takes_the_files_line_ending():
    assert apply_edits("a\r\nb\r\n", [insert("f", 2, 1, "x\ny\n")]) == "a\r\nx\r\ny\r\nb\r\n"
    assert apply_edits("a\nb\n", [insert("f", 2, 1, "x\r\ny\n")]) == "a\nx\ny\nb\n"
    # A column counts within the line, before its \r: inserting at the end of a CRLF line keeps the \r\n.
    assert apply_edits("RUN x\r\n", [insert("f", 1, 6, " --y")]) == "RUN x --y\r\n"


def test_newline_of_follows_the_majority():
    assert newline_of("a\r\nb\r\nc\n") == "\r\n"
    assert newline_of("a\nb\nc\r\n") == "\n"
    assert newline_of("no break") == "\n"


def test_insertions_at_one_place_keep_their_order():
    edits = [insert("f", 1, 2, "A"), insert("f", 1, 2, "B")]
    assert apply_edits("xy", edits) == "xABy"
    assert apply_edits("xy", list(reversed(edits))) == "xBAy"


def test_overlaps():
    span = replace_range("f", 1, 3, 1, 6, "")
    assert span.overlaps(replace_range("f", 1, 5, 1, 8, ""))
    assert span.overlaps(insert("f", 1, 3, "x"))  # at its start: ambiguous
    assert span.overlaps(insert("f", 1, 4, "x"))  # inside
    assert not span.overlaps(insert("f", 1, 6, "x"))  # at its end: after it
    assert not span.overlaps(replace_range("f", 1, 6, 1, 9, ""))  # adjacent
    assert not span.overlaps(replace_range("g", 1, 3, 1, 6, ""))  # another file
    assert not insert("f", 1, 1, "a").overlaps(insert("f", 1, 1, "b"))
    with pytest.raises(FixError):
        apply_edits("abcdefgh", [span, insert("f", 1, 4, "x")])


def test_out_of_range_edits_are_refused():
    with pytest.raises(FixError):
        apply_edits("one\n", [insert("f", 3, 1, "x")])
    with pytest.raises(FixError):
        apply_edits("one\n", [insert("f", 1, 6, "x")])
    assert apply_edits("one\n", [insert("f", 2, 1, "two\n")]) == "one\ntwo\n"  # the end of the file


# --- plans -----------------------------------------------------------------------------------------------

def _finding(code: str, line: int, edits: list[Edit], safety: str = "safe") -> Finding:
    return Finding(code, "rule", Severity.WARNING, "m", edits[0].path, line, fix=fix("t", *edits, safety=safety))


def test_plan_defers_overlapping_fixes_and_shares_identical_ones():
    first = _finding("ED1", 1, [replace_range("f", 1, 1, 1, 4, "x")])
    overlapping = _finding("ED2", 1, [insert("f", 1, 2, "y")])
    same = _finding("ED3", 2, [replace_range("f", 1, 1, 1, 4, "x")])
    unsafe = _finding("ED4", 3, [insert("f", 3, 1, "z")], safety="unsafe")
    chosen = plan([first, overlapping, same, unsafe], unsafe=False)
    assert [f.code for f in chosen.fixed] == ["ED1", "ED3"]
    assert [f.code for f in chosen.deferred] == ["ED2"]
    assert len(chosen.fixes) == 1
    assert [f.code for f in plan([unsafe], unsafe=True).fixed] == ["ED4"]


def test_effective_safety():
    assert effective_safety(None, "safe") == "safe"
    assert effective_safety("unsafe", "safe") == "unsafe"
    assert effective_safety("safe", "unsafe") == "unsafe"
    assert effective_safety(None, None) == "unsafe"  # a plugin rule that declares nothing


# --- files ---------------------------------------------------------------------------------------------

def test_write_keeps_the_bom_and_permission_bits(tmp_path):
    path = tmp_path / "run.sh"
    path.write_bytes(b"\xef\xbb\xbfecho one\r\n")
    os.chmod(path, 0o750)
    (change,), problems = changes(tmp_path, [fix("t", insert("run.sh", 1, 9, " two"))])
    assert not problems and change.bom
    write(tmp_path, change)
    assert path.read_bytes() == b"\xef\xbb\xbfecho one two\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["run.sh"]  # no temporary file left behind


def test_a_new_file_is_created(tmp_path):
    (change,), _ = changes(tmp_path, [fix("t", insert(".dockerignore", 1, 1, ".venv\n"))])
    assert change.before is None
    write(tmp_path, change)
    assert (tmp_path / ".dockerignore").read_bytes() == b".venv\n"


@pytest.mark.parametrize("rel", ["../outside", "/etc/passwd", "a/../../b", "missing/folder/file", "sub\\x"])
def test_paths_outside_the_root_or_without_a_folder_are_refused(tmp_path, rel):
    root = tmp_path / "root"
    root.mkdir()
    file_changes, problems = changes(root, [fix("t", insert(rel, 1, 1, "x"))])
    assert not file_changes and list(problems) == [rel]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]


def test_links_are_never_written_through(tmp_path):
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "Dockerfile").write_text("FROM x\n")
    (root / "Dockerfile").symlink_to(root / "real" / "Dockerfile")
    (root / "linked").symlink_to(tmp_path)
    for rel in ("Dockerfile", "linked/Dockerfile"):
        file_changes, problems = changes(root, [fix("t", insert(rel, 1, 1, "# x\n"))])
        assert not file_changes and "link" in problems[rel]
    assert (root / "real" / "Dockerfile").read_text() == "FROM x\n"
    assert not (tmp_path / "Dockerfile").exists()


def test_unified_diff_for_a_new_file_and_a_missing_final_newline():
    created = unified_diff(FileChange(".dockerignore", None, ".venv\n"))
    assert created == "--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1 @@\n+.venv\n"
    edited = unified_diff(FileChange("Dockerfile", "FROM x\nRUN a", "FROM x\nRUN a --b"))
    assert edited == ("--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,2 @@\n FROM x\n-RUN a\n"
                      "\\ No newline at end of file\n+RUN a --b\n\\ No newline at end of file\n")


def test_the_diff_applies_with_git(repo):
    repo.write("Dockerfile", BASE + "# comment\nRUN pip install \\\n    flask==3.0.3\n")
    repo.init_git()
    diff = run_cli("check", str(repo.root), "--diff").stdout
    subprocess.run(["git", "-C", str(repo.root), "apply", "--check", "-"], input=diff, text=True, check=True)


# --- the digest map ------------------------------------------------------------------------------------

def test_digest_map_formats_and_errors(tmp_path):
    good = "sha256:" + "a" * 64
    (tmp_path / "m.toml").write_text(f'"python:3.12-slim" = "{good}"\n')
    (tmp_path / "m.json").write_text(json.dumps({"python:3.12-slim": good.upper().replace("SHA256", "sha256")}))
    assert load_digest_map(tmp_path / "m.toml") == {"python:3.12-slim": good}
    assert load_digest_map(tmp_path / "m.json") == {"python:3.12-slim": good}
    for name, text in (("short.toml", '"python:3.12" = "sha256:abc"\n'), ("md5.toml", f'"p:1" = "md5:{"a" * 64}"\n'),
                       ("list.json", "[1, 2]"), ("broken.toml", "= = ="), ("digest.toml", f'"p@{good}" = "{good}"\n')):
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError):
            load_digest_map(tmp_path / name)
    with pytest.raises(ConfigError):
        load_digest_map(tmp_path / "absent.toml")


def test_bad_digest_map_is_exit_2(repo):
    repo.write("Dockerfile", "FROM python:3.12-slim\n")
    repo.write("m.toml", '"python:3.12-slim" = "latest"\n')
    result = repo.check("--digest-map", str(repo.root / "m.toml"))
    assert result.exit_code == 2
    assert "must map to 'sha256:'" in result.stderr


# --- the command line ----------------------------------------------------------------------------------

MIXED = (BASE + "WORKDIR /app\nRUN pip install flask==3.0.3\nRUN pip install gunicorn\n"
         "COPY pyproject.toml uv.lock ./\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n")


def _mixed(repo):
    """Two safe fixes (ED104), one unsafe (ED105: uv sync --no-editable before the source is copied), and
    a finding without a fix (ED107: no uv version is known, and gunicorn is not uv anyway)."""
    repo.write("Dockerfile", MIXED)
    repo.write("pyproject.toml", '[project]\nname = "a"\nversion = "1"\nrequires-python = ">=3.11"\n'
                                 'dependencies = []\n\n[build-system]\nrequires = ["hatchling"]\n'
                                 'build-backend = "hatchling.build"\n')
    repo.write("uv.lock", 'version = 1\nrequires-python = ">=3.11"\n')
    repo.init_git()


def test_text_marks_fixable_findings_and_sums_them_up(repo):
    _mixed(repo)
    out = repo.check("--select", "ED104,ED105,ED107").stdout
    assert "  3:1    warning ED104 [*] package-cache-in-layer  'pip install flask==3.0.3'" in out
    assert "  4:1    warning ED107 unpinned-package-install" in out  # no fix
    assert "  6:1    error   ED105 editable-install-in-image" in out  # unsafe: not marked
    assert out.splitlines()[-1] == ("Found 4 problems (1 error, 3 warnings) in 1 file. 2 fixable with --fix "
                                    "(1 more with --unsafe-fixes).")
    concise = repo.check("--select", "ED104", "--format", "concise").stdout
    assert concise.splitlines()[-1] == "Found 2 problems (2 warnings) in 1 file. 2 fixable with --fix."
    unsafe = repo.check("--select", "ED105", "--unsafe-fixes").stdout
    assert " ED105 [*] " in unsafe and unsafe.splitlines()[-1].endswith(" 1 fixable with --fix.")


def test_fix_reports_what_remains_and_exits_on_it(repo):
    _mixed(repo)
    result = repo.check("--fix", "--select", "ED104,ED105,ED107")
    assert result.exit_code == 1  # the remaining ED105 (unsafe) and ED107 decide
    assert result.stdout.splitlines()[-1] == "Fixed 2 problems; 2 remain (1 error, 1 warning) in 1 file. " \
                                             "1 fixable with --fix --unsafe-fixes."
    assert (repo.root / "Dockerfile").read_text() == MIXED.replace("pip install f", "pip install --no-cache-dir f") \
        .replace("pip install g", "pip install --no-cache-dir g")
    result = repo.check("--fix", "--unsafe-fixes", "--select", "ED104,ED105")
    assert result.exit_code == 0
    assert result.stdout == "Fixed 1 problem; none remain.\n"
    assert repo.check("--fix", "--select", "ED104,ED105").stdout.startswith("All clear")


def test_exit_zero_and_quiet_with_fix(repo):
    _mixed(repo)
    result = repo.check("--fix", "--quiet", "--exit-zero", "--select", "ED104,ED107")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert "--no-cache-dir flask" in (repo.root / "Dockerfile").read_text()


def test_fix_with_a_data_format_tallies_on_stderr(repo):
    _mixed(repo)
    result = repo.check("--fix", "--format", "json", "--select", "ED104")
    assert json.loads(result.stdout)["findings"] == []
    assert result.stderr == "Fixed 2 problems; none remain.\n"


def test_diff_writes_nothing_and_exits_1_only_when_there_is_a_fix(repo):
    _mixed(repo)
    before = (repo.root / "Dockerfile").read_bytes()
    result = repo.check("--diff", "--select", "ED104,ED105,ED107")
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")
    assert result.stderr == "Would fix 2 problems in 1 file (1 more with --unsafe-fixes).\n"
    assert (repo.root / "Dockerfile").read_bytes() == before
    quiet = repo.check("--diff", "--select", "ED107")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "No fixes available.\n")


def test_diff_to_an_output_file_is_the_patch_and_nothing_else(repo, tmp_path):
    repo.write("Dockerfile", (BASE + "RUN pip install flask==3.0.3\n").replace("\n", "\r\n"))
    repo.init_git()
    patch = tmp_path / "fixes.patch"
    result = repo.check("--diff", "-o", str(patch))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Would fix 1 problem in 1 file.\n"
    written = patch.read_bytes()
    assert written.startswith(b"--- a/Dockerfile\n") and b"--no-cache-dir flask==3.0.3\r\n" in written
    subprocess.run(["git", "-C", str(repo.root), "apply", "--check", str(patch)], check=True)


def test_diff_wins_over_fix(repo):
    _mixed(repo)
    before = (repo.root / "Dockerfile").read_bytes()
    result = repo.check("--fix", "--diff", "--select", "ED104")
    assert result.exit_code == 1 and result.stdout.startswith("--- a/Dockerfile")
    assert (repo.root / "Dockerfile").read_bytes() == before


def test_diff_bytes_of_a_crlf_file(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_bytes((BASE + "RUN pip install flask==3.0.3\n").replace("\n", "\r\n").encode())
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    done = subprocess.run([sys.executable, "-m", "envdoctor", "check", str(root), "--diff"], capture_output=True,
                          timeout=60)
    assert done.stdout == (b"--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,2 @@\n "
                           + BASE.encode().replace(b"\n", b"\r\n")
                           + b"-RUN pip install flask==3.0.3\r\n+RUN pip install --no-cache-dir flask==3.0.3\r\n")


def test_overlapping_fixes_converge_over_passes(repo):
    # ED103's pip fix moves the RUN (deleting its lines); ED104's fix inserts into it: the second waits
    # for the next pass, where it applies to the moved RUN.
    dockerfile = BASE + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    repo.write("Dockerfile", dockerfile)
    repo.write("requirements.txt", "flask==3.0.3\n")
    repo.init_git()
    result = repo.check("--fix", "--unsafe-fixes")
    assert result.stdout == "Fixed 2 problems; none remain.\n"
    assert (repo.root / "Dockerfile").read_text() == (
        BASE + "WORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n")


def test_suppressed_and_ignored_findings_are_not_fixed(repo):
    dockerfile = BASE + "# envdoctor: ignore[ED104] -- cache wanted\nRUN pip install flask==3.0.3\n"
    repo.write("Dockerfile", dockerfile)
    repo.write("sub/Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    repo.write("envdoctor.toml", 'per-file-ignores = { "sub/**" = ["ED104"] }\n')
    repo.init_git()
    result = repo.check("--fix", "--unsafe-fixes")
    assert result.exit_code == 0 and "Fixed" not in result.stdout
    assert (repo.root / "Dockerfile").read_text() == dockerfile
    assert (repo.root / "sub/Dockerfile").read_text() == BASE + "RUN pip install flask==3.0.3\n"


def test_a_file_that_cannot_be_written_is_reported_not_fixed(repo):
    repo.write("real/Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    (repo.root / "Dockerfile").symlink_to(repo.root / "real" / "Dockerfile")
    repo.init_git()
    result = repo.check("--fix", "--select", "ED104")
    assert "envdoctor: warning: not fixed: Dockerfile: a symbolic link is on the way" in result.stderr
    # The file behind the link is fixed as itself; the link is left alone (and then has nothing to fix).
    assert result.stdout.splitlines()[-1] == "Fixed 1 problem; none remain."
    assert (repo.root / "real/Dockerfile").read_text().count("--no-cache-dir") == 1


def test_sarif_carries_the_fix(repo):
    repo.write("Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    repo.write(".venv/pyvenv.cfg", "home = /usr/bin\n")
    repo.write(".gitignore", ".venv/\n")
    repo.write("pyproject.toml", '[project]\nname = "a"\nversion = "1"\nrequires-python = ">=3.11"\n')
    repo.write("Dockerfile", BASE + "COPY . /app\nRUN pip install flask==3.0.3\n")
    repo.init_git()
    text = repo.check("--format", "sarif", "--select", "ED104,ED109").stdout
    log = json.loads(text)
    if SARIF_SCHEMA.is_file():
        import jsonschema

        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["ED104"]["fixes"] == [{
        "description": {"text": "Add --no-cache-dir (safe fix: envdoctor check --fix)"},
        "artifactChanges": [{
            "artifactLocation": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"},
            "replacements": [{"deletedRegion": {"startLine": 3, "startColumn": 16, "endLine": 3, "endColumn": 16},
                              "insertedContent": {"text": " --no-cache-dir"}}],
        }],
    }]
    change = results["ED109"]["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == ".dockerignore"
    assert change["replacements"][0]["insertedContent"]["text"].startswith("# local environments and caches")
    without = json.loads(repo.check("--format", "sarif", "--select", "ED107").stdout)
    assert all("fixes" not in r for r in without["runs"][0]["results"])


# --- what --fix writes, and what it refuses ------------------------------------------------------------

def test_a_read_only_file_is_not_rewritten(repo, monkeypatch):
    # A user who made a file read-only does not get it replaced through the folder's permission. (The
    # suite may run as root, for whom every file is writable: os.access stands for the permission check.)
    repo.write("Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    repo.write("api/Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    repo.init_git()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if str(path).endswith("repo/Dockerfile") and mode == os.W_OK else real_access(path, mode, **kw)))
    result = repo.check("--fix", "--select", "ED104")
    assert (repo.root / "Dockerfile").read_text() == BASE + "RUN pip install flask==3.0.3\n"
    assert "--no-cache-dir" in (repo.root / "api" / "Dockerfile").read_text()  # the other file is fixed
    # One note, although the fix loop meets the file in two passes.
    assert result.stderr.count("not fixed: Dockerfile: read-only") == 1


def test_a_file_with_another_hard_link_is_edited_in_place(repo):
    repo.write("Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    os.link(repo.root / "Dockerfile", repo.root / "linked.txt")
    inode = os.stat(repo.root / "Dockerfile").st_ino
    repo.init_git()
    repo.check("--fix", "--select", "ED104")
    assert os.stat(repo.root / "Dockerfile").st_ino == inode
    assert "--no-cache-dir" in (repo.root / "linked.txt").read_text()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a file away")
def test_a_root_run_keeps_the_owner_of_the_file(repo):
    repo.write("Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    os.chown(repo.root / "Dockerfile", 65534, 65534)
    repo.init_git()
    repo.check("--fix", "--select", "ED104")
    info = os.stat(repo.root / "Dockerfile")
    assert (info.st_uid, info.st_gid) == (65534, 65534)
    assert "--no-cache-dir" in (repo.root / "Dockerfile").read_text()


def test_a_new_file_still_gets_a_fresh_inode_and_an_ordinary_file_is_replaced_atomically(repo):
    """Near-miss of the two above: a file of one's own with one link is replaced (a new inode)."""
    repo.write("Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    inode = os.stat(repo.root / "Dockerfile").st_ino
    repo.init_git()
    repo.check("--fix", "--select", "ED104")
    assert os.stat(repo.root / "Dockerfile").st_ino != inode


@pytest.mark.parametrize("content", [
    "\ufeff" + (BASE + "RUN pip install flask==3.0.3\n").replace("\n", "\r\n"),  # BOM and CRLF
    "# build notes \u2028 and \x0c more\n" + BASE + "RUN pip install flask==3.0.3\n",  # not line breaks to git
], ids=["bom-crlf", "unicode-line-separators"])
def test_the_diff_of_odd_files_applies_with_git(repo, content):
    repo.write("Dockerfile", content.encode("utf-8"))
    repo.init_git()
    done = subprocess.run([sys.executable, "-m", "envdoctor", "check", str(repo.root), "--diff", "--select", "ED104"],
                          capture_output=True, timeout=60)
    assert done.returncode == 1 and done.stdout
    subprocess.run(["git", "-C", str(repo.root), "apply", "-"], input=done.stdout, check=True)
    fixed = (repo.root / "Dockerfile").read_bytes()
    assert fixed == content.replace("pip install", "pip install --no-cache-dir").encode("utf-8")


def test_the_diff_of_a_sub_project_with_its_own_config_applies_from_the_top(repo):
    repo.write("services/api/envdoctor.toml", 'select = ["ED104"]\n')
    repo.write("services/api/Dockerfile", BASE + "RUN pip install flask==3.0.3\n")
    repo.init_git()
    diff = run_cli("check", str(repo.root / "services" / "api"), "--diff").stdout
    assert diff.startswith("--- a/services/api/Dockerfile\n+++ b/services/api/Dockerfile\n")
    subprocess.run(["git", "-C", str(repo.root), "apply", "--check", "-"], input=diff, text=True, check=True)
