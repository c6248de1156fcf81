"""Typed sections of params.yaml: what changes results (rules, seeds, features, models)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from cuisineflow.errors import DataError
from cuisineflow.schemas import CUISINES, REGISTRY_NAME

SEED_MAX = 2**32 - 1  # numpy and scikit-learn take seeds from 0 to 2**32 - 1


class _Section(BaseModel):
    # strict: "7" is no seed and true no top_k (YAML quoting slips); an int is still a float.
    # No .inf or .nan (YAML spells them): no param means them, and scikit-learn fails later.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class ValidateParams(_Section):
    """Rules and thresholds of the `validate` stage."""

    max_rejected_fraction: float = Field(default=0.05, ge=0, le=1)
    max_ingredients: int = Field(default=100, ge=1)
    duplicate_recipes: Literal["quarantine", "keep"] = "quarantine"
    forbidden_characters: str = "|"


class LakeParams(_Section):
    """Layout of the Parquet lake written by the `lake` stage."""

    recipes_row_group_size: int = Field(default=8192, ge=256)
    index_row_group_size: int = Field(default=4096, ge=256)
    csv_separator: str = Field(default="|", min_length=1, max_length=1)


class SplitParams(_Section):
    """Train / valid / test split of the labelled recipes: stratified, or by id hash."""

    method: Literal["stratified", "id_hash"] = "stratified"
    seed: int = 42  # stratified: numpy's seed (0 to SEED_MAX); id_hash: any integer, hashed
    valid_size: float = Field(default=0.1, gt=0, lt=0.5)
    test_size: float = Field(default=0.1, gt=0, lt=0.5)

    @model_validator(mode="after")
    def _stratified_seed_is_numpys(self) -> SplitParams:
        if self.method == "stratified" and not 0 <= self.seed <= SEED_MAX:
            raise ValueError(
                f"split.seed {self.seed} must lie in 0 to {SEED_MAX} for method stratified "
                "(numpy's seeds); id_hash takes any integer"
            )
        return self


Analyzer = Literal["words", "words_and_bigrams", "ingredients", "word_pairs", "ingredient_pairs"]


class FeatureBlockParams(_Section):
    """One TF-IDF vectoriser over normalised ingredients."""

    analyzer: Analyzer
    min_df: int = Field(default=1, ge=1)
    sublinear_tf: bool = True
    weight: float = Field(default=1.0, gt=0)


def _default_blocks() -> list[FeatureBlockParams]:
    return [
        FeatureBlockParams(analyzer="words_and_bigrams", min_df=1),
        FeatureBlockParams(analyzer="word_pairs", min_df=2),
    ]


class FeaturizeParams(_Section):
    """Vectorisers, side by side, and which split rows the vocabulary is learnt from."""

    blocks: list[FeatureBlockParams] = Field(default_factory=_default_blocks, min_length=1)
    fit_on: Literal["train", "train_valid"] = "train_valid"

    @property
    def fit_splits(self) -> tuple[str, ...]:
        """The splits a model learns from: train, or train and valid together."""
        return ("train", "valid") if self.fit_on == "train_valid" else ("train",)


def _default_tree_analyzers() -> list[Analyzer]:
    return ["words_and_bigrams"]


class TreesParams(_Section):
    """Gradient-boosted trees (LightGBM) blended with the linear model; weight 0 turns them off.

    The trees split on whether a recipe has a feature of the named featurize blocks; they add
    conjunctions of many ingredients that the linear model cannot weigh (+0.001 to +0.002 in
    5-fold CV of the default params: benchmarks/blend.py).
    """

    weight: float = Field(default=0.3, ge=0, lt=1)  # share of the trees' log-probabilities
    analyzers: list[Analyzer] = Field(default_factory=_default_tree_analyzers, min_length=1)
    min_df: int = Field(default=3, ge=1)  # features present in fewer training recipes are left out
    rounds: int = Field(default=100, ge=1)
    learning_rate: float = Field(default=0.2, gt=0, le=1)
    num_leaves: int = Field(default=31, ge=2, le=32)  # at most 32: served as 32-bit leaf masks
    min_child_samples: int = Field(default=5, ge=1)
    feature_fraction: float = Field(default=0.4, gt=0, le=1)
    l2: float = Field(default=1.0, ge=0)


class TrainParams(_Section):
    """The model, its regularisation and its probability calibration; optionally trees too."""

    model: Literal["linear_svc", "logistic_regression"] = "linear_svc"
    C: float = Field(default=0.5, gt=0)
    calibration: Literal["temperature", "sigmoid"] = "temperature"
    calibration_folds: int = Field(default=5, ge=2)
    max_iter: int = Field(default=2000, ge=10)
    seed: int = Field(default=0, ge=0, le=SEED_MAX)
    trees: TreesParams = Field(default_factory=TreesParams)


class EvaluateParams(_Section):
    """How the evaluation summarises."""

    calibration_bins: int = Field(default=15, ge=2)
    top_k: int = Field(default=3, ge=1, le=len(CUISINES))


class RefitParams(_Section):
    """Which recipes the served model learns from, once `evaluate` has scored the params."""

    # all_labelled: train, valid and test (about 11% more recipes than the evaluated fit; the
    # test score then estimates it from below). none: serve the evaluated model itself.
    recipes: Literal["all_labelled", "none"] = "all_labelled"


class RegisterParams(_Section):
    """Which registry name the pipeline's model goes under, and the alias it then gets."""

    name: str = Field(default="cuisine", pattern=REGISTRY_NAME)
    alias: str = Field(default="latest", pattern=REGISTRY_NAME)

    @model_validator(mode="after")
    def _alias_is_no_version(self) -> RegisterParams:
        if self.alias.isdigit():  # `cuisine@3` is version 3, never an alias
            raise ValueError(f"register.alias {self.alias!r}: use a name such as latest")
        return self


