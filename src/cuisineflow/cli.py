"""The `cuisineflow` command: one sub-command per stage and per user task."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
import traceback
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cuisineflow import __version__
from cuisineflow.errors import CuisineflowError

if TYPE_CHECKING:
    from cuisineflow.predict import Predictor
    from cuisineflow.registry import Registry
    from cuisineflow.storage import Store
    from cuisineflow.storage.dvc import DvcRepo

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
store_app = typer.Typer(
    help="The store: where data, models and reports live.", no_args_is_help=True
)
data_app = typer.Typer(help="Raw data: import it, and move it to and from the store with DVC.",
                       no_args_is_help=True)  # fmt: skip
labels_app = typer.Typer(help="Labels that arrive after the predictions.", no_args_is_help=True)
lambda_app = typer.Typer(help="AWS Lambda: build the deployment package.", no_args_is_help=True)
models_app = typer.Typer(
    help="The model registry in the store: versions, aliases, lineage.", no_args_is_help=True
)
app.add_typer(store_app, name="store")
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
app.add_typer(lambda_app, name="lambda")
app.add_typer(labels_app, name="labels")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cuisineflow {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Raw recipes to a versioned, served and monitored cuisine classifier.

    Settings come from CUISINEFLOW_* variables or a .env file: CUISINEFLOW_STORE (a local
    folder or s3://bucket/prefix), CUISINEFLOW_S3_ENDPOINT_URL, CUISINEFLOW_REGION,
    CUISINEFLOW_SOURCE (where raw data is imported from), CUISINEFLOW_MODEL (the model
    served and monitored) and those of serving and its model cache: the README's table
    lists them all.
    """


@store_app.command("serve")
def store_serve(
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 9000,
    bucket: Annotated[str, typer.Option(help="Bucket to create.")] = "cuisineflow",
) -> None:
    """Run the embedded S3 endpoint (moto) until Ctrl-C or SIGTERM.

    It is a real HTTP S3 endpoint for trials and tests, but it keeps objects in memory
    only: everything is gone when it stops. Use AWS S3 or another S3-compatible server
    for anything durable.
    """
    from cuisineflow.storage.s3server import EmbeddedS3

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server = EmbeddedS3(host=host, port=port, bucket=bucket).start()
    except (OSError, ValueError) as error:
        raise CuisineflowError(f"cannot start the embedded S3 endpoint: {error}") from error
    typer.echo(f"Embedded S3 endpoint at {server.endpoint_url} with bucket {bucket!r}.")
    typer.echo("Objects live in memory only and are lost when it stops.")
    typer.echo("Point cuisineflow at it with:")
    for name, value in server.environment().items():
        typer.echo(f"  export {name}={value}")
    typer.echo("Press Ctrl-C to stop.", err=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        typer.echo("Embedded S3 endpoint stopped.", err=True)


@store_app.command("check")
def store_check() -> None:
    """Check that the configured store can be reached, and say where it is."""
    from cuisineflow.settings import get_settings
    from cuisineflow.storage import open_store

    # Outside a project too, as `models` and `store serve`: a local store is then the
    # current folder's (said, when created).
    store = open_store(get_settings(), _project_root())
    created = store.check()
    typer.echo(f"ok: {store.describe()}" + (" (new: created empty just now)" if created else ""))


@data_app.command("import")
def data_import(
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE",
            help="A What's Cooking file (.zip, .json array, .jsonl), a folder of them, "
            "or kaggle:whats-cooking.",
        ),
    ],
) -> None:
    """Copy raw recipe files, unchanged, into data/raw and track them with DVC.

    Every file is schema-checked first (id an integer, ingredients a list of strings,
    cuisine a string when present); if any fails, nothing is written.
    """
    from cuisineflow.data.acquire import import_raw
    from cuisineflow.storage.dvc import DvcRepo

    for summary in import_raw(source, DvcRepo.find()):
        typer.echo(
            f"imported {summary.name}: {summary.recipes} recipes, {summary.labelled} with cuisine"
        )
    typer.echo("data/raw is tracked by DVC: commit data/raw.dvc, then `cuisineflow data push`.")


@data_app.command("push")
def data_push() -> None:
    """Upload DVC-tracked data to the store's DVC remote (<store>/dvc)."""
    repo, store = _repo_and_store()
    _require_raw_data(repo)  # else DVC says all is up to date, and nothing went
    repo.push()
    typer.echo(f"pushed to {store.url('dvc')}")


def _require_raw_data(repo: DvcRepo) -> None:
    from cuisineflow.paths import RAW_DIR

    if repo.tracked_hash(f"{RAW_DIR}.dvc") is None:
        raise CuisineflowError(
            f"{RAW_DIR}.dvc is missing: no raw data is tracked here; `cuisineflow data import`"
        )


@data_app.command("pull")
def data_pull(
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Put data/raw back as data/raw.dvc records: changed files are overwritten "
            "and files added since are deleted.",
        ),
    ] = False,
) -> None:
    """Restore the raw data (data/raw.dvc) from the store's DVC remote into the workspace.

    Pipeline outputs are not pulled: `dvc repro` rebuilds them, or `dvc pull` fetches
    those that were pushed.
    """
    from cuisineflow.paths import RAW_DIR

    repo, store = _repo_and_store()
    _require_raw_data(repo)
    missing = repo.missing_in(store, f"{RAW_DIR}.dvc")
    if missing:
        raise CuisineflowError(
            f"{missing}: point CUISINEFLOW_STORE at the store it was pushed to (the default, "
            ".cuisineflow/store, is each clone's own)"
        )
    repo.pull(f"{RAW_DIR}.dvc", *(["--force"] if force else []))
    typer.echo(f"pulled from {store.url('dvc')}")


