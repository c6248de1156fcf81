"""Raw data: schema checks, validation rules, acquisition, the lake and queries."""

from typing import Any


def query(sql: str, **options: Any) -> Any:
    """SQL over the lake (see cuisineflow.data.sql.query); imported lazily: DuckDB is heavy."""
    from cuisineflow.data.sql import query as run_query

    return run_query(sql, **options)


__all__ = ["query"]
