"""SQL over the lake, in place: DuckDB over Parquet, or S3 Select on the raw copies."""

from __future__ import annotations

import difflib
import functools
import json
import re
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from cuisineflow.data.lake import MANIFEST, RAW_CSV, RAW_JSONL, TABLES, parse_manifest
from cuisineflow.data.tables import LAKE_SCHEMAS, RECIPES_PARTITIONING
from cuisineflow.errors import DataError
from cuisineflow.storage import Store

Engine = Literal["duckdb", "s3select"]
BUILD_HINT = "build it with `cuisineflow run` (or `cuisineflow lake` after `cuisineflow validate`)"


def query(
    sql: str,
    store: Store | str | Path | None = None,
    engine: Engine = "duckdb",
    limit: int | None = None,
    s3select_input: Literal["jsonl", "csv"] = "jsonl",
    as_pandas: bool = False,
) -> Any:
    """Run SQL against the store's lake and return an Arrow table (or a pandas DataFrame).

    DuckDB sees the tables `recipes`, `recipe_ingredients` and `ingredients`; filters and
    column choices are pushed into the Parquet scan. S3 Select runs on the raw JSON Lines
    or CSV copy (table `s3object`). `store` is a Store, or a store's URI (a folder or
    s3://bucket/prefix, on the endpoint CUISINEFLOW_S3_ENDPOINT_URL names); by default the
    project's.
    """
    if store is None:
        store = _default_store()
    elif not isinstance(store, Store):
        from cuisineflow.settings import get_settings

        settings = get_settings()
        store = Store.open(str(store), settings.s3_endpoint_url, settings.region)
    if engine == "duckdb":
        table = _duckdb(sql, store, limit)
    elif engine == "s3select":
        table = _s3select(sql, store, s3select_input, limit)
    else:
        raise DataError(f"unknown engine {engine!r}: choose duckdb or s3select")
    return table.to_pandas() if as_pandas else table


def lake_dataset(store: Store, name: str, manifest: dict[str, Any]) -> ds.Dataset:
    """A lazily scanned Arrow dataset over one lake table, its files taken from the manifest.

    Files and sizes come from the manifest: no listing and no HEAD per file, which would
    otherwise dominate small queries on S3.
    """
    folder, partitioned = TABLES[name]
    prefix = f"{folder}/"
    files = {key: entry for key, entry in manifest["files"].items() if key.startswith(prefix)}
    schema = LAKE_SCHEMAS[name]
    partition_schema = pa.schema([schema.field(c) for c in RECIPES_PARTITIONING if partitioned])
    hive = ds.partitioning(partition_schema, flavor="hive")
    filesystem = store.arrow_filesystem
    parquet = ds.ParquetFileFormat()
    fragments = [
        parquet.make_fragment(
            store.path(f"lake/{key}"),
            filesystem=filesystem,
            partition_expression=hive.parse(key[len(prefix) :]) if partitioned else None,
            file_size=entry["size"],
        )
        for key, entry in sorted(files.items())
    ]
    return ds.FileSystemDataset(fragments, schema=schema, format=parquet, filesystem=filesystem)


@functools.cache
def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process; each query gets its own cursor (connect costs 12 ms).

    DuckDB may touch no file: the lake reaches it as Arrow datasets that pyarrow reads, and
    statements that run others (EXPLAIN ANALYZE COPY ...) cannot write into the lake.
    """
    return duckdb.connect(config={"enable_external_access": False})


def read_manifest(store: Store) -> dict[str, Any]:
    """The lake's manifest, or a DataError saying how to build or rebuild the lake."""
    try:
        data = store.read_bytes(MANIFEST)
    except FileNotFoundError:
        raise DataError(f"no lake in {store.describe()} yet: {BUILD_HINT}") from None
    try:
        return parse_manifest(data)
    except ValueError as problem:
        raise DataError(
            f"the lake's manifest in {store.describe()} is unreadable ({problem}); "
            "rebuild it with `cuisineflow lake`"
        ) from None


def _duckdb(sql: str, store: Store, limit: int | None) -> pa.Table:
    manifest = read_manifest(store)
    connection = _database().cursor()
    try:
        _read_only(sql)
        for name in TABLES:
            if re.search(rf"\b{name}\b", sql, flags=re.IGNORECASE):
                connection.register(name, lake_dataset(store, name, manifest))
        relation = connection.sql(sql)
        if relation is None:
            raise DataError("the SQL returned no result set: give a SELECT query")
        names = relation.columns
        if limit is not None:
            relation = relation.limit(limit)  # which names columns of one name apart: id_1
        return relation.to_arrow_table().rename_columns(names)
    except duckdb.CatalogException as error:
        raise DataError(_catalog_problem(str(error))) from None
    except duckdb.Error as error:
        raise DataError(f"DuckDB: {error}") from None
    finally:
        connection.close()