@data_app.command("status")
def data_status(
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit 1 unless data/raw is as data/raw.dvc records and the store holds it "
            "(for scripts and CI, as `git diff --exit-code`).",
        ),
    ] = False,
) -> None:
    """Show what differs between data/raw and data/raw.dvc, and between the cache and the store."""
    from cuisineflow.paths import RAW_DIR

    repo, store = _repo_and_store()
    changes = repo.changes_since_added(f"{RAW_DIR}.dvc")
    tracked_hash = repo.tracked_hash(f"{RAW_DIR}.dvc")
    in_order = not changes and tracked_hash is not None
    if tracked_hash is None:
        typer.echo(f"workspace: no raw data is tracked ({RAW_DIR}.dvc): `cuisineflow data import`")
    elif changes == [f"{RAW_DIR} is missing"]:
        typer.echo(f"workspace: {RAW_DIR} is missing: `cuisineflow data pull` restores it")
    elif changes:
        typer.echo(
            f"workspace: {RAW_DIR} differs from {RAW_DIR}.dvc: {'; '.join(changes)} "
            f"(`dvc add {RAW_DIR}` records it; `cuisineflow data pull --force` restores it)"
        )
    else:
        typer.echo(f"workspace: {RAW_DIR} is as {RAW_DIR}.dvc records")
    tracked = repo.remote_key(f"{RAW_DIR}.dvc")
    if tracked is not None and not tracked[1]:
        # Not in the cache: `dvc status --cloud` has nothing to compare and says "in sync".
        held = store.exists(tracked[0])
        typer.echo(
            f"store: holds the raw data {RAW_DIR}.dvc names: `cuisineflow data pull`"
            if held
            else f"store: {store.describe()} does not hold the raw data {RAW_DIR}.dvc names: "
            "point CUISINEFLOW_STORE at the store it was pushed to"
        )
        in_order = in_order and held
    else:
        differences = repo.cloud_status()
        listed = "; ".join(f"{status}: {path}" for path, status in sorted(differences.items()))
        hints = {
            "new": "`cuisineflow data push` sends what is new",
            "deleted": "what is deleted is in the store alone: `dvc pull` fetches it",
        }
        said = [hint for status, hint in hints.items() if status in differences.values()]
        typer.echo(
            f"store: differs from the cache: {listed}" + (f" ({'; '.join(said)})" if said else "")
            if differences
            else f"store: the cache and {store.describe()} are in sync"
        )  # fmt: skip
        # The exit code is the raw data's: pipeline outputs need not be pushed (`dvc repro`
        # rebuilds them), and a fresh clone's cache lacks those the store has.
        raw = [path for path in differences if path == RAW_DIR or path.startswith(f"{RAW_DIR}/")]
        in_order = in_order and not raw
    if exit_code and not in_order:
        raise typer.Exit(1)


@app.command("validate")
def validate() -> None:
    """DVC stage: check data/raw against the rules in params.yaml (validate:).

    Writes data/validated/recipes.parquet, data/quarantine/rejected.jsonl (each rejected
    record with its reason) and metrics/validation.json; fails when the rejected fraction
    is over validate.max_rejected_fraction.
    """
    from cuisineflow.stages import validate as stage
    from cuisineflow.storage.dvc import DvcRepo

    result = stage.run(DvcRepo.find().root)
    typer.echo(
        f"validated {result.total} records: {len(result.valid)} kept, "
        f"{len(result.rejected)} quarantined ({result.rejected_fraction:.2%})"
    )
    for rule, count in sorted(result.rejected_by_rule.items()):
        typer.echo(f"  {rule}: {count}")


@app.command("lake")
def lake() -> None:
    """DVC stage: publish the validated recipes as a Parquet lake in <store>/lake/.

    Tables: recipes (Hive-partitioned by split, sorted by cuisine), recipe_ingredients (the
    ingredient index, sorted by ingredient) and ingredients (the vocabulary with counts);
    raw/recipes.jsonl and raw/recipes.csv for S3 Select; manifest.json with the raw data's
    DVC hash.
    """
    from cuisineflow.stages import lake as stage
    from cuisineflow.storage.dvc import DvcRepo

    manifest = stage.run(DvcRepo.find().root)
    for name, table in manifest["tables"].items():
        typer.echo(f"  {name}: {table['rows']} rows")
    typer.echo(f"lake published to {manifest['store']}/lake (raw data {manifest['raw_hash']})")


@app.command("split")
def split() -> None:
    """DVC stage: train / valid / test split of the labelled recipes, stratified by cuisine
    or by a hash of each id (split:)."""
    from cuisineflow.stages import split as stage
    from cuisineflow.storage.dvc import DvcRepo

    counts = stage.run(DvcRepo.find().root)
    typer.echo(", ".join(f"{name}: {n}" for name, n in counts.items()))


@app.command("featurize")
def featurize() -> None:
    """DVC stage: fit the vectorisers of params.yaml (featurize:), write the feature matrices."""
    from cuisineflow.stages import featurize as stage
    from cuisineflow.storage.dvc import DvcRepo

    summary = stage.run(DvcRepo.find().root)
    typer.echo(f"{summary['n_features']} features learnt from {summary['n_fit']} recipes")


