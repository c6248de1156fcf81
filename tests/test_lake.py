"""The lake's tables and SQL over them in a local store."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cuisineflow.data import query
from cuisineflow.data.lake import build_lake, ingredient_index, raw_csv, vocabulary
from cuisineflow.data.tables import RECIPE_SCHEMA
from cuisineflow.errors import DataError
from cuisineflow.params import LakeParams
from cuisineflow.storage import Store

ROWS = [
    {
        "id": 3,
        "cuisine": "thai",
        "ingredients": ["fish sauce", "lime"],
        "n_ingredients": 2,
        "split": "train",
    },
    {
        "id": 1,
        "cuisine": "greek",
        "ingredients": ["feta, crumbled", "lime"],
        "n_ingredients": 2,
        "split": "train",
    },
    {"id": 2, "cuisine": None, "ingredients": ["fish sauce"], "n_ingredients": 1, "split": "test"},
]


@pytest.fixture
def recipes() -> pa.Table:
    return pa.Table.from_pylist(ROWS, schema=RECIPE_SCHEMA)


@pytest.fixture
def store(tmp_path: Path, recipes: pa.Table) -> Store:
    store = Store.open(str(tmp_path / "store"))
    folder = tmp_path / "build"
    folder.mkdir()
    manifest = build_lake(recipes, LakeParams(), folder)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    store.publish_folder(folder, "lake", last="manifest.json")
    return store


def test_ingredient_index_is_sorted_and_complete(recipes: pa.Table) -> None:
    index = ingredient_index(recipes)
    assert index.to_pylist() == [
        {"ingredient": "feta, crumbled", "id": 1, "cuisine": "greek", "split": "train"},
        {"ingredient": "fish sauce", "id": 2, "cuisine": None, "split": "test"},
        {"ingredient": "fish sauce", "id": 3, "cuisine": "thai", "split": "train"},
        {"ingredient": "lime", "id": 1, "cuisine": "greek", "split": "train"},
        {"ingredient": "lime", "id": 3, "cuisine": "thai", "split": "train"},
    ]
    assert vocabulary(index).to_pylist() == [
        {"ingredient": "fish sauce", "n_recipes": 2, "n_labelled": 1},
        {"ingredient": "lime", "n_recipes": 2, "n_labelled": 2},
        {"ingredient": "feta, crumbled", "n_recipes": 1, "n_labelled": 1},
    ]


def test_raw_csv_survives_commas_and_joins_with_the_separator(recipes: pa.Table) -> None:
    text = raw_csv(recipes, "|").decode()
    assert "\r" not in text
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["1"] == {
        "id": "1",
        "cuisine": "greek",
        "split": "train",
        "n_ingredients": "2",
        "ingredients": "feta, crumbled|lime",
    }
    assert rows["2"]["cuisine"] == ""


def test_lake_layout_in_the_store(store: Store) -> None:
    keys = store.list("lake")
    assert [k for k in keys if k.startswith("lake/recipes/")] == [
        "lake/recipes/split=test/part-0.parquet",
        "lake/recipes/split=train/part-0.parquet",
    ]
    train = pq.read_table(store.path("lake/recipes/split=train/part-0.parquet"))
    assert train.column("cuisine").to_pylist() == ["greek", "thai"]  # sorted by cuisine
    assert {"lake/raw/recipes.jsonl", "lake/raw/recipes.csv", "lake/manifest.json"} <= set(keys)
    manifest = json.loads(store.read_bytes("lake/manifest.json"))
    assert manifest["tables"]["recipe_ingredients"]["rows"] == 5
    lines = store.read_bytes("lake/raw/recipes.jsonl").decode().splitlines()
    assert json.loads(lines[0]) == {"id": 1, "cuisine": "greek", "split": "train",
                                    "ingredients": ["feta, crumbled", "lime"]}  # fmt: skip


def test_index_row_groups_let_readers_skip(tmp_path: Path) -> None:
    many = [
        {"id": i, "cuisine": "thai", "ingredients": [f"ingredient {i:05d}"], "n_ingredients": 1,
         "split": "train"}
        for i in range(3000)
    ]  # fmt: skip
    folder = tmp_path / "lake"
    folder.mkdir()
    build_lake(
        pa.Table.from_pylist(many, schema=RECIPE_SCHEMA),
        LakeParams(index_row_group_size=256),
        folder,
    )
    metadata = pq.ParquetFile(folder / "recipe_ingredients" / "part-0.parquet").metadata
    assert metadata.num_row_groups == 12
    # Row groups cover disjoint, increasing ingredient ranges: a lookup touches one of them.
    ranges = [
        (
            metadata.row_group(i).column(0).statistics.min,
            metadata.row_group(i).column(0).statistics.max,
        )
        for i in range(metadata.num_row_groups)
    ]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


def test_sql_over_the_lake(store: Store) -> None:
    assert query("EXPLAIN ANALYZE SELECT count(*) FROM recipes", store=store).num_rows == 1
    per_cuisine = query(
        "SELECT cuisine, count(*) AS n FROM recipes WHERE split = 'train' GROUP BY 1 ORDER BY 1",
        store=store,
    )
    assert per_cuisine.to_pylist() == [{"cuisine": "greek", "n": 1}, {"cuisine": "thai", "n": 1}]
    containing = query(
        "SELECT id FROM recipe_ingredients WHERE ingredient = 'fish sauce' ORDER BY id", store=store
    )
    assert containing.column("id").to_pylist() == [2, 3]
    frame = query("SELECT * FROM ingredients", store=store, limit=1, as_pandas=True)
    assert frame.to_dict("records") == [
        {"ingredient": "fish sauce", "n_recipes": 2, "n_labelled": 1}
    ]
    # Two columns of one name keep it, with a limit too (DuckDB's own renames the second).
    joined = "SELECT r.id, i.id FROM recipes r JOIN recipe_ingredients i USING (id) ORDER BY 1"
    for limit in (None, 1):
        assert query(joined, store=store, limit=limit).column_names == ["id", "id"]
    # A store's URI, as the README and CUISINEFLOW_STORE spell stores, works alike.
    for uri in (store.uri, Path(store.uri)):
        assert query("SELECT count(*) AS n FROM recipes", store=uri).to_pylist() == [{"n": 3}]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", 'DuckDB: Parser Error: syntax error at or near "SELEC"'),
        ("SELECT nope FROM recipes", 'Referenced column "nope" not found'),
        (
            "SELECT * FROM dishes",
            "The lake's tables are: recipes, recipe_ingredients, ingredients.$",
        ),
        # DuckDB would suggest a system table (pg_depend); the lake's own is likelier.
        ("SELECT lenght(id) FROM recipes", 'Did you mean "length"'),  # its own hint stays
        (
            "SELECT * FROM recipe",
            'exist!\nThe lake\'s tables are: .*\\. Did you mean "recipes"\\?$',
        ),
        (
            "COPY (SELECT 1 AS id) TO 'x.parquet'",
            r"one SELECT statement .*; .* holds COPY",
        ),
        ("SELECT 1; DROP TABLE recipes", "holds SELECT, DROP"),
        # EXPLAIN ANALYZE runs the statement it explains: only a SELECT may be explained.
        ("EXPLAIN ANALYZE COPY (SELECT 1 AS id) TO '{target}'", "an EXPLAIN of one.* holds COPY"),
        ("/* */ EXPLAIN ANALYZE CREATE MACRO lower(x) AS 'x'", "an EXPLAIN of one.* holds CREATE"),
        ("SELECT * FROM read_parquet('{target}')", "Permission Error: Cannot access"),
    ],
)
def test_bad_sql_gets_the_engine_message(store: Store, sql: str, message: str) -> None:
    target = store.path("lake/recipes/split=train/part-0.parquet")
    before = Path(target).read_bytes()
    with pytest.raises(DataError, match=message):
        query(sql.format(target=target), store=store)
    assert Path(target).read_bytes() == before


def test_query_before_the_lake_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"no lake in local store .* yet: build it with `cuisineflow run`"
    ):
        query("SELECT 1 FROM recipes", store=Store.open(str(tmp_path)))


def test_s3select_needs_an_s3_store(store: Store) -> None:
    with pytest.raises(DataError, match="S3 Select needs an S3 store"):
        query("SELECT * FROM s3object s", store=store, engine="s3select")


def test_the_csv_separator_must_be_a_forbidden_character(tmp_path: Path) -> None:
    from cuisineflow.params import load_params

    params = tmp_path / "params.yaml"
    params.write_text("lake:\n  csv_separator: ';'\n")
    with pytest.raises(DataError, match=r"lake.csv_separator ';' must be one of validate\."):
        load_params(params)
    params.write_text("lake:\n  csv_separator: ';'\nvalidate:\n  forbidden_characters: '|;'\n")
    assert load_params(params).lake.csv_separator == ";"


def test_a_lake_of_no_recipes_has_empty_tables(tmp_path: Path) -> None:
    empty = pa.Table.from_pylist([], schema=RECIPE_SCHEMA)
    assert ingredient_index(empty).num_rows == 0  # the sum of no lengths is null, not 0
    build_lake(empty, LakeParams(), tmp_path)
    assert pq.read_table(tmp_path / "ingredients" / "part-0.parquet").num_rows == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b'{"files": {', r"not JSON: Expecting property name"),
        (b'{"caf\xe9": 1}', r"not JSON: 'utf-8' codec can't decode"),
        (b"{}", r"no 'files' object"),
        (b"[]", r"no 'files' object"),
        (b'{"files": {"ingredients/part-0.parquet": {}}}', r"file 'ingredients/part-0.parquet'"),
        (b'{"files": {}}', r"no file listed for tables recipes, recipe_ingredients, ingredients"),
    ],
)
def test_a_damaged_manifest_says_to_rebuild_the_lake(
    store: Store, tmp_path: Path, text: bytes, problem: str
) -> None:
    from cuisineflow.stages.lake import manifests

    Path(store.path("lake/manifest.json")).write_bytes(text)
    with pytest.raises(
        DataError,
        match=rf"^the lake's manifest in local store .* is unreadable \({problem}.*\); "
        r"rebuild it with `cuisineflow lake`$",
    ):
        query("SELECT count(*) FROM ingredients", store=store)
    assert manifests(tmp_path, store) == (None, None)  # `run` publishes it again


def test_a_manifest_listing_no_file_of_a_table_says_to_rebuild_the_lake(
    store: Store, tmp_path: Path
) -> None:
    # Its queries would otherwise answer over no rows: a count of 0, not an error.
    from cuisineflow.stages.lake import manifests

    assert query("SELECT count(*) FROM recipes", store=store).column(0).to_pylist() == [3]
    path = Path(store.path("lake/manifest.json"))
    manifest = json.loads(path.read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("recipes/")}
    path.write_text(json.dumps(manifest))
    with pytest.raises(
        DataError,
        match=r"^the lake's manifest in local store .* is unreadable \(no file listed for table "
        r"recipes\); rebuild it with `cuisineflow lake`$",
    ):
        query("SELECT count(*) FROM recipes", store=store)
    assert manifests(tmp_path, store) == (None, None)  # `run` publishes it again


@pytest.fixture(scope="module")
def s3_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A lake of 300 recipes in the embedded S3 endpoint (moto), for S3 Select."""
    from cuisineflow.storage.s3server import EmbeddedS3

    server = EmbeddedS3().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.environment().items():
                patch.setenv(name, value)
            store = Store.open(f"s3://{server.bucket}/lake-test", server.endpoint_url)
            # No commas (moto's CSV reader splits on each) and no null cuisine.
            many = [{**ROWS[0], "cuisine": ("thai", "greek")[i % 2], "id": i} for i in range(300)]
            folder = tmp_path_factory.mktemp("s3lake")
            manifest = build_lake(
                pa.Table.from_pylist(many, schema=RECIPE_SCHEMA), LakeParams(), folder
            )
            (folder / "manifest.json").write_text(json.dumps(manifest))
            store.publish_folder(folder, "lake", last="manifest.json")
            yield store
    finally:
        server.stop()


def test_an_empty_s3_select_result_prints_as_no_rows(s3_store: Store) -> None:
    from cuisineflow.reports.text import format_table

    sql = "SELECT s.id, s.cuisine FROM s3object s WHERE s.cuisine = 'martian'"
    for source in ("jsonl", "csv"):
        table = query(sql, store=s3_store, engine="s3select", s3select_input=source)
        assert (table.column_names, table.num_rows) == ([], 0)  # S3 Select sends no names
        assert format_table(table, "table") == "(0 rows)\n"  # not a blank header


def test_s3_select_counts_on_the_embedded_endpoint(s3_store: Store) -> None:
    def count(source: str) -> object:
        sql = "SELECT COUNT(*) FROM s3object s"
        return query(sql, store=s3_store, engine="s3select", s3select_input=source).to_pylist()

    assert count("jsonl") == [{"_1": 300}]
    # moto counts the CSV copy's header as a record (AWS honours FileHeaderInfo=USE): if
    # this fails, moto has fixed it and README's "SQL in place" should say so.
    assert count("csv") == [{"_1": 301}]
