"""Recipes to predict, from a JSON array, JSON Lines or a Kaggle zip: checked one by one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cuisineflow.data.rawfiles import load_raw_records
from cuisineflow.data.validation import InvalidJson
from cuisineflow.errors import DataError
from cuisineflow.schemas import EncodableStr, RecipeId


class RecipeToPredict(BaseModel):
    """What prediction needs of a recipe; `cuisine`, if present, is ignored."""

    model_config = ConfigDict(extra="ignore")

    id: RecipeId | None = None
    ingredients: list[EncodableStr] = Field(min_length=1)


@dataclass
class Batch:
    """The valid recipes in input order, and what was skipped."""

    recipes: list[RecipeToPredict]
    skipped: list[str]


def read_batch(path: Path, skip_invalid: bool = False, require_id: bool = False) -> Batch:
    """Read every record; a bad one raises a DataError naming it, unless skipped.

    With `require_id` (Kaggle's CSV), a record without an id is a bad one.
    """
    recipes, skipped = [], []
    for record in load_raw_records(path, for_lake=False):  # any file name will do
        where = record.where
        try:
            if isinstance(record.value, InvalidJson):
                raise DataError(f"{path.name}: {where}: invalid JSON")
            recipe = RecipeToPredict.model_validate(record.value)
            if require_id and recipe.id is None:
                raise DataError(f"{path.name}: {where}: field 'id': kaggle-csv needs an id")
            if any(not item.strip() for item in recipe.ingredients):
                raise DataError(
                    f"{path.name}: {where}: field 'ingredients': an ingredient is empty"
                )
            recipes.append(recipe)
        except (ValidationError, DataError) as error:
            message = str(error) if isinstance(error, DataError) else _describe(error, path, where)
            if not skip_invalid:
                raise DataError(f"{message} (use --skip-invalid to skip such records)") from None
            skipped.append(message)
    return Batch(recipes, skipped)


def _describe(error: ValidationError, path: Path, where: str) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "record"
    return f"{path.name}: {where}: field {field!r}: {first['msg']}"
