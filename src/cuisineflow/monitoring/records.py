"""Prediction log records, built by one function for every writer: the server and
`predict --log` (Parquet, monitoring.log) and the Lambda (JSON Lines, aws_lambda.predictionlog).

Free of pyarrow and of any other import, so the Lambda package carries it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any


def records_for(
    predictions: Sequence[Any],
    recipes: Sequence[tuple[Any, list[str]]],
    model_name: str,
    model_version: str,
    request_id: str,
    latency_ms: float,
) -> list[dict[str, Any]]:
    """Log records for one request's predictions (Prediction objects, (id, ingredients)):
    one time and one latency for the whole request. The fields are monitoring.log.SCHEMA's."""
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "request_id": request_id,
            "timestamp": now,
            "model_name": model_name,
            "model_version": model_version,
            "id": None if recipe_id is None else str(recipe_id),
            "ingredients": list(ingredients),
            "cuisine": p.cuisine,
            "confidence": p.confidence,
            "top_cuisines": [t["cuisine"] for t in p.top],
            "top_probabilities": [t["probability"] for t in p.top],
            "latency_ms": latency_ms,
        }
        for p, (recipe_id, ingredients) in zip(predictions, recipes, strict=True)
    ]
