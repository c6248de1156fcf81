"""The servable model on disk: JSON, term lists and .npy arrays; it loads without pickle."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from cuisineflow.errors import CuisineflowError
from cuisineflow.features import Featurizer, FittedBlock
from cuisineflow.models.ensemble import Ensemble
from cuisineflow.models.linear import LinearClassifier
from cuisineflow.models.trees import TreeEnsemble
from cuisineflow.params import FeatureBlockParams

FORMAT = "cuisineflow-linear"
FORMAT_VERSION = 2  # 2 adds optional boosted trees; version 1 folders (linear only) still load
READABLE_VERSIONS = (1, 2)
TREE_ARRAYS = ("node_feature", "node_tree", "node_mask", "leaf_value")
SPEC = "model.json"
FEATURIZER_SPEC = "featurizer.json"


class ModelError(CuisineflowError):
    """A model artifact that is missing, partial, tampered with, or of an unknown format."""


def plain_file_name(name: object, where: str) -> str:
    """A file name of a model folder, checked: its files lie side by side, so a name with a
    folder part, `..` or a drive (from a tampered model.json or metadata.json) would read
    or write outside the folder."""
    if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "/\\:\0"):
        raise ModelError(f"{where}: {name!r} is not a file name of a model folder: refusing it")
    return name


def mismatched_files(
    folder: Path, checksums: dict[str, str], where: str, verified: Mapping[str, str] | None = None
) -> list[str]:
    """The files of `checksums` (name -> sha256) that are missing from the folder, differ,
    or are symbolic links (a link could point anywhere: its checksum would vouch for that).
    `where` names the listing, for a name that is no plain file name. `verified`: the sha256
    of files a load has just checked (`load_model`'s), taken instead of reading them again."""
    verified = verified or {}
    return [
        name
        for name, expected in checksums.items()
        if (path := folder / plain_file_name(name, where)).is_symlink()
        or not path.exists()
        or (verified[name] if name in verified else file_sha256(path)) != expected
    ]


def save_featurizer(folder: Path, featurizer: Featurizer) -> list[dict[str, Any]]:
    """Write each block's terms (one a line) and IDF weights; return the blocks' entries."""
    folder.mkdir(parents=True, exist_ok=True)
    blocks = []
    for i, block in enumerate(featurizer.blocks):
        terms, idf = f"terms-{i}.txt", f"idf-{i}.npy"
        (folder / terms).write_text("".join(t + "\n" for t in block.terms), "utf-8")
        np.save(folder / idf, np.ascontiguousarray(block.idf), allow_pickle=False)
        blocks.append({"params": block.params.model_dump(), "terms": terms, "idf": idf})
    (folder / FEATURIZER_SPEC).write_text(json.dumps(blocks, indent=2, sort_keys=True) + "\n")
    return blocks


def load_featurizer(folder: Path, blocks: list[dict[str, Any]] | None = None) -> Featurizer:
    """Read the blocks written by save_featurizer; a block whose files disagree is refused."""
    if blocks is None:
        blocks = json.loads((folder / FEATURIZER_SPEC).read_text())
    where = str(folder / FEATURIZER_SPEC)
    return Featurizer([_load_block(folder, entry, where) for entry in blocks])


def _load_block(folder: Path, entry: dict[str, Any], where: str) -> FittedBlock:
    """One block, checked: checksums vouch for its files, not that they agree, and a
    mismatch would fail (or mislead) only at prediction time."""
    params = FeatureBlockParams.model_validate(entry["params"])
    terms_path = folder / plain_file_name(entry["terms"], where)
    try:
        terms = terms_path.read_text("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ModelError(f"{terms_path}: the terms are not UTF-8 ({error})") from None
    idf_path = folder / plain_file_name(entry["idf"], where)
    idf = _array(idf_path)
    if idf.shape != (len(terms),) or idf.dtype.kind != "f":
        raise ModelError(
            f"{idf_path}: holds {idf.dtype} {idf.shape}, but {terms_path.name}'s "
            f"{len(terms)} terms need floats ({len(terms)},)"
        )
    return FittedBlock(params=params, terms=terms, idf=idf)


def save_model(folder: Path, featurizer: Featurizer, classifier: Ensemble) -> dict[str, Any]:
    """Write the artifact's files into a folder; return its spec, checksums included."""
    blocks = save_featurizer(folder, featurizer)
    linear, trees = classifier.linear, classifier.trees
    arrays = {
        "coef": linear.coef,
        "intercept": linear.intercept,
        "calibration": linear.calibration_params,
    }
    if trees is not None:
        arrays |= {f"trees-{name}": getattr(trees, name) for name in TREE_ARRAYS}
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    files = sorted(p.name for p in folder.iterdir() if p.name != SPEC)
    spec = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if trees is not None else 1,  # 1: readable by older
        "classes": list(classifier.classes),
        "calibration": linear.calibration,
        "trees": None if trees is None else {"weight": classifier.trees_weight},
        "blocks": blocks,
        "n_features": featurizer.n_features,
        "sha256": {name: file_sha256(folder / name) for name in files},
    }
    (folder / SPEC).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    return spec


def load_model(folder: Path) -> tuple[Featurizer, Ensemble, dict[str, Any]]:
    """Read and verify an artifact: every file must match the checksum in model.json."""
    if (folder / SPEC).is_symlink():
        raise ModelError(f"{folder}: {SPEC} is a symbolic link: refusing to load")
    try:
        spec = json.loads((folder / SPEC).read_text())
    except FileNotFoundError:
        raise ModelError(f"{folder}: no {SPEC}; not a cuisineflow model folder") from None
    except json.JSONDecodeError as error:
        raise ModelError(f"{folder / SPEC}: not valid JSON ({error})") from None
    if not isinstance(spec, dict):
        raise ModelError(f"{folder / SPEC}: not a model spec (a JSON object)")
    if spec.get("format") != FORMAT or spec.get("format_version") not in READABLE_VERSIONS:
        raise ModelError(
            f"{folder}: unknown model format {spec.get('format')!r} "
            f"version {spec.get('format_version')!r}"
        )
    kinds = {"sha256": dict, "classes": list, "blocks": list, "calibration": str}
    wrong = [key for key, kind in kinds.items() if not isinstance(spec.get(key), kind)]
    if not wrong and not all(
        isinstance(block, dict) and {"params", "terms", "idf"} <= block.keys()
        for block in spec["blocks"]
    ):
        wrong.append("blocks")
    if not isinstance(spec.get("trees"), dict | None):
        wrong.append("trees")
    if wrong:
        raise ModelError(f"{folder / SPEC}: {', '.join(wrong)} missing or malformed")
    for name, expected in spec["sha256"].items():
        path = folder / plain_file_name(name, str(folder / SPEC))
        if path.is_symlink():  # it could point anywhere: the checksum would vouch for that
            raise ModelError(f"{folder}: {name} is a symbolic link: refusing to load")
        if not path.exists():
            raise ModelError(f"{folder}: {name} is missing: the artifact is partial")
        if file_sha256(path) != expected:
            raise ModelError(f"{folder}: {name} does not match its checksum: refusing to load")
    # Everything read below must be a checked file: an unlisted one could be anything.
    reads = {"coef.npy", "intercept.npy", "calibration.npy"}
    has_trees = spec.get("trees") is not None
    reads |= {f"trees-{name}.npy" for name in TREE_ARRAYS} if has_trees else set()
    reads |= {
        plain_file_name(entry[key], str(folder / SPEC))
        for entry in spec["blocks"]
        for key in ("terms", "idf")
    }
    unlisted = sorted(str(name) for name in reads - set(spec["sha256"]))
    if unlisted:
        raise ModelError(
            f"{folder}: {', '.join(unlisted)} not listed in {SPEC}'s checksums: refusing to load"
        )
    try:
        featurizer = load_featurizer(folder, spec["blocks"])
    except ValidationError as error:
        raise ModelError(f"{folder / SPEC}: blocks malformed ({_first_problem(error)})") from None
    linear = LinearClassifier(
        classes=tuple(spec["classes"]),
        coef=_array(folder / "coef.npy"),
        intercept=_array(folder / "intercept.npy"),
        calibration=spec["calibration"],
        calibration_params=_array(folder / "calibration.npy"),
    )
    _check_linear(folder, linear, featurizer.n_features)
    classifier = Ensemble(linear)
    if has_trees:
        weight = spec["trees"].get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
            raise ModelError(f"{folder / SPEC}: trees' weight {weight!r} is not between 0 and 1")
        arrays = {name: _array(folder / f"trees-{name}.npy") for name in TREE_ARRAYS}
        try:
            trees = TreeEnsemble(n_classes=len(linear.classes), **arrays)
        except ValueError as error:
            raise ModelError(f"{folder}: {error}") from None
        classifier = Ensemble(linear, trees, float(weight))
    return featurizer, classifier, spec


def _check_linear(folder: Path, linear: LinearClassifier, n_features: int) -> None:
    """Refuse a model.json that disagrees with its own arrays: checksums vouch for the arrays,
    not for model.json, and a mismatch would fail (or mislead) only at prediction time."""
    classes = linear.classes
    if not classes or not all(isinstance(c, str) and c for c in classes):
        raise ModelError(f"{folder / SPEC}: classes must be names of cuisines, not {classes!r}")
    if len(set(classes)) != len(classes):
        raise ModelError(f"{folder / SPEC}: classes name a cuisine twice")
    if linear.calibration not in ("temperature", "sigmoid"):
        raise ModelError(f"{folder / SPEC}: unknown calibration {linear.calibration!r}")
    expected = {
        "coef.npy": (len(classes), n_features),
        "intercept.npy": (len(classes),),
        "calibration.npy": (1,) if linear.calibration == "temperature" else (2, len(classes)),
    }
    arrays = {
        "coef.npy": linear.coef,
        "intercept.npy": linear.intercept,
        "calibration.npy": linear.calibration_params,
    }
    for name, shape in expected.items():
        array = arrays[name]
        if array.shape != shape or array.dtype.kind != "f":
            raise ModelError(
                f"{folder}: {name} holds {array.dtype} {array.shape}, but model.json's "
                f"{len(classes)} classes and {n_features} features need floats {shape}"
            )


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else str(problem["msg"])


def _array(path: Path) -> np.ndarray:
    loaded: np.ndarray = np.load(path, allow_pickle=False)  # never unpickle
    return loaded


def file_sha256(path: Path) -> str:
    """A file's sha256, read in chunks: the checksums of model folders and versions."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