def _progress(step: str) -> None:
    """A long step as it starts, on stderr (DVC shows it as the stage runs)."""
    typer.echo(f"  {step} ...", err=True)


@app.command("train")
def train() -> None:
    """DVC stage: fit and calibrate the model of params.yaml (train:) into models/evaluated."""
    from cuisineflow.stages import train as stage
    from cuisineflow.storage.dvc import DvcRepo

    summary = stage.run(DvcRepo.find().root, _progress)
    typer.echo(
        f"{summary['model']} fit on {summary['fit_rows']} recipes in {summary['fit_seconds']} s; "
        f"artifact {summary['artifact_mb']} MB"
    )


@app.command("evaluate")
def evaluate_command() -> None:
    """DVC stage: score models/evaluated on held-out recipes; write metrics/ and plots/."""
    from cuisineflow.stages import evaluate as stage
    from cuisineflow.storage.dvc import DvcRepo

    for name, metrics in stage.run(DvcRepo.find().root).items():
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
        typer.echo(f"{name} ({metrics['n']} recipes): {shown}")


class OutputFormat(StrEnum):
    """How `query` and `experiments` print their tables."""

    table = "table"
    csv = "csv"
    json = "json"


@app.command("refit")
def refit() -> None:
    """DVC stage: the served model, models/cuisine (refit:).

    With `refit.recipes: all_labelled` (the default) the evaluated featurize and train params
    are fit again on train, valid and test together; with `none` the evaluated model is
    served as it is.
    """
    from cuisineflow.stages import refit as stage
    from cuisineflow.storage.dvc import DvcRepo

    summary = stage.run(DvcRepo.find().root, _progress)
    if summary["recipes"] == "none":
        typer.echo(f"serving {summary['source']} as it is")
    else:
        typer.echo(
            f"{summary['model']} refit on {summary['fit_rows']} recipes in "
            f"{summary['fit_seconds']} s; artifact {summary['artifact_mb']} MB"
        )


@app.command("experiments")
def experiments(
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, csv, or json (one object a line).")
    ] = OutputFormat.table,
) -> None:
    """Compare DVC experiments: key params and test metrics, one row per experiment.

    Run experiments with DVC, e.g. `dvc exp run -S train.C=1.0`, or queue a sweep with
    `dvc exp run --queue -S train.C=0.3,0.5,1.0` and `dvc queue start`. For every column,
    use `dvc exp show`.
    """
    import json

    from cuisineflow.reports.experiments import experiment_rows
    from cuisineflow.reports.text import format_rows
    from cuisineflow.storage.dvc import DvcRepo

    shown = DvcRepo.find().run("exp", "show", "--json", quiet=True)
    rows = experiment_rows(json.loads(shown))
    typer.echo(format_rows(rows, output_format.value), nl=False)


@app.command("register")
def register() -> None:
    """DVC stage: register the served model, models/cuisine, with its lineage (register:).

    Registering content that is already there returns its existing version.
    """
    from cuisineflow.stages import register as stage
    from cuisineflow.storage.dvc import DvcRepo

    result = stage.run(DvcRepo.find().root)
    state = "registered" if result["created"] else "already registered as"
    typer.echo(
        f"{state} {result['name']}@{result['version']} ({result['alias']}) in {result['store']}"
    )


def _registry() -> Registry:
    from cuisineflow.registry import Registry
    from cuisineflow.settings import get_settings
    from cuisineflow.storage import open_store

    root = _project_root()
    return Registry(open_store(get_settings(), root))


def _project_root() -> Path:
    from cuisineflow.storage.dvc import DvcRepo

    return DvcRepo.root_or_cwd()


@models_app.command("list")
def models_list() -> None:
    """Every model version in the registry, with its aliases and test accuracy."""
    from cuisineflow.registry import RegistryError

    registry = _registry()
    rows = []
    for name in registry.names():
        damaged: dict[str, str] = {}  # one damaged alias or version hides none of the others
        aliases = registry.aliases(name, damaged)
        versions, unfinished = registry.numbers(name)
        problems = [*damaged.values()] + [
            f"{name}@{alias} points at version {version}, which is not in "
            f"{registry.store.describe()}: point it again with `cuisineflow models promote`"
            for alias, version in sorted(aliases.items())
            if version not in versions
        ]
        problems += [
            f"{name}@{number} is claimed but has no metadata.json: a register under way, or "
            f"one stopped half-way, whose files under registry/{name}/{number}/ "
            "`cuisineflow models gc` removes once an hour old"
            for number in unfinished
        ]
        for problem in problems:
            typer.echo(f"warning: {problem}", err=True)
        for version in versions:
            try:
                metadata = registry.metadata(name, version)
            except RegistryError as error:
                typer.echo(f"warning: {error}", err=True)
                metadata = {"content_sha256": "damaged"}
            test = (metadata.get("metrics") or {}).get("test") or {}
            rows.append(
                {
                    "model": f"{name}@{version}",
                    "aliases": ", ".join(a for a, v in sorted(aliases.items()) if v == version),
                    "created_at": metadata.get("created_at"),
                    "test_accuracy": round(test["accuracy"], 4) if "accuracy" in test else None,
                    "content_sha256": str(metadata.get("content_sha256"))[:12],
                }
            )
    if not rows:
        typer.echo(f"no models in {registry.store.describe()}: run `cuisineflow run`")
        return
    from cuisineflow.reports.text import format_table, table_of_rows

    typer.echo(format_table(table_of_rows(rows), "table"), nl=False)


