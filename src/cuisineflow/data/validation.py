"""Validation rules for raw recipes (pure): each record is kept, normalised, or quarantined."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cuisineflow.features import stored_ingredient
from cuisineflow.params import ValidateParams
from cuisineflow.schemas import INT64_MAX, INT64_MIN, known_cuisine

# Reasons a record is quarantined, in the order they are checked.
REJECT_RULES = (
    "not_json",
    "not_an_object",
    "id_not_integer",
    "id_out_of_range",
    "duplicate_id",
    "unknown_cuisine",
    "ingredients_not_list",
    "ingredient_not_string",
    "no_ingredients",
    "empty_ingredient",
    "forbidden_character",
    "too_many_ingredients",
    "duplicate_recipe",
)
# Oddities fixed in place; the record is kept and the fix counted.
NORMALISATIONS = ("whitespace", "case", "unicode", "repeated_ingredient")


@dataclass(frozen=True)
class InvalidJson:
    """A JSON Lines line that does not parse, kept verbatim for the quarantine."""

    text: str


@dataclass(frozen=True)
class RawRecord:
    """One record as read from a raw file, before any rule."""

    source: str
    split: str
    position: int  # record number in a JSON array, line number in JSON Lines (both from 1)
    value: Any
    in_lines: bool = False
    text: str | None = None  # its own text, when the value holds 1e400 or NaN: JSON cannot
    # write those back, so the quarantine keeps the text

    @property
    def where(self) -> str:
        """The record as a person finds it in the file: record N or line N."""
        return f"{'line' if self.in_lines else 'record'} {self.position}"


@dataclass
class ValidationResult:
    """Kept recipes, quarantined records with reasons, and counts per rule."""

    valid: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_by_rule: Counter[str] = field(default_factory=Counter)
    normalised: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Records seen: kept plus quarantined."""
        return len(self.valid) + len(self.rejected)

    @property
    def rejected_fraction(self) -> float:
        """Share of records quarantined."""
        return len(self.rejected) / self.total if self.total else 0.0

    def metrics(self) -> dict[str, Any]:
        """Counts for metrics/validation.json."""
        return {
            "records": self.total,
            "valid": len(self.valid),
            "rejected": len(self.rejected),
            "rejected_fraction": round(self.rejected_fraction, 6),
            "rejected_by_rule": {rule: self.rejected_by_rule[rule] for rule in REJECT_RULES},
            "normalised": {kind: self.normalised[kind] for kind in NORMALISATIONS},
        }


def validate_records(records: list[RawRecord], params: ValidateParams) -> ValidationResult:
    """Apply every rule; each record ends up in exactly one of valid or rejected."""
    result = ValidationResult()
    seen_ids: set[int] = set()
    seen_recipes: set[tuple[str | None, tuple[str, ...]]] = set()
    for record in records:
        checked = _check(record, params, seen_ids)
        if isinstance(checked, str):
            _reject(result, record, checked)
            continue
        recipe, fixes = checked
        key = (recipe["cuisine"], tuple(sorted(recipe["ingredients"])))
        # Repeated labelled recipes weigh twice in training and leak across splits.
        if recipe["cuisine"] is not None and params.duplicate_recipes == "quarantine":
            if key in seen_recipes:
                _reject(result, record, "duplicate_recipe")
                continue
            seen_recipes.add(key)
        seen_ids.add(recipe["id"])
        result.normalised.update(fixes)
        result.valid.append(recipe)
    return result


def _check(
    record: RawRecord, params: ValidateParams, seen_ids: set[int]
) -> str | tuple[dict[str, Any], set[str]]:
    value = record.value
    if isinstance(value, InvalidJson):
        return "not_json"
    if not isinstance(value, dict):
        return "not_an_object"
    recipe_id = value.get("id")
    if not isinstance(recipe_id, int) or isinstance(recipe_id, bool):
        return "id_not_integer"
    if not INT64_MIN <= recipe_id <= INT64_MAX:  # the lake stores ids as int64
        return "id_out_of_range"
    if recipe_id in seen_ids:
        return "duplicate_id"
    cuisine = value.get("cuisine")
    if cuisine is not None:
        if not isinstance(cuisine, str):
            return "unknown_cuisine"
        cuisine = known_cuisine(cuisine)
        if cuisine is None:
            return "unknown_cuisine"
    ingredients = value.get("ingredients")
    if not isinstance(ingredients, list):
        return "ingredients_not_list"
    if not all(isinstance(item, str) for item in ingredients):
        return "ingredient_not_string"
    if not ingredients:
        return "no_ingredients"
    fixes: set[str] = set()
    normalised: list[str] = []
    for item in ingredients:
        text, item_fixes = stored_ingredient(item)  # the form serving compares too
        if not text:
            return "empty_ingredient"
        if any(char in text for char in params.forbidden_characters) or not text.isprintable():
            return "forbidden_character"
        fixes |= item_fixes
        normalised.append(text)
    unique = list(dict.fromkeys(normalised))
    if len(unique) != len(normalised):
        fixes.add("repeated_ingredient")
    if len(unique) > params.max_ingredients:
        return "too_many_ingredients"
    recipe = {
        "id": recipe_id,
        "cuisine": cuisine,
        "ingredients": unique,
        "n_ingredients": len(unique),
        "split": record.split,
    }
    return recipe, fixes


def _reject(result: ValidationResult, record: RawRecord, reason: str) -> None:
    result.rejected_by_rule[reason] += 1
    value = record.value.text if isinstance(record.value, InvalidJson) else record.value
    if record.text is not None:
        value = record.text
    result.rejected.append(
        {"source": record.source, "position": record.position, "reason": reason, "record": value}
    )