def _read_only(sql: str) -> None:
    """One SELECT, or an EXPLAIN of one: a query may not write files, into the lake or
    elsewhere, nor define what later queries of the process would see (EXPLAIN ANALYZE
    runs what it explains: a CREATE MACRO lower(x) would outlive it)."""
    statements = duckdb.extract_statements(sql)
    kinds = [statement.type for statement in statements]
    if kinds == [duckdb.StatementType.EXPLAIN]:
        kinds = [statement.type for statement in duckdb.extract_statements(_explained(sql))]
    if kinds != [duckdb.StatementType.SELECT]:
        found = ", ".join(kind.name for kind in kinds) or "nothing"
        raise DataError(
            f"query runs one SELECT statement (or an EXPLAIN of one); this SQL holds {found}"
        )


def _explained(sql: str) -> str:
    """The statement an EXPLAIN [ANALYZE] [(options)] statement runs, its SQL."""
    starts = [start for start, kind in duckdb.tokenize(sql) if kind != duckdb.token_type.comment]
    ends = [*starts[1:], len(sql)]
    words = [sql[start:end].strip().upper() for start, end in zip(starts, ends, strict=True)]
    index = 1  # past EXPLAIN
    if index < len(words) and words[index] == "ANALYZE":
        index += 1
    if index < len(words) and words[index] == "(":  # options: up to their ")"
        while index < len(words) and words[index] != ")":
            index += 1
        index += 1
    return sql[starts[index] :] if index < len(starts) else ""


def _s3select(sql: str, store: Store, source: str, limit: int | None) -> pa.Table:
    from botocore.exceptions import BotoCoreError, ClientError

    from cuisineflow.storage.s3server import s3_client

    if not store.is_s3 or store.bucket is None:
        raise DataError(
            f"S3 Select needs an S3 store, and {store.describe()} is a folder: "
            "use --engine duckdb, or set CUISINEFLOW_STORE=s3://bucket/prefix"
        )
    read_manifest(store)
    key = store.path(RAW_JSONL if source == "jsonl" else RAW_CSV).split("/", 1)[1]
    serialization: dict[str, Any] = (
        {"JSON": {"Type": "LINES"}}
        if source == "jsonl"
        else {"CSV": {"FileHeaderInfo": "USE", "RecordDelimiter": "\n", "FieldDelimiter": ","}}
    )
    try:
        response = s3_client(store.endpoint_url).select_object_content(
            Bucket=store.bucket,
            Key=key,
            Expression=sql,
            ExpressionType="SQL",
            InputSerialization=serialization,
            OutputSerialization={"JSON": {"RecordDelimiter": "\n"}},
        )
        payload = b"".join(
            event["Records"]["Payload"] for event in response["Payload"] if "Records" in event
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"NotImplemented", "MethodNotAllowed", "XNotImplemented"}:
            raise DataError(
                f"the endpoint of {store.describe()} does not offer S3 Select: use --engine duckdb"
            ) from None
        raise DataError(
            f"S3 Select failed ({error}). Its SQL is limited: the embedded endpoint handles "
            "column lists, COUNT(*) and one string comparison in WHERE; on the full data set "
            "its CSV reader fails, so use the JSON Lines copy"
        ) from None
    except BotoCoreError as error:
        raise DataError(f"S3 Select failed at {store.describe()}: {error}") from None
    rows = [json.loads(line) for line in payload.splitlines() if line.strip()]
    if limit is not None:
        rows = rows[:limit]  # S3 Select's own LIMIT is unreliable on some endpoints
    return pa.Table.from_pylist(rows)  # no rows: no columns, as S3 Select sends no names


def _default_store() -> Store:
    from cuisineflow.settings import get_settings
    from cuisineflow.storage import open_store
    from cuisineflow.storage.dvc import DvcRepo

    return open_store(get_settings(), DvcRepo.root_or_cwd())


def _catalog_problem(message: str) -> str:
    """DuckDB's message for an unknown table, with the lake's tables and the likeliest one.

    DuckDB's own "Did you mean" can only suggest its system tables (pg_depend, ...): the
    lake's tables are registered only when a query names them."""
    missing = re.search(r"Table with name (\S+) does not exist", message)
    if missing is None:  # a function or column: DuckDB's own suggestion is the right one
        return f"DuckDB: {message}"
    message = re.sub(r'\nDid you mean "[^"]*"\?', "", message)
    close = difflib.get_close_matches(missing.group(1).lower(), TABLES, n=1)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    return f"DuckDB: {message}\nThe lake's tables are: {', '.join(TABLES)}.{hint}"