@models_app.command("show")
def models_show(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="NAME@VERSION, NAME@ALIAS or an exported folder.")
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Also print the monitoring reference profile.")
    ] = False,
) -> None:
    """A version's metadata: lineage (data hashes, git commit), params, metrics, checksums."""
    import json

    from cuisineflow.registry import ModelRef, export_metadata

    parsed = ModelRef.parse(ref)
    if parsed.path is not None:  # an export carries its version's metadata, checked
        exported = export_metadata(parsed.path)
        if exported is None:
            raise CuisineflowError(
                f"{parsed.path} is a model folder without registry metadata: `models show` "
                "takes NAME@VERSION, NAME@ALIAS or a folder `models export` wrote"
            )
        metadata = exported
        if str(exported.get("version")) == "local":  # a plain folder's export: which version?
            registry = _registry()
            name, version = registry.identify(parsed.path)
            if version == "local":
                raise CuisineflowError(
                    f"{parsed.path} is an export of a model folder that no version in "
                    f"{registry.store.describe()} holds: it has no lineage to show"
                )
            metadata = registry.metadata(name, int(version))
    else:
        registry = _registry()
        metadata = registry.metadata(str(parsed.name), registry.resolve(parsed))
    lineage = metadata.get("lineage", {})
    typer.echo(f"{metadata['name']}@{metadata['version']}  created {metadata.get('created_at')}")
    typer.echo(f"  raw data       {lineage.get('raw_data', {}).get('dvc_md5')}")
    typer.echo(f"  training data  {lineage.get('training_data', {}).get('dvc_md5')}")
    git = lineage.get("git", {})
    typer.echo(f"  git commit     {git.get('commit')}{' (dirty)' if git.get('dirty') else ''}")
    typer.echo(f"  content        {metadata.get('content_sha256')}")
    if not full and "monitoring_reference" in metadata:
        # Thousands of lines of vocabulary and shares: shown with --full.
        metadata = {**metadata, "monitoring_reference": "(the reference profile: --full)"}
    typer.echo(json.dumps(metadata, indent=2))


@models_app.command("promote")
def models_promote(
    ref: Annotated[str, typer.Argument(metavar="REF", help="NAME@VERSION or NAME@ALIAS.")],
    alias: Annotated[str, typer.Option(help="Alias to point at it, e.g. production.")],
) -> None:
    """Point an alias (production, staging, ...) at a version, atomically."""
    from cuisineflow.registry import ModelRef

    parsed = ModelRef.parse(ref)
    version = _registry().promote(parsed, alias)
    typer.echo(f"{parsed.name}@{alias} -> version {version}")


@models_app.command("verify")
def models_verify(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="NAME@VERSION, NAME@ALIAS or a folder.")
    ],
) -> None:
    """Download a version and check every file against its checksums; exit 1 if any fails."""
    from cuisineflow.registry import ModelRef

    metadata = _registry().verify(ModelRef.parse(ref))
    typer.echo(f"ok: {ref} (version {metadata.get('version')}) verifies")


@models_app.command("export")
def models_export(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="NAME@VERSION, NAME@ALIAS or a folder.")
    ],
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Where to write the artifact and its metadata.")
    ],
) -> None:
    """Copy a verified version (artifact files + metadata.json) into a new or empty folder.

    A folder that holds an earlier export is replaced; any other non-empty folder is refused.
    """
    import json

    from cuisineflow.registry import ModelRef

    metadata = _registry().export(ModelRef.parse(ref), folder)
    typer.echo(f"exported {ref} to {folder.resolve()} ({json.dumps(metadata.get('version'))})")


@models_app.command("gc")
def models_gc(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="One model [default: every model].")
    ] = None,
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            min=0,
            metavar="MINUTES",
            help="Only numbers with nothing written for this long (0 takes a register under "
            "way too: only when none runs).",
        ),
    ] = 60,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed, remove nothing.")
    ] = False,
) -> None:
    """Remove the files of registers stopped half-way (claimed, no metadata.json).

    Each number's .claim stays, so the number is never given to another version.
    """
    registry = _registry()
    names = [name] if name is not None else registry.names()
    verb = "would remove" if dry_run else "removed"
    removed = 0
    for each in names:
        collected = registry.collect(each, older_than * 60, dry_run)
        for left in collected.removed:
            typer.echo(
                f"{verb} {left.name}@{left.number}: {len(left.keys)} "
                f"file{'' if len(left.keys) == 1 else 's'}, {left.size} bytes under "
                f"registry/{left.name}/{left.number}/ (its .claim stays)"
            )
        removed += len(collected.removed)
        for left in collected.kept:
            ago = _minutes_ago(left.modified, collected.now)
            typer.echo(
                f"kept {left.name}@{left.number}: written to {ago}, "
                f"under --older-than {older_than}: a register may be under way"
            )
    if not removed:
        typer.echo(
            f"nothing to remove in {registry.store.describe()}: no register stopped half-way "
            f"over {older_than} minutes ago"
        )


