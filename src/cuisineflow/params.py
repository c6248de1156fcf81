"""Typed sections of params.yaml: what changes results (rules, seeds, features, models)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cuisineflow.errors import DataError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Params(_Section):
    """Every section of params.yaml; absent sections take their defaults."""

    model_config = ConfigDict(extra="allow", frozen=True)

    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    lake: LakeParams = Field(default_factory=LakeParams)


def load_params(path: Path = Path("params.yaml")) -> Params:
    """Read and check params.yaml; a wrong key or value is named in a DataError."""
    try:
        raw = yaml.safe_load(path.read_text()) if path.exists() else {}
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML ({error})") from None
    try:
        return Params.model_validate(raw or {})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise DataError(f"{path}: {problems}") from None
