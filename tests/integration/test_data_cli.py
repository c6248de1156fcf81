"""`cuisineflow data import|push|pull|status`: real DVC, a local store and the S3 endpoint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import (
    PROJECT,
    S3Endpoint,
    cli,
    commit_and_clone,
    git,
    make_recipes,
    write_kaggle_zip,
)

pytestmark = pytest.mark.integration


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_copies_bytes_unchanged_and_tracks_with_dvc(project: Path, tiny_zip: Path) -> None:
    test_json = tiny_zip.parent / "test.json"
    unlabelled = [{**r, "id": 5000 + i} for i, r in enumerate(make_recipes(7, 1, False))]
    test_json.write_text(json.dumps(unlabelled))
    # Kaggle's download holds this one too: a zipped CSV, not recipes.
    write_kaggle_zip(tiny_zip.parent / "sample_submission.csv.zip", [])
    result = cli("data", "import", str(tiny_zip.parent), cwd=project)
    assert "imported test.json: 7 recipes, 0 with cuisine" in result.stdout
    assert "imported train.json.zip: 40 recipes, 40 with cuisine" in result.stdout
    raw = project / "data" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == ["test.json", "train.json.zip"]
    assert digest(raw / "train.json.zip") == digest(tiny_zip)
    assert digest(raw / "test.json") == digest(test_json)
    assert "outs:" in (project / "data" / "raw.dvc").read_text()
    assert (project / "data" / ".gitignore").read_text().strip() == "/raw"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "train.json: the file is empty"),
        (b'[{"id": 1.5, "ingredients": ["salt"]}]', "record 1: field 'id'"),
        (b'[{"id": 1, "ingredients": [["salt"]]}]', "record 1: field 'ingredients.0'"),
        # Counted "with cuisine", then quarantined by validate as no known label.
        (b'[{"id": 1, "cuisine": " ", "ingredients": ["salt"]}]', "field 'cuisine': is blank"),
    ],
)
def test_bad_source_writes_nothing(
    project: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    source = tmp_path / "train.json"
    source.write_bytes(content)
    result = cli("data", "import", str(source), cwd=project, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "data").exists()


def test_missing_source_and_kaggle_without_credentials(project: Path, tmp_path: Path) -> None:
    missing = cli("data", "import", str(tmp_path / "nope.zip"), cwd=project, check=False)
    assert missing.returncode == 1
    assert f"{tmp_path / 'nope.zip'}: no such file or folder" in missing.stderr
    url = cli("data", "import", "s3://bucket/raw/train.json.zip", cwd=project, check=False)
    assert url.returncode == 1
    assert "s3://bucket/raw/train.json.zip: a URL cannot be imported" in url.stderr
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    kaggle = cli("data", "import", "kaggle:whats-cooking", cwd=project, env=env, check=False)
    assert kaggle.returncode == 1
    assert "download train.json.zip and test.json.zip by hand" in kaggle.stderr


def test_bad_file_keeps_earlier_import_intact(
    project: Path, tiny_zip: Path, tmp_path: Path
) -> None:
    cli("data", "import", str(tiny_zip), cwd=project)
    before = digest(project / "data" / "raw" / "train.json.zip")
    broken = tmp_path / "broken" / "train.json.zip"
    broken.parent.mkdir()
    broken.write_bytes(tiny_zip.read_bytes()[:100])
    result = cli("data", "import", str(broken), cwd=project, check=False)
    assert result.returncode == 1
    assert "not a valid zip archive" in result.stderr
    assert digest(project / "data" / "raw" / "train.json.zip") == before
    assert sorted(p.name for p in (project / "data" / "raw").iterdir()) == ["train.json.zip"]


def test_an_id_held_by_another_raw_file_is_refused(
    project: Path, tiny_zip: Path, tmp_path: Path
) -> None:
    # validate keeps the first of two recipes with one id, by file name: extra.json would
    # push train.json.zip's recipe 1003 into quarantine.
    cli("data", "import", str(tiny_zip), cwd=project)
    before = digest(project / "data" / "raw" / "train.json.zip")
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps([{"id": 1003, "ingredients": ["salt"]}, {"id": 7, "ingredients": ["rice"]}])
    )
    result = cli("data", "import", str(extra), cwd=project, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: extra.json and train.json.zip (in data/raw) both hold recipe id 1003: "
    )
    assert sorted(p.name for p in (project / "data" / "raw").iterdir()) == ["train.json.zip"]
    assert digest(project / "data" / "raw" / "train.json.zip") == before
    # Two new files sharing ids are refused alike, and the error counts what it leaves out.
    both = tmp_path / "both"
    both.mkdir()
    for name in ("a.json", "b.json"):
        (both / name).write_text(json.dumps([{"id": i, "ingredients": ["salt"]} for i in range(8)]))
    shared = cli("data", "import", str(both), cwd=project, check=False)
    assert "a.json and b.json both hold recipe ids 0, 1, 2, 3, 4 and 3 more" in shared.stderr
    # A file that replaces the raw file of its name may keep that file's ids.
    replacement = write_kaggle_zip(tmp_path / "new" / "train.json.zip", make_recipes(41))
    cli("data", "import", str(replacement), cwd=project)
    assert digest(project / "data" / "raw" / "train.json.zip") == digest(replacement)
    # A raw file holding a record that validate quarantines (added by hand, or pulled) is
    # read for its ids as validate reads it, and blocks nothing.
    kept = project / "data" / "raw" / "collected.jsonl"
    kept.write_text('{"id": 5000, "ingredients": ["salt"]}\n{"id": 5001}\n')
    later = tmp_path / "later.json"
    later.write_text(json.dumps([{"id": 6000, "ingredients": ["rice"]}]))
    cli("data", "import", str(later), cwd=project)
    later.write_text(json.dumps([{"id": 5000, "ingredients": ["rice"]}]))
    clash = cli("data", "import", str(later), cwd=project, check=False)
    assert "later.json and collected.jsonl (in data/raw) both hold recipe id 5000" in clash.stderr


def push_then_pull_in_a_clone(
    project: Path, tiny_zip: Path, tmp_path: Path, env: dict[str, str]
) -> Path:
    cli("data", "import", str(tiny_zip), cwd=project, env=env)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "raw data", cwd=project)
    before = cli("data", "status", "--exit-code", cwd=project, env=env, check=False)
    assert before.stdout.splitlines()[1] == (
        f"store: differs from the cache: new: data/raw; new: data/raw/{tiny_zip.name} "
        "(`cuisineflow data push` sends what is new)"
    )
    assert before.returncode == 1  # not pushed yet
    cli("data", "push", cwd=project, env=env)
    after = cli("data", "status", "--exit-code", cwd=project, env=env).stdout
    workspace, store = after.splitlines()
    assert workspace == "workspace: data/raw is as data/raw.dvc records"
    assert store.startswith("store: the cache and ")
    assert store.endswith(" are in sync")
    clone = tmp_path / "clone"
    git("clone", "-q", str(project), str(clone), cwd=tmp_path)
    assert not (clone / "data" / "raw").exists()
    cli("data", "pull", cwd=clone, env=env)
    assert digest(clone / "data" / "raw" / "train.json.zip") == digest(tiny_zip)
    return clone


def test_push_and_pull_through_a_local_store(project: Path, tiny_zip: Path, tmp_path: Path) -> None:
    # Nothing tracked yet: refused, as pull is, not "pushed" with nothing sent.
    for command in ("push", "pull"):
        refused = cli("data", command, cwd=project, check=False)
        assert (refused.returncode, refused.stdout) == (1, "")
        assert "data/raw.dvc is missing: no raw data is tracked here" in refused.stderr
    # With the project's own ignore rules, which DVC follows when it looks for .dvc files.
    (project / ".gitignore").write_bytes((PROJECT / ".gitignore").read_bytes())
    push_then_pull_in_a_clone(project, tiny_zip, tmp_path, env={})
    assert (tmp_path / "store" / "dvc" / "files" / "md5").is_dir()
    committed = (project / ".dvc" / "config").read_text()
    assert "store" not in committed  # the remote lives in the untracked config.local


def test_push_and_pull_through_the_s3_endpoint(
    project: Path, tiny_zip: Path, tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    env = s3_endpoint.store_env("dvc-roundtrip")
    clone = push_then_pull_in_a_clone(project, tiny_zip, tmp_path, env=env)
    local_config = (clone / ".dvc" / "config.local").read_text()
    assert f"url = s3://{s3_endpoint.bucket}/dvc-roundtrip/dvc" in local_config
    assert f"endpointurl = {s3_endpoint.url}" in local_config
    assert "secret" not in local_config.lower()
    assert "access_key" not in local_config.lower()


def test_raw_data_changed_since_its_import_is_named_and_not_validated(
    project: Path, tiny_zip: Path, tmp_path: Path
) -> None:
    cli("data", "import", str(tiny_zip), cwd=project)  # not pushed: the cache restores it
    raw = project / "data" / "raw"
    # Copied in by hand, or an import stopped before DVC recorded it.
    (raw / "extra.jsonl").write_text(json.dumps({"id": 9001, "ingredients": ["salt"]}) + "\n")
    with (raw / "train.json.zip").open("ab") as stream:
        stream.write(b"junk")
    status = cli("data", "status", cwd=project).stdout
    assert status.startswith(
        "workspace: data/raw differs from data/raw.dvc: added extra.jsonl; modified train.json.zip"
    )
    assert cli("data", "status", "--exit-code", cwd=project, check=False).returncode == 1
    refused = cli("validate", cwd=project, check=False)
    assert refused.returncode == 1
    assert "data/raw differs from what data/raw.dvc records (added extra.jsonl; modified " in (
        refused.stderr
    )
    assert not (project / "data" / "validated").exists()
    # --force restores what data/raw.dvc records, and only that.
    cli("data", "pull", "--force", cwd=project)
    assert digest(raw / "train.json.zip") == digest(tiny_zip)
    assert not (raw / "extra.jsonl").exists()
    assert cli("data", "status", cwd=project).stdout.startswith(
        "workspace: data/raw is as data/raw.dvc records"
    )
    cli("validate", cwd=project)
    # What .dvcignore leaves out, DVC does not track, and neither does the comparison.
    (project / ".dvcignore").write_text("*.md\n")
    (raw / "NOTES.md").write_text("where these came from\n")
    assert cli("data", "status", cwd=project).stdout.startswith(
        "workspace: data/raw is as data/raw.dvc records"
    )
    cli("validate", cwd=project)


def test_a_dvc2_layout_is_compared_by_count_and_size(project: Path) -> None:
    """DVC 2 hashed text with CRLF read as LF (md5-dos2unix): no per-file md5 to compare."""
    from cuisineflow.storage.dvc import DvcRepo

    raw = project / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "train.jsonl").write_bytes(b'{"id": 1, "cuisine": "thai", "ingredients": ["x"]}\r\n')
    size = (raw / "train.jsonl").stat().st_size
    (project / "data" / "raw.dvc").write_text(
        f"outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  size: {size}\n  nfiles: 1\n"
        "  path: raw\n"
    )
    repo = DvcRepo(project)
    assert repo.changes_since_added("data/raw.dvc") == []
    assert repo.remote_key("data/raw.dvc") == ("dvc/01/23456789abcdef0123456789abcdef.dir", False)
    (raw / "extra.jsonl").write_text("{}\n")
    assert repo.changes_since_added("data/raw.dvc") == [
        f"2 files of {size + 3} bytes, recorded 1 of {size}"
    ]


def test_a_cached_dvc2_listing_is_compared_file_by_file_as_dvc2_hashed(project: Path) -> None:
    """With DVC 2's listing in the legacy cache, each file is hashed as DVC 2 did: text with
    CRLF read as LF. A plain md5 of these bytes would read every file as modified."""
    from dvc.repo import Repo

    from cuisineflow.storage.dvc import DvcRepo

    raw = project / "data" / "raw"
    raw.mkdir(parents=True)
    text = b'{"id": 1, "cuisine": "thai", "ingredients": ["x"]}\r\n'
    (raw / "train.jsonl").write_bytes(text)
    as_dvc2_hashed = hashlib.md5(text.replace(b"\r\n", b"\n")).hexdigest()
    listing_hash = "0123456789abcdef0123456789abcdef.dir"
    with Repo(str(project)) as dvc:
        listing = Path(dvc.cache.legacy.oid_to_path(listing_hash))
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text(json.dumps([{"relpath": "train.jsonl", "md5": as_dvc2_hashed}]))
    (project / "data" / "raw.dvc").write_text(f"outs:\n- md5: {listing_hash}\n  path: raw\n")
    repo = DvcRepo(project)
    assert repo.changes_since_added("data/raw.dvc") == []
    assert repo.remote_key("data/raw.dvc") == (f"dvc/01/{listing_hash[2:]}", True)
    (raw / "train.jsonl").write_bytes(text.replace(b"thai", b"irish"))
    (raw / "extra.jsonl").write_text("{}\n")
    assert repo.changes_since_added("data/raw.dvc") == [
        "added extra.jsonl",
        "modified train.jsonl",
    ]


def test_status_of_a_fresh_clone_judges_the_raw_data_alone(
    project: Path, tiny_zip: Path, tmp_path: Path
) -> None:
    from cuisineflow.storage.dvc import DvcRepo

    cli("data", "import", str(tiny_zip), cwd=project)
    (project / "notes.txt").write_text("a pipeline output, say\n")
    DvcRepo(project).add("notes.txt")
    cli("data", "push", cwd=project)
    clone = commit_and_clone(project, tmp_path / "fresh", "raw data and notes")
    cli("data", "pull", cwd=clone)  # the raw data alone
    status = cli("data", "status", "--exit-code", cwd=clone, check=False)
    assert status.returncode == 0  # the raw data is in place and the store holds it
    assert status.stdout.splitlines()[1] == (
        "store: differs from the cache: deleted: notes.txt (what is deleted is in the store "
        "alone: `dvc pull` fetches it)"
    )  # not "push": the store has it


def test_pull_from_a_store_without_the_data_says_which_store(
    project: Path, tiny_zip: Path, tmp_path: Path
) -> None:
    cli("data", "import", str(tiny_zip), cwd=project)
    cli("data", "push", cwd=project)
    clone = commit_and_clone(project, tmp_path / "fresh")
    empty = {"CUISINEFLOW_STORE": str(tmp_path / "empty-store")}
    missing = cli("data", "status", "--exit-code", cwd=clone, env=empty, check=False)
    assert missing.returncode == 1
    status = missing.stdout
    assert status.splitlines() == [
        "workspace: data/raw is missing: `cuisineflow data pull` restores it",
        f"store: local store {tmp_path / 'empty-store'} does not hold the raw data data/raw.dvc "
        "names: point CUISINEFLOW_STORE at the store it was pushed to",
    ]  # not DVC's "in sync": with nothing in the cache it has nothing to compare
    pushed = cli("data", "status", cwd=clone).stdout
    assert (
        pushed.splitlines()[1]
        == "store: holds the raw data data/raw.dvc names: `cuisineflow data pull`"
    )
    refused = cli("data", "pull", cwd=clone, env=empty, check=False)
    assert refused.returncode == 1
    assert (
        f"the store, local store {tmp_path / 'empty-store'}, does not hold what data/raw.dvc"
        in refused.stderr
    )
    assert "point CUISINEFLOW_STORE at the store it was pushed to" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_unreachable_store_is_one_clear_message(project: Path, tiny_zip: Path) -> None:
    cli("data", "import", str(tiny_zip), cwd=project)
    env = {
        "CUISINEFLOW_STORE": "s3://somewhere/x",
        "CUISINEFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    result = cli("data", "push", cwd=project, env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: cannot reach the S3 endpoint for bucket 'somewhere' (s3://somewhere/x) "
        "at http://127.0.0.1:9"
    )
    assert "Traceback" not in result.stderr


def test_a_report_before_the_pipeline_says_to_run_it(project: Path) -> None:
    result = cli("report", "data", cwd=project, check=False)
    assert result.returncode == 1
    assert result.stderr == (
        "error: the data report needs data/validated/recipes.parquet, which the pipeline "
        "writes: run `cuisineflow run` first\n"
    )
    assert not (project / "reports").exists()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (
            "<<<<<<< HEAD\nouts:\n- md5: a\n  path: raw\n=======\nouts:\n- md5: b\n  path: raw\n"
            ">>>>>>> theirs\n",
            "it holds git's merge-conflict markers): resolve the merge conflict, or run",
        ),
        ("just a string\n", "not a mapping holding `outs`): `git checkout data/raw.dvc`, or run"),
        ("outs: 5\n", "`outs` is not a list of outputs): `git checkout data/raw.dvc`, or run"),
        ("", "it is empty): `git checkout data/raw.dvc`, or run"),  # cut off: not "missing"
    ],
    ids=["merge-conflict", "a-string", "outs-a-number", "empty"],
)
def test_a_damaged_raw_dvc_file_is_named_and_import_replaces_it(
    project: Path, tiny_zip: Path, content: str, why: str
) -> None:
    cli("data", "import", str(tiny_zip), cwd=project)
    dvc_file = project / "data" / "raw.dvc"
    recorded = dvc_file.read_text()
    dvc_file.write_text(content)
    for command in (("data", "status"), ("data", "pull"), ("validate",)):
        result = cli(*command, cwd=project, check=False)
        assert result.returncode == 1, command
        assert result.stderr == (
            f"error: data/raw.dvc is unreadable ({why} `cuisineflow data import` again\n"
        ), command
    # `dvc add` refuses to read it: the import records data/raw anew in its place.
    cli("data", "import", str(tiny_zip), cwd=project)
    assert dvc_file.read_text() == recorded


def test_a_killed_imports_leftover_is_neither_tracked_nor_kept(
    project: Path, tiny_zip: Path
) -> None:
    raw = project / "data" / "raw"
    raw.mkdir(parents=True)
    leftover = raw / ".test.json.importing"  # SIGKILL between the copy and its rename
    leftover.write_text('[{"id": 1, "ingr')
    cli("data", "import", str(tiny_zip), cwd=project)
    assert sorted(p.name for p in raw.iterdir()) == ["train.json.zip"]
    assert "nfiles: 1\n" in (project / "data" / "raw.dvc").read_text()
    # The project's .dvcignore leaves one out of what DVC tracks and compares.
    (project / ".dvcignore").write_bytes((PROJECT / ".dvcignore").read_bytes())
    leftover.write_text('[{"id": 1, "ingr')
    status = cli("data", "status", cwd=project).stdout
    assert status.startswith("workspace: data/raw is as data/raw.dvc records\n")
    assert ".importing" not in status


def test_imports_run_one_at_a_time(project: Path, tiny_zip: Path) -> None:
    # Two at once: one deleted the other's file in flight, and each checked shared ids
    # without the other's recipes.
    import subprocess
    import sys
    import time

    from cuisineflow.storage.local import exclusive_lock

    lock = project / ".dvc" / "tmp" / "cuisineflow-import.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(lock):  # another import under way
        waiting = subprocess.Popen(
            [sys.executable, "-m", "cuisineflow", "data", "import", str(tiny_zip)],
            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3)
        assert waiting.poll() is None  # it waits for the lock
        assert not (project / "data" / "raw").exists()
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert (project / "data" / "raw" / "train.json.zip").read_bytes() == tiny_zip.read_bytes()
