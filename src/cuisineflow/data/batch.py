"""Recipes to predict, from a JSON array, JSON Lines or a Kaggle zip: checked one by one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from cuisineflow.data.rawfiles import load_raw_records
from cuisineflow.data.validation import InvalidJson
from cuisineflow.errors import DataError
from cuisineflow.schemas import RecipeId, is_encodable


class RecipeToPredict(BaseModel):
    """What prediction needs of a recipe; `cuisine`, if present, is ignored."""

    model_config = ConfigDict(extra="ignore")

    id: RecipeId | None = None
    ingredients: list[StrictStr] = Field(min_length=1)

    @field_validator("ingredients")
    @classmethod
    def _encodable(cls, ingredients: list[str]) -> list[str]:
        # One check a recipe, not one an ingredient (a batch holds ~100,000): UTF-8 cannot
        # write a lone surrogate ("\udc00", which JSON can spell) to the output or the log.
        try:
            "".join(ingredients).encode("utf-8")
        except UnicodeEncodeError:
            first = next(i for i, text in enumerate(ingredients) if not is_encodable(text))
            raise PydanticCustomError(
                "unencodable",
                "item {item} should be text UTF-8 can encode, not a lone surrogate",
                {"item": first + 1},
            ) from None
        return ingredients


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