def _minutes_ago(moment: float, now: float) -> str:
    minutes = max(0, int((now - moment) // 60))
    return "under a minute ago" if minutes == 0 else f"{minutes} minutes ago"


@app.command("serve")
def serve(
    model: Annotated[
        str | None,
        typer.Option(
            help="NAME@ALIAS, NAME@VERSION or a folder [env: CUISINEFLOW_MODEL, default "
            "cuisine@latest]."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the model over HTTP (FastAPI on uvicorn).

    POST /v1/predict, GET /v1/model, POST /v1/model/reload (bearer CUISINEFLOW_RELOAD_TOKEN),
    GET /healthz, /readyz, /metrics (Prometheus), /openapi.json. The model is fetched from
    the store's registry, verified against its checksums, and loaded once per worker.
    """
    import os
    import socket

    import uvicorn

    from cuisineflow.registry import ModelRef
    from cuisineflow.settings import get_settings

    if model is not None:
        os.environ["CUISINEFLOW_MODEL"] = model
    # Fetched and verified once here: a bad reference is one clear error, not a traceback
    # from each worker, and the workers find the copy in the cache.
    settings = get_settings()
    ref = ModelRef.parse(settings.model)
    _, metadata = _registry().fetch(
        ref, _project_root() / settings.model_cache, settings.model_cache_versions
    )
    # Every worker starts at this version, a respawned one too, until a reload.
    exact = settings.model if ref.path is not None else f"{ref.name}@{metadata['version']}"
    # Workers inherit a pre-bound socket with TCP_NODELAY set: uvicorn's own socket for
    # several workers leaves it off, and every response then waits ~40 ms for an ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        raise CuisineflowError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    address = f"[{host}]" if ":" in host else host  # an IPv6 address, as a URL spells it
    typer.echo(f"serving on http://{address}:{port} with {workers} worker(s)", err=True)
    config = uvicorn.Config(
        "cuisineflow.serve.app:app_from_settings",
        factory=True,
        fd=sock.fileno(),
        workers=workers,
        log_level="warning",
        access_log=False,
        lifespan="on",  # a model that does not load or verify stops the server
    )
    server = uvicorn.Server(config)
    if workers == 1:
        server.run(sockets=[sock])
        return
    import tempfile

    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from cuisineflow.serve.app import MULTIPROCESS_VARIABLE, RELOAD_FILE_VARIABLE
    from cuisineflow.serve.model import ReloadSignal

    # A reload reaches one worker, which tells the others through a file here; the
    # workers' Prometheus values are kept here too, to be added up.
    with tempfile.TemporaryDirectory(prefix="cuisineflow-serve-") as folder:
        os.environ[RELOAD_FILE_VARIABLE] = str(Path(folder) / "reloaded")
        ReloadSignal(Path(folder) / "reloaded").announce(exact)
        os.environ[MULTIPROCESS_VARIABLE] = str(Path(folder) / "metrics")
        (Path(folder) / "metrics").mkdir()
        supervisor = Multiprocess(config, sockets=[sock])
        supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise CuisineflowError("a worker failed to start (above); the server stopped")


class LambdaArch(StrEnum):
    """The architectures Lambda runs."""

    x86_64 = "x86_64"
    arm64 = "arm64"


@lambda_app.command("package")
def lambda_package(
    output: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path("dist/lambda.zip"),
    arch: Annotated[
        LambdaArch,
        typer.Option(help="The function's architecture (arm64: deploy with Architecture=arm64)."),
    ] = (LambdaArch.x86_64),
) -> None:
    """Build the Lambda zip for the python3.12 runtime from manylinux wheels.

    It holds only what inference needs (numpy, pydantic, PyYAML and cuisineflow's
    prediction modules) and is checked against Lambda's limits. Deploy it with
    deploy/lambda/template.yaml (SAM).
    """
    from cuisineflow.aws_lambda.package import build

    if output.is_dir():
        raise CuisineflowError(f"--output {output} is a folder: give the path of the zip file")
    size = build(output, arch.value)
    typer.echo(
        f"{output}: {size.zipped / 2**20:.1f} MB zipped, {size.unzipped / 2**20:.1f} MB unzipped "
        "(limits: 50 MB zipped for direct upload, 250 MB unzipped)"
    )


def _when(text: str | None, option: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CuisineflowError(
            f"{option} {text!r}: give an ISO date or time, e.g. 2026-11-26T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command("monitor")
def monitor(
    model: Annotated[
        str | None,
        typer.Option(
            help="Model whose reference profile to compare with [default: CUISINEFLOW_MODEL, "
            "cuisine@latest]."
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window start (ISO, UTC unless given).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end, excluded.")] = None,
    log: Annotated[
        Path | None,
        typer.Option(
            help="Read Parquet logs (the server's and predict --log's) from this file or "
            "folder instead of the store."
        ),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="{id, cuisine} records, or Kaggle-format recipes, joined by id, instead of "
            "the labels recorded by `labels add`."
        ),
    ] = None,
    output: Annotated[Path, typer.Option(help="Folder for report.json and report.html.")] = Path(
        "monitoring-report"
    ),
) -> None:
    """Compare logged predictions with the model's reference profile; exit 1 if any alert fires.

    Input drift (ingredients the model never saw, shares of common ingredients, ingredients
    per recipe), prediction drift (cuisine mix), confidence drift, estimated accuracy from
    the calibrated probabilities, and realized accuracy and macro-F1 when labels are given
    (--labels, or recorded earlier with `cuisineflow labels add`). Thresholds: params.yaml
    monitor:. Exit status: 0 no alert, 1 an alert fired, 2 no verdict (no model or
    reference, an empty or too small window, bad input, a report that cannot be written),
    so that cron or CI can tell drift from a broken job.
    """
    try:
        _say_report(_monitor(model, since, until, log, labels, output), output)
    except (CuisineflowError, OSError) as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(2) from None
    except typer.Exit:
        raise
    except Exception:  # a defect: its traceback, and still not the alert status
        traceback.print_exc()
        raise typer.Exit(2) from None


def _say_report(report: dict[str, Any], output: Path) -> None:
    """Print what monitoring found, and exit 1 when an alert fired."""
    typer.echo(
        f"{report['n_predictions']} predictions; "
        f"estimated accuracy {report['estimated_accuracy']:.4f} "
        f"(reference {report['reference_accuracy_estimate']:.4f})"
    )
    if report["realized_accuracy"] is not None:
        typer.echo(
            f"realized accuracy {report['realized_accuracy']:.4f}, macro-F1 "
            f"{report['realized_macro_f1']:.4f}, on {report['labels']['matched']} labelled "
            "predictions"
        )
    if report["labels"]["unknown_ids"]:
        typer.echo(f"{report['labels']['unknown_ids']} labels have ids not in the window", err=True)
    if report["labels"]["repeated_predictions"]:
        typer.echo(
            f"{report['labels']['repeated_predictions']} earlier predictions of labelled ids "
            "left out: the latest prediction of each id counts",
            err=True,
        )
    for alert in report["alerts"]:
        which = f" ({alert['ingredient']})" if alert.get("ingredient") else ""
        typer.echo(
            f"ALERT {alert['name']}{which}: {alert['value']} (threshold {alert['threshold']}, "
            f"p = {alert['p_value']:.2g})"
        )
    typer.echo(f"report: {output / 'report.json'}, {output / 'report.html'}")
    if report["alerts"]:
        raise typer.Exit(1)


def _monitor(
    model: str | None,
    since: str | None,
    until: str | None,
    log: Path | None,
    labels: Path | None,
    output: Path,
) -> dict[str, Any]:
    """The monitor command's work: the report, written to output and to the store."""
    import json

    from cuisineflow.monitoring.report import build_report
    from cuisineflow.monitoring.window import by_model, read_labels, read_predictions
    from cuisineflow.params import load_params
    from cuisineflow.registry import ModelRef
    from cuisineflow.reports.html import PAGES
    from cuisineflow.reports.pages import monitor_page
    from cuisineflow.settings import get_settings
    from cuisineflow.storage.local import atomic_write_bytes

    if output.exists() and not output.is_dir():
        raise CuisineflowError(f"--output {output} is a file: give a folder for the report")
    start, end = _when(since, "--since"), _when(until, "--until")
    if start is not None and end is not None and start >= end:
        raise CuisineflowError(f"--since {since} is not before --until {until}: an empty window")
    root = _project_root()
    registry = _registry()
    name, version, reference = registry.monitored(ModelRef.parse(model or get_settings().model))
    window = by_model(read_predictions(registry.store, start, end, log), name, version)
    bounds = {"since": since, "until": until, "model": f"{name}@{version}"}
    report = build_report(reference, window, read_labels(registry.store, labels),
                          load_params(root / "params.yaml").monitor, bounds)  # fmt: skip
    atomic_write_bytes(
        output / "report.json", json.dumps(report, indent=2, allow_nan=False).encode()
    )
    atomic_write_bytes(output / "report.html", monitor_page(report, links=()).encode())
    # The pipeline's page is reports/monitoring.html, per day. The store's copy links to
    # the pipeline's pages that are beside it.
    beside = [kind for kind in PAGES if registry.store.exists(f"reports/{kind}.html")]
    registry.store.write_bytes("reports/monitor.html", monitor_page(report, beside).encode())
    return report


@labels_app.command("add")
def labels_add(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="SOURCE",
            help="{id, cuisine} records, or Kaggle-format recipes (zip, JSON, JSON Lines).",
        ),
    ],
) -> None:
    """Record true cuisines that arrived later; `monitor` joins them to predictions by id."""
    from cuisineflow.monitoring.window import add_labels

    count = add_labels(_registry().store, source)
    typer.echo(f"recorded {count} labels")


@app.command("report")
def report(
    kinds: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="KINDS", help="data, model, experiments, monitoring or all [default: all]."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the HTML files [default: reports/]; only pages in reports/ are "
            "copied to <store>/reports/."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="The model whose logs the monitoring page shows [default: "
            "CUISINEFLOW_MODEL, cuisine@latest]."
        ),
    ] = None,
) -> None:
    """Self-contained HTML reports with plots; those in reports/ also copied to <store>/reports/.

    data: recipes per cuisine, ingredients per recipe, common and distinctive ingredients,
    validation. model: metrics, per-cuisine table, confusion matrix, calibration, most
    confused pairs with examples, lineage. experiments: the DVC experiments compared.
    monitoring: drift and estimated and realized accuracy per day. Each page has every
    image inline and loads nothing from the network.
    """
    from cuisineflow.stages import report as stage
    from cuisineflow.storage.dvc import DvcRepo

    asked = tuple(kinds or ["all"])
    chosen = stage.KINDS if "all" in asked else asked
    unknown = sorted(set(chosen) - set(stage.KINDS))
    if unknown:
        raise CuisineflowError(
            f"unknown report {', '.join(unknown)}: choose from {', '.join(stage.KINDS)} or all"
        )
    for path in stage.run(DvcRepo.find().root, tuple(chosen), output, model):
        typer.echo(f"wrote {path}")


# The --model of `predict` and `score`: resolved by _model_folder.
ModelOption = Annotated[
    str | None,
    typer.Option(
        help="Model folder, NAME@VERSION or NAME@ALIAS [default: the pipeline's models/cuisine]."
    ),
]


class PredictionFormat(StrEnum):
    """How `predict` writes its predictions."""

    jsonl = "jsonl"
    kaggle_csv = "kaggle-csv"


@app.command("predict")
def predict(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="JSON array, JSON Lines or Kaggle zip.")
    ],
    model: ModelOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Write here instead of standard output: a file (or a link's target) "
            "atomically, a pipe or device straight."
        ),
    ] = None,
    output_format: Annotated[
        PredictionFormat,
        typer.Option(
            "--format", help="jsonl: id, cuisine, confidence, top 3; kaggle-csv: id,cuisine."
        ),
    ] = PredictionFormat.jsonl,
    skip_invalid: Annotated[
        bool, typer.Option(help="Skip malformed records (and say how many) instead of failing.")
    ] = False,
    log: Annotated[
        bool, typer.Option("--log", help="Also log the predictions to <store>/monitoring.")
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Predict runs of 1,000+ recipes side by side on this many threads "
            "[default: the usable cores]. The predictions are the same for any number.",
        ),
    ] = None,
) -> None:
    """Batch prediction for Kaggle-format recipes ({id, ingredients}; cuisine is ignored)."""
    from cuisineflow.data.batch import read_batch
    from cuisineflow.predict import Predictor, format_predictions, usable_cores
    from cuisineflow.storage.local import write_output

    if output is not None and output.is_dir():
        raise CuisineflowError(f"--output {output} is a folder: give the path of a file")
    if output is not None and not output.absolute().parent.is_dir():  # a typo: say so
        raise CuisineflowError(f"--output {output}: there is no folder {output.parent}")
    if output is not None and _same_file(output, input_path):
        raise CuisineflowError(
            f"--output {output} is the input file: the predictions would replace the recipes"
        )
    require_id = output_format is PredictionFormat.kaggle_csv  # a row without one is unscored
    batch = read_batch(input_path, skip_invalid=skip_invalid, require_id=require_id)
    if not batch.recipes and not batch.skipped:
        raise CuisineflowError(f"{input_path}: holds no recipes to predict")
    if not batch.recipes:  # a wrong file (a CSV, say): an empty output would look like success
        raise CuisineflowError(
            f"{input_path}: all {len(batch.skipped)} records are invalid, first: {batch.skipped[0]}"
        )
    folder, name, version, registered = _model_folder(model)
    registry = _registry() if log else None  # a bad store setting fails before any output
    predictor = Predictor(folder)
    started = time.perf_counter()
    predictions = predictor.predict(
        [r.ingredients for r in batch.recipes], threads or usable_cores()
    )
    latency_ms = (time.perf_counter() - started) * 1e3
    ids = [r.id for r in batch.recipes]
    # The predictions first: a log that cannot be written must not cost them (as in serve).
    text = format_predictions(ids, predictions, output_format.value)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text.encode())
        typer.echo(f"{len(predictions)} predictions written to {output}", err=True)
    if batch.skipped:
        typer.echo(
            f"skipped {len(batch.skipped)} invalid records, first: {batch.skipped[0]}", err=True
        )
    # As the CSV writes them: 5 and "5" are one id there.
    repeated = len(ids) - len({str(i) for i in ids})
    if repeated and require_id:  # Kaggle scores one row per id
        typer.echo(f"warning: {repeated} ids appear more than once in {input_path}", err=True)
    if registry is not None:
        import uuid

        from cuisineflow.monitoring.log import PredictionLogger, records_for

        logger = PredictionLogger(registry.store, max_buffer=len(predictions) + 1)
        if version is None:  # a folder: the registered version with its content, if any
            name, version = registry.identify(folder, prefer=registered)
        logger.log(records_for(predictions, [(r.id, r.ingredients) for r in batch.recipes],
                               str(name), version, uuid.uuid4().hex, latency_ms))  # fmt: skip
        logger.close()
        if logger.dropped:
            raise CuisineflowError(
                f"the predictions were written, but {logger.dropped} prediction log records "
                f"could not be written to {registry.store.describe()}"
            )


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (links and ../ included); False if either is absent."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _model_folder(
    model: str | None,
) -> tuple[Path, str | None, str | None, tuple[str, int] | None]:
    """The folder of a --model (default: the pipeline's models/cuisine); the registry name
    and version it was fetched as, if any; and the pipeline's register record, if any (see
    `_still_registered`)."""
    from cuisineflow.paths import PIPELINE_MODEL_DIR
    from cuisineflow.registry import ModelRef, read_registered
    from cuisineflow.settings import get_settings
    from cuisineflow.storage.dvc import DvcRepo

    if model is None:
        root = DvcRepo.find().root
        record = read_registered(root)
        registered = (str(record["name"]), int(record["version"])) if record else None
        return root / PIPELINE_MODEL_DIR, None, None, registered
    ref = ModelRef.parse(model)  # a folder, or a registry version fetched and verified
    if ref.path is not None:
        return ref.path, None, None, None
    settings = get_settings()
    cache = _project_root() / settings.model_cache
    folder, metadata = _registry().fetch(ref, cache, settings.model_cache_versions)
    return folder, ref.name, str(metadata["version"]), None


