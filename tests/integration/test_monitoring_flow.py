"""Prediction logs in a store, and `cuisineflow monitor` / `labels add` on them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cuisineflow.monitoring.log import PredictionLogger, records_for
from cuisineflow.monitoring.profile import build_profile
from cuisineflow.monitoring.window import read_predictions
from cuisineflow.predict import Predictor
from cuisineflow.registry import Registry
from cuisineflow.storage import Store
from cuisineflow.storage.s3server import free_port
from tests.conftest import cli, make_recipes, typical_recipes

pytestmark = pytest.mark.integration


def log_window(store: Store, predictor: Predictor, recipes: list[list[str]], first_id: int) -> None:
    logger = PredictionLogger(store, flush_records=100, flush_seconds=60)
    predictions = predictor.predict(recipes)
    pairs = [(first_id + i, r) for i, r in enumerate(recipes)]
    logger.log(records_for(predictions, pairs, "cuisine", "1", "req", 0.2))
    logger.close()
    assert logger.dropped == 0
    assert logger.written == len(recipes)


@pytest.fixture
def project(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Store, Predictor]:
    monkeypatch.setenv("CUISINEFLOW_STORE", str(tmp_path / "store"))
    store = Store.open(str(tmp_path / "store"))
    predictor = Predictor(tiny_model)
    reference = typical_recipes(600, seed=100)
    profile = build_profile(reference, predictor.predict_proba(reference), predictor.classes,
                            [r["ingredients"] for r in make_recipes(120)])  # fmt: skip
    Registry(store).register("cuisine", tiny_model, {"monitoring_reference": profile})
    return tmp_path, store, predictor


def test_logs_are_parquet_partitioned_by_date(project: tuple[Path, Store, Predictor]) -> None:
    _, store, predictor = project
    recipes = typical_recipes(250, seed=1)
    log_window(store, predictor, recipes, 0)
    keys = store.list("monitoring/predictions")
    assert keys
    assert all(k.split("/")[2].startswith("date=20") for k in keys)
    table = pq.read_table(store.path(keys[0]))
    assert {"request_id", "timestamp", "model_name", "model_version", "ingredients", "cuisine",
            "top_probabilities", "latency_ms"} <= set(table.column_names)  # fmt: skip
    # Each record as log_window made it: its request, its latency, the predictor's top.
    logged = sorted(read_predictions(store, None, None).to_pylist(), key=lambda r: int(r["id"]))
    expected = predictor.predict(recipes)
    assert [r["id"] for r in logged] == [str(i) for i in range(250)]
    assert {r["request_id"] for r in logged} == {"req"}
    assert {r["latency_ms"] for r in logged} == {0.2}
    assert [r["ingredients"] for r in logged] == recipes
    assert [r["top_cuisines"] for r in logged] == [[t["cuisine"] for t in p.top] for p in expected]
    assert [r["top_probabilities"] for r in logged] == [
        [t["probability"] for t in p.top] for p in expected
    ]
    assert all(r["top_probabilities"][0] == r["confidence"] for r in logged)


def test_full_buffer_and_dead_store_drop_and_count(tmp_path: Path, tiny_model: Path) -> None:
    predictor = Predictor(tiny_model)
    recipes = typical_recipes(30, seed=2)
    records = records_for(
        predictor.predict(recipes), [(i, r) for i, r in enumerate(recipes)], "m", "1", "r", 1.0
    )
    told: list[int] = []  # what a metric is told, as each drop happens
    small = PredictionLogger(Store.open(str(tmp_path / "s")), max_buffer=40, flush_seconds=60)
    small.on_drop = told.append
    small.log(records)
    small.log(records)  # would pass the bound: dropped, not blocked
    assert told == [30]
    small.close()
    assert (small.written, small.dropped) == (30, 30)
    dead = Store.open("s3://nowhere/x", endpoint_url=f"http://127.0.0.1:{free_port()}")
    logger = PredictionLogger(dead, flush_seconds=60)
    logger.on_drop = told.append
    logger.log(records)
    logger.close()  # must not raise
    assert (logger.written, logger.dropped) == (0, 30)
    assert told == [30, 30]  # the failed background write, with no request after it


def test_monitor_quiet_on_fresh_traffic_and_alerts_on_drift(
    project: tuple[Path, Store, Predictor], tmp_path: Path
) -> None:
    root, store, predictor = project
    log_window(store, predictor, typical_recipes(400, seed=3), 0)
    quiet = cli("monitor", "--model", "cuisine@1", "--output", str(tmp_path / "r1"), cwd=root)
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert quiet.returncode == 0
    assert report["n_predictions"] == 400
    assert report["alerts"] == []
    assert report["drift"]["input"]["detected"] is False
    assert report["realized_accuracy"] is None
    page = (tmp_path / "r1" / "report.html").read_text()
    assert "No alert over 400 predictions" in page
    assert "cuisine@1, all logged predictions: 400 predictions" in page
    assert "None" not in page
    # The folder holds no other page to link to; the store's copy links those beside it.
    assert "<nav></nav>" in page
    assert "<nav></nav>" in store.read_bytes("reports/monitor.html").decode()
    store.write_bytes("reports/model.html", b"<!doctype html>")
    cli("monitor", "--model", "cuisine@1", "--output", str(tmp_path / "r1"), cwd=root)
    shared = store.read_bytes("reports/monitor.html").decode()
    assert "<nav><a href='model.html'>model</a></nav>" in shared
    labels = tmp_path / "labels.json"
    recorded = typical_recipes(400, seed=3)
    # Every label says chinese: realized accuracy is then the share predicted chinese.
    rows = [{"id": i, "cuisine": "chinese", "ingredients": r} for i, r in enumerate(recorded)]
    labels.write_text(json.dumps([*rows, {"id": 99999, "cuisine": "thai", "ingredients": ["x"]}]))
    share_chinese = sum(p.cuisine == "chinese" for p in predictor.predict(recorded)) / 400
    added = cli("labels", "add", str(labels), cwd=root)
    assert added.stdout.strip() == "recorded 401 labels"
    with_labels = cli(
        "monitor", "--model", "cuisine@1", "--output", str(tmp_path / "r2"), cwd=root, check=False
    )
    report = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert report["labels"] == {
        "given": 401, "matched": 400, "unknown_ids": 1, "repeated_predictions": 0
    }  # fmt: skip
    assert report["realized_accuracy"] == pytest.approx(share_chinese)
    assert "1 labels have ids not in the window" in with_labels.stderr
    assert with_labels.returncode == 1  # realized accuracy is far under its floor
    assert "ALERT realized accuracy" in (tmp_path / "r2" / "report.html").read_text()
    # The same recipes predicted again (a retried batch): one vote per labelled id.
    log_window(store, predictor, recorded, 0)
    again = cli("monitor", "--model", "cuisine@1", "--output", str(tmp_path / "r2b"), cwd=root,
                check=False)  # fmt: skip
    report = json.loads((tmp_path / "r2b" / "report.json").read_text())
    assert report["n_predictions"] == 800
    assert (report["labels"]["matched"], report["labels"]["repeated_predictions"]) == (400, 400)
    assert report["realized_accuracy"] == pytest.approx(share_chinese)
    assert "400 earlier predictions of labelled ids left out" in again.stderr
    log_window(store, predictor, typical_recipes(600, seed=4, cuisines=("italian",)), 10_000)
    drift = cli(
        "monitor",
        "--model",
        "cuisine@1",
        "--output",
        str(tmp_path / "r3"),
        "--labels",
        str(labels),
        cwd=root,
        check=False,
    )
    assert drift.returncode == 1
    assert "ALERT cuisine_mix" in drift.stdout
    # The per-day page judges the day with the same checks, and says how to see it.
    (root / ".dvc").mkdir()
    cli("report", "monitoring", "--model", "cuisine@1", "--output", str(tmp_path / "p"), cwd=root)
    page = (tmp_path / "p" / "monitoring.html").read_text()
    today = dt.datetime.now(dt.UTC).date()
    verdict = page[page.index("1 of 1 days raised alerts (") :].split(")")[0]
    assert "cuisine mix" in verdict
    assert (
        f"monitor --model cuisine@1 --since {today} --until {today + dt.timedelta(days=1)}" in page
    )


def test_empty_window_and_missing_logs_are_clear(
    project: tuple[Path, Store, Predictor], tmp_path: Path
) -> None:
    root, store, predictor = project
    missing = cli("monitor", "--model", "cuisine@1", cwd=root, check=False)
    assert missing.returncode == 2  # no verdict: not an alert (1)
    assert "no prediction logs in local store" in missing.stderr
    log_window(store, predictor, typical_recipes(150, seed=5), 0)
    empty = cli(
        "monitor",
        "--model",
        "cuisine@1",
        "--since",
        "2001-01-01",
        "--until",
        "2001-01-02",
        cwd=root,
        check=False,
    )
    assert empty.returncode == 2
    assert "no predictions logged in the window (cuisine@1, from 2001-01-01 to 2001-01-02)" in (
        empty.stderr
    )
    no_folder = cli(
        "monitor", "--model", "cuisine@1", "--log", str(tmp_path / "nope"), cwd=root, check=False
    )
    assert f"{tmp_path / 'nope'}: no such prediction log file or folder" in no_folder.stderr
    (tmp_path / "logs.parquet").write_text("not parquet")
    not_logs = cli("monitor", "--model", "cuisine@1", "--log", str(tmp_path / "logs.parquet"),
                   cwd=root, check=False)  # fmt: skip
    assert not_logs.returncode == 2
    assert "logs.parquet: not a prediction log (Parquet of the log schema)" in not_logs.stderr
    pq.write_table(pa.table({"id": ["1"], "cuisine": ["thai"]}), tmp_path / "logs.parquet")
    other = cli("monitor", "--model", "cuisine@1", "--log", str(tmp_path / "logs.parquet"),
                cwd=root, check=False)  # fmt: skip
    assert "not a prediction log (Parquet of the log schema): no column request_id" in other.stderr
    assert "Traceback" not in missing.stderr + empty.stderr + no_folder.stderr + not_logs.stderr
    # A damaged file among the labels: named, no verdict (it was an Arrow traceback).
    store.write_bytes("monitoring/labels/labels-zzz.parquet", b"junk\n")
    labels = cli("monitor", "--model", "cuisine@1", cwd=root, check=False)
    assert labels.returncode == 2
    assert labels.stderr == (
        f"error: {store.url('monitoring/labels/labels-zzz.parquet')}: not labels (Parquet of id "
        "and cuisine, as `labels add` writes): Parquet file size is 5 bytes, smaller than the "
        "minimum file footer (8 bytes); move it out of monitoring/labels/ and run again\n"
    )


def test_monitor_refuses_a_log_without_confidence_and_never_writes_nan(
    project: tuple[Path, Store, Predictor], tiny_model: Path, tmp_path: Path
) -> None:
    root, store, predictor = project
    recipes = typical_recipes(150, seed=6)
    log_window(store, predictor, recipes, 0)
    (good,) = store.list("monitoring/predictions")
    # Every column but confidence: read as the log schema, it was nulls, and the estimated
    # accuracy NaN (exit 0, and NaN in report.json, which is no JSON).
    bad = good.replace("part-", "part-z")
    partial = pq.read_table(store.path(good)).slice(0, 3).drop_columns(["confidence"])
    pq.write_table(partial, store.path(bad))
    refused = cli("monitor", "--model", "cuisine@1", "--output", str(tmp_path / "r"), cwd=root,
                  check=False)  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr == (
        f"error: {store.url(bad)}: not a prediction log (Parquet of the log schema): no column "
        "confidence; move it out of monitoring/predictions/ and run again\n"
    )
    assert not (tmp_path / "r").exists()
    store.delete(bad)
    # A profile's NaN is named before any statistic is computed with it.
    profile = Registry(store).metadata("cuisine", 1)["monitoring_reference"]
    Registry(store).register("odd", tiny_model, {"monitoring_reference": {
        **profile, "mean_confidence": float("nan")}})  # fmt: skip
    logger = PredictionLogger(store, flush_seconds=60)
    pairs = [(i, r) for i, r in enumerate(recipes)]
    logger.log(records_for(predictor.predict(recipes), pairs, "odd", "1", "req", 0.2))
    logger.close()
    nan = cli("monitor", "--model", "odd@1", "--output", str(tmp_path / "r"), cwd=root,
              check=False)  # fmt: skip
    assert nan.returncode == 2
    assert nan.stderr == (
        "error: odd@1's monitoring reference: 'mean_confidence' holds NaN "
        "(registry/odd/1/metadata.json in the store)\n"
    )
    assert not (tmp_path / "r" / "report.json").exists()


def test_monitor_reads_only_the_monitored_versions_predictions(
    project: tuple[Path, Store, Predictor], tiny_model: Path, tmp_path: Path
) -> None:
    root, store, _ = project
    # As `register` does: the version holds the model's files and its reference profile.
    registry = Registry(store)
    profile = registry.metadata("cuisine", 1)["monitoring_reference"]
    registered = tmp_path / "registered"
    shutil.copytree(tiny_model, registered)
    (registered / "reference_profile.json").write_text(json.dumps(profile))
    assert registry.register("cuisine", registered, {"monitoring_reference": profile}) == (2, True)
    # `predict --log` with the model folder alone logs the newest version holding it.
    served = tmp_path / "models" / "cuisine"
    shutil.copytree(tiny_model, served)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": i, "ingredients": r}
                                 for i, r in enumerate(typical_recipes(150, seed=6))]))  # fmt: skip
    cli("predict", str(batch), "--model", str(served), "--log", cwd=root)
    logged = pq.read_table(store.path(store.list("monitoring/predictions")[0]))
    assert set(logged["model_version"].to_pylist()) == {"2"}
    # A store that cannot take the log costs the log, not the predictions (as in serve).
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = {"CUISINEFLOW_STORE": "s3://cuisineflow/x", "CUISINEFLOW_S3_ENDPOINT_URL": dead,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # fmt: skip
    out = tmp_path / "out.jsonl"
    failed = cli("predict", str(batch), "--model", str(served), "--log", "--output", str(out),
                 cwd=root, env=down, check=False)  # fmt: skip
    assert failed.returncode == 1
    assert "the predictions were written, but 150 prediction log records could not" in (
        failed.stderr
    )
    assert len(out.read_text().splitlines()) == 150
    # A store setting that cannot work at all is refused before any prediction is printed.
    bad = cli("predict", str(batch), "--model", str(served), "--log", cwd=root,
              env={"CUISINEFLOW_STORE": "ftp://x"}, check=False)  # fmt: skip
    assert (bad.returncode, bad.stdout) == (1, "")
    assert "only local folders and s3:// are supported" in bad.stderr
    monitored = cli("monitor", "--model", "cuisine@2", "--output", str(tmp_path / "r"), cwd=root)
    assert monitored.stdout.startswith("150 predictions;")
    # Another model's predictions are not counted as this one's.
    other = tmp_path / "other" / "cuisine"
    shutil.copytree(tiny_model, other)
    spec = json.loads((other / "model.json").read_text())
    spec["classes"] = list(reversed(spec["classes"]))  # different content, not registered
    (other / "model.json").write_text(json.dumps(spec))
    cli("predict", str(batch), "--model", str(other), "--log", cwd=root)
    again = cli("monitor", "--model", "cuisine@2", "--output", str(tmp_path / "r2"), cwd=root)
    assert again.stdout.startswith("150 predictions;")
    shutil.rmtree(store.path("monitoring/predictions"))
    cli("predict", str(batch), "--model", str(other), "--log", cwd=root)
    none = cli("monitor", "--model", "cuisine@2", cwd=root, check=False)
    assert none.returncode == 2
    assert "no predictions of cuisine@2 in the window; it holds cuisine@local (150)" in none.stderr


def test_monitor_and_report_pages_and_their_arguments(
    project: tuple[Path, Store, Predictor], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, store, predictor = project
    log_window(store, predictor, typical_recipes(150, seed=5), 0)
    a_file = root / "notes.txt"
    a_file.write_text("kept")
    as_file = cli("monitor", "--model", "cuisine@1", "--output", str(a_file), cwd=root,
                  check=False)  # fmt: skip
    assert as_file.stderr == f"error: --output {a_file} is a file: give a folder for the report\n"
    assert as_file.returncode == 2  # no verdict, not an alert
    # A folder that cannot be made (under a file): an OSError, still no verdict, not an alert.
    under_file = cli("monitor", "--model", "cuisine@1", "--output", str(a_file / "sub"),
                     cwd=root, check=False)  # fmt: skip
    assert under_file.returncode == 2
    assert under_file.stderr.startswith("error: ")
    assert "Traceback" not in under_file.stderr
    backwards = cli("monitor", "--model", "cuisine@1", "--since", "2026-02-01", "--until",
                    "2026-01-01", cwd=root, check=False)  # fmt: skip
    assert "--since 2026-02-01 is not before --until 2026-01-01" in backwards.stderr
    cli("monitor", "--model", "cuisine@1", "--output", str(tmp_path / "r"), cwd=root)
    # monitor's page has a name of its own: the pipeline's per-day page is monitoring.html.
    assert store.list("reports") == ["reports/monitor.html"]
    (root / ".dvc").mkdir()
    # The page follows CUISINEFLOW_MODEL (cuisine@latest: no such alias here), or --model.
    cli("report", "monitoring", "--output", str(tmp_path / "pages"), cwd=root)
    default = (tmp_path / "pages" / "monitoring.html").read_text()
    assert "no alias" in default
    cli("report", "monitoring", "--model", "cuisine@1", "--output", str(tmp_path / "pages"),
        cwd=root)  # fmt: skip
    chosen = (tmp_path / "pages" / "monitoring.html").read_text()
    assert "150 logged predictions" in chosen
    assert "No alert on any of the 1 days judged" in chosen
    # A model asked for by name that does not resolve is an error, and no page is replaced.
    typo = cli("report", "monitoring", "--model", "cusine@1", "--output", str(tmp_path / "pages"),
               cwd=root, check=False)  # fmt: skip
    assert typo.returncode == 1
    assert "no model named 'cusine'" in typo.stderr
    assert (tmp_path / "pages" / "monitoring.html").read_text() == chosen
    # Pages built elsewhere (--output) leave the store's shared pages alone; reports/ is
    # the shared pages' folder, copied to the store.
    assert store.list("reports") == ["reports/monitor.html"]
    cli("report", "monitoring", "--model", "cuisine@1", cwd=root)
    assert (root / "reports" / "monitoring.html").read_text() == chosen
    assert store.read_bytes("reports/monitoring.html").decode() == chosen
    cli("report", "monitoring", "--output", str(tmp_path / "other"), cwd=root)
    assert "no alias" in (tmp_path / "other" / "monitoring.html").read_text()
    assert store.read_bytes("reports/monitoring.html").decode() == chosen
    # A store that cannot be reached: an error, and still no page replaced on disk.
    dead = {"CUISINEFLOW_STORE": "s3://nowhere/x", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "CUISINEFLOW_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}  # fmt: skip
    unreachable = cli("report", "monitoring", "--output", str(tmp_path / "pages"), cwd=root,
                      env=dead, check=False)  # fmt: skip
    assert unreachable.returncode == 1
    assert "cannot reach" in unreachable.stderr
    assert (tmp_path / "pages" / "monitoring.html").read_text() == chosen
    refused = cli("report", "monitoring", "--output", str(a_file), cwd=root, check=False)
    assert refused.stderr == f"error: {a_file} is a file: give a folder for the reports\n"
    assert a_file.read_text() == "kept"
    # A file among the logs that is no log: `report monitoring` fails naming it (as
    # `monitor` does), and neither the page on disk nor the store's is replaced.
    cut = "monitoring/incoming/date=2026-01-01/part-1.jsonl"
    store.write_bytes(cut, b'{"request_id": "r", "timest')
    bad = cli("report", "monitoring", "--model", "cuisine@1", cwd=root, check=False)
    assert bad.returncode == 1
    assert f"{store.url(cut)}: not a prediction log (JSON Lines of the log schema)" in bad.stderr
    assert (root / "reports" / "monitoring.html").read_text() == chosen
    assert store.read_bytes("reports/monitoring.html").decode() == chosen
    # `cuisineflow run`, whose job is the model, renders the page naming the file instead.
    from cuisineflow.stages import report

    monkeypatch.chdir(root)
    (page,) = report.run(root, ("monitoring",), tmp_path / "run", "cuisine@1", bad_logs_fail=False)
    assert f"{store.url(cut)}: not a prediction log" in page.read_text()
    # So is a file among the labels that is none.
    store.delete(cut)
    junk = "monitoring/labels/labels-zzz.parquet"
    store.write_bytes(junk, b"junk")
    (page,) = report.run(root, ("monitoring",), tmp_path / "run", "cuisine@1", bad_logs_fail=False)
    assert store.url(junk) in page.read_text()
    bad = cli("report", "monitoring", "--model", "cuisine@1", cwd=root, check=False)
    assert bad.returncode == 1
    assert store.url(junk) in bad.stderr


def test_the_monitoring_page_judges_the_latest_days_only(
    project: tuple[Path, Store, Predictor], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cuisineflow.stages import report

    root, store, predictor = project
    recipes = typical_recipes(120, seed=6)
    for day in (1, 2, 5):  # a gap of two days before the latest
        logger = PredictionLogger(store, flush_records=1000, flush_seconds=60)
        records = records_for(predictor.predict(recipes), list(enumerate(recipes)), "cuisine",
                              "1", "req", 0.2)  # fmt: skip
        for record in records:
            record["timestamp"] = dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC)
        logger.log(records)
        logger.close()
    monkeypatch.setattr(report, "PAGE_DAYS", 4)  # 2026-03-02 to 05: 03-01 falls out
    page = report.monitoring_report(root, store, model="cuisine@1")
    assert "<td>2026-03-01</td>" not in page
    assert "<td>2026-03-02</td>" in page
    assert "<td>2026-03-05</td>" in page
    assert "No alert on any of the 2 days judged" in page
    assert "120 predictions logged before 2026-03-02 are left out" in page