# Draws of monitoring's Monte Carlo tests (monitoring/drift.py). Their p-values are never
# under 1 / (draws + 1), so an alpha that small would keep them from ever alerting.
MONITOR_DRAWS = 10_000


class MonitorParams(_Section):
    """Alert thresholds of `cuisineflow monitor`: a change must be significant and large."""

    alpha: float = Field(default=0.001, gt=0, lt=1)
    max_out_of_vocabulary_increase: float = Field(default=0.03, ge=0)
    max_ingredient_shift: float = Field(default=0.05, ge=0, le=1)
    max_distribution_distance: float = Field(default=0.1, ge=0, le=1)
    max_estimated_accuracy_drop: float = Field(default=0.05, ge=0)
    min_realized_accuracy: float = Field(default=0.75, ge=0, le=1)
    min_window: int = Field(default=100, ge=1)

    @field_validator("alpha")
    @classmethod
    def _monte_carlo_tests_can_alert(cls, alpha: float) -> float:
        if alpha * MONITOR_DRAWS < 1:
            raise ValueError(
                f"{alpha} is under {1 / MONITOR_DRAWS}, the smallest allowed: the tests of "
                f"cuisine mix, confidence and ingredients per recipe draw {MONITOR_DRAWS:,} "
                f"Monte Carlo samples, so their p-values never fall under 1/{MONITOR_DRAWS + 1:,} "
                "and they could never alert"
            )
        return alpha


class Params(_Section):
    """Every section of params.yaml; absent sections take their defaults here (dvc.yaml
    names each section as a stage's params, so the pipeline needs them all written)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)  # a misspelt section too

    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    lake: LakeParams = Field(default_factory=LakeParams)
    split: SplitParams = Field(default_factory=SplitParams)
    featurize: FeaturizeParams = Field(default_factory=FeaturizeParams)
    train: TrainParams = Field(default_factory=TrainParams)
    evaluate: EvaluateParams = Field(default_factory=EvaluateParams)
    refit: RefitParams = Field(default_factory=RefitParams)
    register_: RegisterParams = Field(default_factory=RegisterParams, alias="register")
    monitor: MonitorParams = Field(default_factory=MonitorParams)

    @model_validator(mode="after")
    def _trees_split_on_featurized_blocks(self) -> Params:
        known = {block.analyzer for block in self.featurize.blocks}
        unknown = [a for a in self.train.trees.analyzers if a not in known]
        if self.train.trees.weight > 0 and unknown:
            raise ValueError(
                f"train.trees.analyzers {unknown} are not among featurize.blocks' analyzers "
                f"({sorted(known)})"
            )
        return self

    @model_validator(mode="after")
    def _separator_is_forbidden(self) -> Params:
        # The CSV copy joins a recipe's ingredients with it: no ingredient may hold it.
        if self.lake.csv_separator not in self.validate_.forbidden_characters:
            raise ValueError(
                f"lake.csv_separator {self.lake.csv_separator!r} must be one of "
                f"validate.forbidden_characters ({self.validate_.forbidden_characters!r})"
            )
        return self


def load_params(path: Path = Path("params.yaml")) -> Params:
    """Read and check params.yaml; a wrong key or value is named in a DataError."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error})") from None
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML ({error})") from None
    try:
        return Params.model_validate(raw or {})
    except ValidationError as error:
        raise DataError(f"{path}: {'; '.join(map(_problem, error.errors()))}") from None


def _problem(error: ErrorDetails) -> str:
    """One key's problem; a check across sections names its keys in its message itself."""
    message = error["msg"]
    if error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {message}" if location else message