def _still_registered(
    registered: tuple[str, int] | None, predictor: Predictor
) -> tuple[str, int] | None:
    """`_model_folder`'s register record, while models/cuisine still holds what was
    registered (a `refit` since then has changed it), by the checksums the predictor's load
    verified: the model's files are read once."""
    if registered is None:
        return None
    from cuisineflow.stages.register import current_record
    from cuisineflow.storage.dvc import DvcRepo

    record = current_record(DvcRepo.find().root, predictor.spec["sha256"])
    return (str(record["name"]), int(record["version"])) if record else None


class ScoreFormat(StrEnum):
    """How `score` prints its scores."""

    table = "table"
    json = "json"


@app.command("score")
def score_command(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="Labelled recipes ({id, cuisine, ingredients}): JSON array, JSON Lines or "
            "Kaggle zip.",
        ),
    ],
    model: ModelOption = None,
    output_format: Annotated[
        ScoreFormat,
        typer.Option(
            "--format", help="table: summary and per cuisine; json: every metric, confusion too."
        ),
    ] = ScoreFormat.table,
) -> None:
    """Score a model on labelled recipes, such as recipes kept back from the pipeline.

    Prints accuracy (with its 95% interval), macro-F1, top-3 accuracy, calibration error
    and precision, recall and F1 per cuisine, scored through the serving path. Recipes
    whose ingredients the project's own splits (data/split) also hold are counted, and
    named when the model learnt from their split (the served refit learnt from all three).
    """
    from cuisineflow.data.rawfiles import read_raw_file
    from cuisineflow.predict import Predictor
    from cuisineflow.scoring import labelled_recipes, score_file, scores_json, scores_table

    recipes = labelled_recipes(read_raw_file(input_path), input_path.name)
    folder, name, version, registered = _model_folder(model)
    predictor = Predictor(folder)  # a bad model is named by its own error, not the file's
    registered = _still_registered(registered, predictor)
    result = score_file(_project_root(), folder, predictor, recipes)
    described = f"{name}@{version}" if name else (
        f"{registered[0]}@{registered[1]} ({folder})" if registered else str(folder)
    )  # fmt: skip
    if output_format is ScoreFormat.json:
        typer.echo(scores_json(result, described))
        return
    table, notes = scores_table(result, described, input_path.name)
    typer.echo(table)
    for note in notes:
        typer.echo(note, err=True)


