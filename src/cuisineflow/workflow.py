"""The main job behind `cuisineflow run`: raw data in, pipeline reproduced, store updated."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuisineflow.data.acquire import import_raw
from cuisineflow.data.rawfiles import is_raw_file
from cuisineflow.errors import CuisineflowError, DataError
from cuisineflow.paths import RAW_DIR
from cuisineflow.settings import get_settings
from cuisineflow.storage import Store, open_store
from cuisineflow.storage.dvc import DvcRepo


@dataclass
class RunSummary:
    """What one run did, for the closing lines it prints."""

    store: str
    raw_origin: str
    raw_files: list[str] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    refit: dict[str, Any] = field(default_factory=dict)

    def render(self, seconds: float) -> str:
        """A few lines a person reads at the end of the run."""
        return "\n".join(
            [
                f"done in {seconds:.1f} s",
                f"  raw data: {', '.join(self.raw_files) or 'none'} ({self.raw_origin})",
                f"  store:    {self.store}",
                *(
                    f"  {split} ({m['n']} held-out recipes): accuracy {m['accuracy']:.4f}, "
                    f"macro-F1 {m['macro_f1']:.4f}, calibration error "
                    f"{m['expected_calibration_error']:.4f}"
                    for split, m in self.evaluation.items()
                ),
                *(
                    [f"  served:   refit on all {self.refit['fit_rows']} labelled recipes"]
                    if self.refit.get("recipes") == "all_labelled"
                    else []
                ),
            ]
        )


def run_workflow(
    source: str | None = None, force: bool = False, start: Path | None = None
) -> RunSummary:
    """Import raw data when absent, reproduce the DVC pipeline, push everything to the store."""
    settings = get_settings()
    repo = DvcRepo.find(start)
    store = open_store(settings, repo.root)
    store.check()
    repo.configure_remote(store)
    raw_origin = _ensure_raw_data(repo, store, source or settings.source_for(repo.root))
    if (repo.root / "dvc.yaml").exists():
        # The report reads the registered version from the store. Up to `register` first,
        # then what the store lacks (a new store: the lake and the model), then the rest;
        # forced, every stage runs, `register` before the report.
        repo.repro(*(["--force"] if force else ["register"]))
        for stage in stale_in_store(repo.root, store):
            repo.repro("--force", "--single-item", stage)
        repo.repro()
    repo.push()
    if (repo.root / "dvc.yaml").exists():
        from cuisineflow.stages import report

        # Pages that read beyond the pipeline's outputs, so outside repro: `dvc exp show`
        # (which cannot run under repro's lock), and the prediction logs in the store.
        report.run(repo.root, ("experiments", "monitoring"), bad_logs_fail=False)
    raw_dir = repo.root / RAW_DIR
    files = sorted(p.name for p in raw_dir.iterdir() if not p.name.startswith("."))
    evaluation, refit = (
        _read_json(repo.root / "metrics" / f"{n}.json") for n in ("evaluate", "refit")
    )
    return RunSummary(store.describe(), raw_origin, files, evaluation, refit)


def stale_in_store(root: Path, store: Store) -> list[str]:
    """The stages whose product in the store does not match the workspace: a store other
    than the one they ran against, or one that another checkout has written since."""
    from cuisineflow.registry import Registry, read_registered
    from cuisineflow.stages.lake import manifests

    stale = []
    workspace, published = manifests(root, store)
    if workspace and published != workspace:
        stale.append("lake")
    registered = read_registered(root)
    if registered:
        registry = Registry(store)
        try:
            stored = registry.metadata(registered["name"], registered["version"])
            current = registry.aliases(registered["name"]).get(registered["alias"])
        except CuisineflowError:
            stored, current = {}, None
        if (
            stored.get("content_sha256") != registered["content_sha256"]
            or current != registered["version"]
        ):
            stale.append("register")
    return stale


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _ensure_raw_data(repo: DvcRepo, store: Store, source: str | None) -> str:
    raw_dir = repo.root / RAW_DIR
    # Raw files only: a killed import leaves .NAME.importing, which is no raw data.
    if raw_dir.is_dir() and any(is_raw_file(path) for path in raw_dir.iterdir()):
        return "already in data/raw"
    if (repo.root / f"{RAW_DIR}.dvc").exists():
        # Asked first, so that a store without the data is one clear line, not DVC's
        # pull errors followed by an import that succeeds.
        missing = repo.missing_in(store, f"{RAW_DIR}.dvc")
        if missing is None:
            try:
                repo.pull(RAW_DIR)
                return "pulled from the store"
            except CuisineflowError:
                if source is None:
                    raise
        elif source is None:
            raise DataError(
                f"no raw data: data/raw is absent and {missing}. Point CUISINEFLOW_STORE at "
                "the store it was pushed to, or give --source PATH (or CUISINEFLOW_SOURCE)"
            )
        else:
            print(f"{missing}: importing the raw data from {source}", file=sys.stderr)
    if source is None:
        raise DataError(
            "no raw data: data/raw is absent. Give --source PATH (or CUISINEFLOW_SOURCE) "
            "pointing at What's Cooking's train.json.zip / test.json.zip or their folder"
        )
    import_raw(source, repo)
    return f"imported from {source}"
