"""Arrow schemas of the data the workflow writes: validated recipes and the lake's tables."""

import pyarrow as pa

RECIPE_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("cuisine", pa.string()),
        ("ingredients", pa.list_(pa.string())),
        ("n_ingredients", pa.int32()),
        ("split", pa.string()),
    ]
)

RECIPES_PARTITIONING = ("split",)

LAKE_SCHEMAS: dict[str, pa.Schema] = {
    # Partition columns come last: they live in the folder names, not in the files.
    "recipes": RECIPE_SCHEMA,  # the validated recipes, as they are
    "recipe_ingredients": pa.schema(
        [
            ("ingredient", pa.string()),
            ("id", pa.int64()),
            ("cuisine", pa.string()),
            ("split", pa.string()),
        ]
    ),
    "ingredients": pa.schema(
        [("ingredient", pa.string()), ("n_recipes", pa.int64()), ("n_labelled", pa.int64())]
    ),
}