class S3SelectInput(StrEnum):
    """The lake's raw copies S3 Select can read."""

    jsonl = "jsonl"
    csv = "csv"


class QueryEngine(StrEnum):
    """Which engine runs a query."""

    duckdb = "duckdb"
    s3select = "s3select"


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="The SQL query.")],
    engine: Annotated[
        QueryEngine, typer.Option(help="duckdb: the Parquet lake; s3select: the raw copy in S3.")
    ] = QueryEngine.duckdb,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, csv, or json (one object a line).")
    ] = OutputFormat.table,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many rows.")] = None,
    s3select_input: Annotated[
        S3SelectInput, typer.Option(help="The raw copy S3 Select reads.")
    ] = S3SelectInput.jsonl,
) -> None:
    """SQL over the lake, in place (local or S3 store).

    DuckDB tables: recipes(id, ingredients, n_ingredients, split, cuisine),
    recipe_ingredients(ingredient, id, cuisine, split), ingredients(ingredient,
    n_recipes, n_labelled). Example:

      cuisineflow query "SELECT cuisine, count(*) AS n FROM recipes GROUP BY 1 ORDER BY n DESC"

    With --engine s3select the query runs through S3 Select on the raw JSON Lines copy
    (table s3object). The embedded endpoint only handles column lists, COUNT(*) and one
    string comparison in WHERE (s.cuisine = 'thai'). One SELECT (or an EXPLAIN of one)
    runs: nothing writes.
    """
    from cuisineflow.data import query
    from cuisineflow.reports.text import format_table

    table = query(sql, engine=engine.value, limit=limit, s3select_input=s3select_input.value)
    typer.echo(format_table(table, output_format.value), nl=False)
    _warn_if_lake_is_of_other_data()


