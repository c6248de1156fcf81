"""Pydantic models shared by every edge of the workflow."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

CUISINES: tuple[str, ...] = (
    "brazilian", "british", "cajun_creole", "chinese", "filipino", "french", "greek",
    "indian", "irish", "italian", "jamaican", "japanese", "korean", "mexican", "moroccan",
    "russian", "southern_us", "spanish", "thai", "vietnamese",
)  # fmt: skip


class RawRecipe(BaseModel):
    """One recipe as Kaggle's What's Cooking files hold it; `cuisine` is absent in test data."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: StrictInt
    cuisine: StrictStr | None = None
    ingredients: list[StrictStr]
