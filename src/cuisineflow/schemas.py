"""Pydantic models shared by every edge of the workflow."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

CUISINES: tuple[str, ...] = (
    "brazilian", "british", "cajun_creole", "chinese", "filipino", "french", "greek",
    "indian", "irish", "italian", "jamaican", "japanese", "korean", "mexican", "moroccan",
    "russian", "southern_us", "spanish", "thai", "vietnamese",
)  # fmt: skip
_KNOWN_CUISINES = frozenset(CUISINES)

# A registry model name or alias (an alias is also not all digits: those are versions).
REGISTRY_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"  # whole names: fullmatch (a "$" passes "x\n")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


_REQUEST_ID = re.compile(r"[!-~]{1,128}")


def request_id_or_new(given: str | None) -> str:
    """A client's X-Request-ID if it is one (1 to 128 printable ASCII characters), else a
    new one: it is echoed and copied into every log record of the request, so an unbounded
    one would cost memory a thousand times over."""
    return given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def known_cuisine(text: str) -> str | None:
    """A cuisine as the data stores it ("Southern_US " -> "southern_us"), or None when it
    is none of the 20: what `validate` keeps and later labels are checked against."""
    cuisine = " ".join(text.split()).lower()
    return cuisine if cuisine in _KNOWN_CUISINES else None


def is_encodable(text: str) -> bool:
    """Whether UTF-8 can write the text: a lone surrogate ("\udc00"), which JSON can spell,
    would break the whole file or batch of records (a log, labels, a CSV) written with it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _recipe_id(value: object) -> int | str:
    """An integer (of any size) or text UTF-8 can encode; not a bool or a float."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not is_encodable(value):
            raise PydanticCustomError(
                "unencodable", "should be text UTF-8 can encode, not a lone surrogate"
            )
        return value
    try:
        shown = json.dumps(value)  # as the request or file spelt it: true, not True
    except (TypeError, ValueError):
        shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    raise PydanticCustomError(
        "recipe_id", "should be an integer or a string, not {wrong}", {"wrong": shown}
    )


# A recipe's id wherever one arrives (a request, a batch file, labels): one type, so every
# edge takes the same ids and names a bad one in one plain problem.
RecipeId = Annotated[int | str, PlainValidator(_recipe_id, json_schema_input_type=int | str)]


class RawRecipe(BaseModel):
    """One recipe as Kaggle's What's Cooking files hold it; `cuisine` is absent in test data."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]  # the lake stores int64
    cuisine: StrictStr | None = None
    ingredients: list[StrictStr]

    @field_validator("cuisine")
    @classmethod
    def _not_blank(cls, cuisine: str | None) -> str | None:
        # Blank is neither a label (validate would quarantine it) nor clearly none.
        if cuisine is not None and not cuisine.strip():
            raise PydanticCustomError(
                "blank_cuisine",
                "is blank: leave it out, or set it to null, for a recipe without a cuisine",
            )
        return cuisine


class Label(BaseModel):
    """A recipe's true cuisine, arriving after its prediction: id and cuisine, nothing more
    needed (a Kaggle-format recipe with cuisine is one too)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Any id the server takes (RecipeIn) and logs as text: "order-17" too, and no int64 bound.
    id: RecipeId
    cuisine: StrictStr | None = None


# Limits of one prediction request: a recipe of Kaggle's has at most 65 ingredients.
NOT_AN_OBJECT = 'should be a JSON object: {"recipes": [...]} or {"ingredients": [...]}'
MAX_RECIPES_PER_REQUEST = 1000
MAX_INGREDIENTS_PER_RECIPE = 100
MAX_INGREDIENT_LENGTH = 200

Ingredient = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_INGREDIENT_LENGTH),
]


class RecipeIn(BaseModel):
    """A recipe to predict: an optional id and its ingredients."""

    model_config = ConfigDict(extra="forbid")

    id: RecipeId | None = None
    ingredients: list[Ingredient] = Field(min_length=1, max_length=MAX_INGREDIENTS_PER_RECIPE)


class PredictRequest(BaseModel):
    """Several recipes, `{"recipes": [...]}`; a single `{"ingredients": [...]}` is also taken."""

    model_config = ConfigDict(extra="forbid")

    recipes: list[RecipeIn] = Field(min_length=1, max_length=MAX_RECIPES_PER_REQUEST)


class TopCuisine(BaseModel):
    """One of the most likely cuisines."""

    cuisine: str
    probability: float


class PredictionOut(BaseModel):
    """The prediction for one recipe."""

    id: int | str | None
    cuisine: str
    confidence: float
    top: list[TopCuisine]


class ModelInfo(BaseModel):
    """Which model answered."""

    name: str
    version: str


class ModelDescription(ModelInfo):
    """GET /v1/model: the model served, what the server was told to serve, and its lineage."""

    reference: str  # NAME@ALIAS, NAME@VERSION, a folder, or the Lambda's s3:// URI
    classes: list[str]
    created_at: str | None
    lineage: dict[str, Any] | None
    metrics: dict[str, Any] | None

    @classmethod
    def of(
        cls, name: str, version: str, reference: str, classes: Sequence[str],
        metadata: dict[str, Any],
    ) -> ModelDescription:  # fmt: skip
        """The description, lineage and metrics taken from the version's metadata."""
        return cls(
            name=name, version=version, reference=reference, classes=list(classes),
            created_at=metadata.get("created_at"), lineage=metadata.get("lineage"),
            metrics=metadata.get("metrics"),
        )  # fmt: skip


class ReloadResponse(BaseModel):
    """POST /v1/model/reload: the version now served, and the one before it."""

    name: str
    version: str
    previous: str | None


class PredictResponse(BaseModel):
    """Predictions in request order, and the model that made them."""

    model: ModelInfo
    predictions: list[PredictionOut]