def _warn_if_lake_is_of_other_data() -> None:
    """The store's lake is what the last `lake` stage wrote there, maybe from other data."""
    from cuisineflow.settings import get_settings
    from cuisineflow.stages.lake import manifests
    from cuisineflow.storage import open_store

    root = _project_root()
    workspace, published = manifests(root, open_store(get_settings(), root))
    if workspace and published and published.get("raw_hash") != workspace.get("raw_hash"):
        typer.echo(
            f"warning: the store's lake holds raw data {published.get('raw_hash')}, the "
            f"workspace {workspace.get('raw_hash')}: `cuisineflow run` publishes the workspace's",
            err=True,
        )


@app.command("run")
def run(
    source: Annotated[
        str | None,
        typer.Option(help="Raw data to import when data/raw is absent [env: CUISINEFLOW_SOURCE]."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-run every stage, even if up to date.")] = False,
) -> None:
    """The main job: raw data in, pipeline reproduced, results pushed to the store."""
    from cuisineflow.workflow import run_workflow

    started = time.monotonic()
    summary = run_workflow(source=source, force=force)
    typer.echo(summary.render(time.monotonic() - started))


def _repo_and_store() -> tuple[DvcRepo, Store]:
    """The project's DVC repository with its remote pointed at the reachable store."""
    from cuisineflow.settings import get_settings
    from cuisineflow.storage import open_store
    from cuisineflow.storage.dvc import DvcRepo

    repo = DvcRepo.find()
    store = open_store(get_settings(), repo.root)
    store.check()
    repo.configure_remote(store)
    return repo, store


def main() -> None:
    """Console entry point: user errors, and the system's refusals (OSError), become one
    message and exit status 1."""
    try:
        app()
    except CuisineflowError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None
    except OSError as error:  # writing an output: a full disk, a read-only folder, and so on
        where = f"{error.filename}: " if error.filename else ""
        typer.secho(f"error: {where}{error.strerror or error}", err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
