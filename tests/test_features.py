"""Ingredient normalisation, analyzers, and TF-IDF blocks that match scikit-learn's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from cuisineflow.features import (
    ANALYZERS,
    Featurizer,
    FittedBlock,
    SparseRows,
    fit_block,
    normalise_ingredient,
    normalise_recipe,
    singular,
)
from cuisineflow.params import FeatureBlockParams


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fresh Basil Leaves", "basil leave"),
        ("2 oz. Crème Fraîche", "creme fraiche"),
        ("Hellmann's® Real Mayonnaise", "hellmann real mayonnaise"),
        ("tomatoes (peeled)", "tomato"),
        ("low-fat sour cream", "sour cream"),
        ("ground", "ground"),  # only descriptors: kept rather than emptied
        ("berries", "berry"),
        ("Hellmann\u2019s Mayonnaise", "hellmann mayonnaise"),  # a curly apostrophe
        ("salt & pepper", "salt and pepper"),
        ("Bœuf Bourguignon", "boeuf bourguignon"),  # œ has no ASCII base to fall back on
        ("Weißwurst", "weisswurst"),
        ("Smørrebrød", "smorrebrod"),
        ("ÆBLESKIVER", "aebleskiver"),  # upper case Æ: lowered first
    ],
)
def test_normalise_ingredient(raw: str, expected: str) -> None:
    assert normalise_ingredient(raw) == expected


def test_parentheses_are_dropped_as_before_in_linear_time() -> None:
    import random
    import re
    import subprocess
    import sys

    from cuisineflow.features import _without_parentheses

    pattern = re.compile(r"\([^)]*\)")  # what it replaces, applied to the whole text
    rng = random.Random(0)
    for _ in range(5_000):
        text = "".join(rng.choice("ab() ") for _ in range(rng.randint(0, 16)))
        assert _without_parentheses(text) == pattern.sub(" ", text), text
    # An ingredient of 300,000 "(" (a batch file may hold one) took about 75 s whole; a
    # hang guard, not a speed target: the timeout is hundreds of times the ~0.05 s it takes.
    code = "from cuisineflow.features import normalise_ingredient as n; print(n('(' * 300_000))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "\n"  # nothing but brackets: no words


@pytest.mark.parametrize(
    ("plural", "expected"),
    [
        ("gas", "gas"),  # 3 letters: left alone
        ("eggs", "egg"),  # 4 letters: singularised
        ("pies", "pie"),  # -ies of 4 letters is not -y
        ("fries", "fry"),
        ("peaches", "peach"),
        ("radishes", "radish"),
        ("molasses", "molass"),
        ("boxes", "box"),
        ("couscous", "couscous"),
        ("swiss", "swiss"),
        ("pastis", "pastis"),
    ],
)
def test_singular(plural: str, expected: str) -> None:
    assert singular(plural) == expected


def test_recipe_order_and_case_do_not_matter() -> None:
    a = normalise_recipe(["Soy Sauce", "ginger", "SCALLIONS"])
    b = normalise_recipe(["scallions", "soy sauce", "Ginger"])
    assert a == b == ["ginger", "scallion", "soy sauce"]


def test_a_brand_mark_is_dropped_not_spelt_out() -> None:
    # Through the stored text (NFKC spells ™ and ℠ out as TM and SM): not "gianttm".
    marked = normalise_recipe(["Green Giant™ Sliced Mushrooms", "Pillsbury℠ Dough"])
    assert marked == normalise_recipe(["Green Giant Sliced Mushrooms", "Pillsbury Dough"])
    assert marked == ["green giant mushroom", "pillsbury dough"]


def test_an_ingredient_listed_twice_counts_once_as_validation_keeps_it() -> None:
    # Validation stores ["salt"] for ["Salt", " salt"]; serving must see the same recipe.
    assert normalise_recipe(["Salt", " salt", "pepper"]) == ["pepper", "salt"]
    # Different ingredients that normalise alike stay two, as in the training data.
    assert normalise_recipe(["dried basil", "fresh basil"]) == ["basil", "basil"]


def test_analyzers() -> None:
    recipe = ["olive oil", "garlic"]
    assert ANALYZERS["words_and_bigrams"](recipe) == ["olive", "oil", "olive_oil", "garlic"]
    assert ANALYZERS["word_pairs"](recipe) == ["garlic|oil", "garlic|olive", "oil|olive"]
    assert ANALYZERS["ingredients"](recipe) == ["olive_oil", "garlic"]
    assert ANALYZERS["ingredient_pairs"](recipe) == ["garlic|olive_oil"]


@pytest.mark.parametrize("analyzer", ["words_and_bigrams", "word_pairs"])
def test_block_matches_scikit_learn_tfidf(analyzer: str) -> None:
    corpus = [
        ["olive oil", "garlic", "basil"],
        ["soy sauce", "garlic", "ginger", "garlic"],
        ["olive oil", "tomato"],
        ["ginger", "soy sauce", "scallion"],
    ]
    params = FeatureBlockParams(analyzer=analyzer, min_df=1)
    ours = fit_block(params, corpus)
    reference = TfidfVectorizer(
        analyzer=ANALYZERS[analyzer], sublinear_tf=True, smooth_idf=True, norm="l2", lowercase=False
    )
    expected = reference.fit_transform(corpus)
    assert ours.terms == list(reference.get_feature_names_out())
    np.testing.assert_allclose(ours.idf, reference.idf_, rtol=1e-6)
    np.testing.assert_allclose(ours.transform(corpus).toarray(), expected.toarray(), rtol=1e-6)


def test_word_pair_lookup_gives_the_generic_entries_in_the_same_order() -> None:
    """The integer-key path for word_pairs must give what the per-term path gives, entry for
    entry: the row norms sum in that order, so the model's bytes depend on it."""
    fitted_on = [
        ["olive oil", "garlic", "basil", "tomato"],
        ["soy sauce", "garlic", "ginger", "sesame oil"],
        ["olive oil", "tomato", "salt"],
        ["ginger", "soy sauce", "scallion", "garlic"],
        ["zucchini", "salt"],
    ]
    block = fit_block(FeatureBlockParams(analyzer="word_pairs", min_df=2), fitted_on)
    recipes = [
        ["garlic", "olive oil", "tomato", "basil"],
        ["salt"],  # one word: no pair
        [],
        ["unknown", "words only"],
        ["oil", "oil olive", "garlic"],  # a word in two ingredients: its pairs count once
        ["soy sauce", "garlic", "ginger", "tomato", "olive oil", "sesame oil", "salt"],
        ["garlic", "tomato"],  # a pair below min_df: known words, unknown pair
    ]
    fast = block._word_pair_counts(recipes)
    generic = block._term_counts(recipes)
    assert [a.tolist() for a in fast] == [a.tolist() for a in generic]
    assert set(fast[0].tolist()) == {0, 4, 5}  # the rows with a known pair
    assert fast[0].tolist() == sorted(fast[0].tolist())
    # Many rows of many sizes: the pairs are gathered by size, then put back in row order.
    rng = np.random.default_rng(0)
    words = [f"w{i:02d}" for i in range(40)]
    many = [list(rng.choice(words, size=rng.integers(0, 25))) for _ in range(600)]
    wide = fit_block(FeatureBlockParams(analyzer="word_pairs", min_df=3), many[:300])
    assert [a.tolist() for a in wide._word_pair_counts(many)] == [
        a.tolist() for a in wide._term_counts(many)
    ]
    # A vocabulary with no pair at all, and terms word_pairs never yields, match nothing.
    empty = fit_block(FeatureBlockParams(analyzer="word_pairs", min_df=9), fitted_on)
    assert [len(a) for a in empty._word_pair_counts(recipes)] == [0, 0, 0]
    odd = FittedBlock(
        block.params,
        [*block.terms, "garlic", "oil|olive|salt"],
        np.append(block.idf, [1.0, 1.0]).astype(np.float32),
    )
    assert [a.tolist() for a in odd._word_pair_counts(recipes)] == [a.tolist() for a in generic]


def test_word_pair_lookup_memory_stays_bounded_on_recipes_of_many_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A valid request can hold recipes of ~2,000 known words (2 million pairs each): the
    pairs are looked up a few recipes at a time, not the whole batch at once."""
    import tracemalloc

    import cuisineflow.features as features

    words = [f"w{i:03d}" for i in range(300)]
    block = fit_block(
        FeatureBlockParams(analyzer="word_pairs", min_df=1),
        [[words[i], words[i + 1]] for i in range(0, 300, 2)],  # 150 pairs in the vocabulary
    )
    batch = [list(words) for _ in range(40)]  # 44,850 pairs a recipe, 150 of them known

    def peak_mb() -> float:
        block.__dict__.pop("_pair_keys", None)
        block._pair_keys  # noqa: B018 (built outside the measurement)
        tracemalloc.start()
        rows, _, _ = block._word_pair_counts(batch)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(rows) == 40 * 150
        return peak / 1e6

    assert peak_mb() < 20  # measured 10.8 MB
    monkeypatch.setattr(features, "PAIRS_PER_CHUNK", 1 << 40)  # the whole batch at once
    assert peak_mb() > 40  # measured 45.8 MB


def test_plain_tf_matches_scikit_learn() -> None:
    # "olive" twice in the first recipe: raw counts, not 1 + log, when sublinear_tf is off.
    corpus = [["olive oil", "garlic", "olive"], ["soy sauce", "garlic"], ["olive oil"]]
    ours = fit_block(FeatureBlockParams(analyzer="words", min_df=1, sublinear_tf=False), corpus)
    reference = TfidfVectorizer(analyzer=ANALYZERS["words"], sublinear_tf=False, lowercase=False)
    expected = reference.fit_transform(corpus).toarray()
    np.testing.assert_allclose(ours.transform(corpus).toarray(), expected, rtol=1e-6)


def test_featurizer_stacks_weighted_blocks_and_ignores_unknown_terms() -> None:
    recipes = [["Olive Oil", "garlic"], ["soy sauce", "ginger"], ["garlic", "ginger"]]
    blocks = [
        FeatureBlockParams(analyzer="words", weight=1.0),
        FeatureBlockParams(analyzer="ingredient_pairs", min_df=1, weight=0.5),
    ]
    featurizer = Featurizer.fit(blocks, recipes)
    assert featurizer.n_features == 6 + 3
    assert featurizer.transform([["durian"]]).shape == (1, 9)  # nothing known: still 9 wide
    # Columns follow each block's sorted terms; the pairs block starts after the words.
    # words: garlic ginger oil olive sauce soy | pairs: garlic|ginger garlic|olive_oil ginger|soy_sauce
    row = featurizer.transform([["soy sauce", "ginger"]]).toarray()[0]
    assert np.flatnonzero(row).tolist() == [1, 4, 5, 8]
    assert row[8] == pytest.approx(0.5)  # the one pair, its block weighted 0.5
    matrix = featurizer.transform([["garlic", "olive oil"], ["durian"]]).toarray()
    words_part, pairs_part = matrix[:, :6], matrix[:, 6:]
    assert np.linalg.norm(words_part[0]) == pytest.approx(1.0, rel=1e-6)
    assert np.linalg.norm(pairs_part[0]) == pytest.approx(0.5, rel=1e-6)
    assert not matrix[1].any()  # nothing known about a durian recipe


def test_rows_from_entries_are_in_row_then_column_order() -> None:
    # Two blocks' (row, column, value) entries, neither in order; row 3 has none.
    blocks = [
        (np.array([2, 0, 0, 1]), np.array([3, 4, 1, 0]), np.array([1, 2, 3, 4], np.float32)),
        (np.array([0, 2]), np.array([6, 5]), np.array([5, 6], np.float32)),
    ]
    rows = SparseRows.from_entries(blocks, n_rows=4, n_columns=7)
    assert rows.indptr.tolist() == [0, 3, 4, 6, 6]
    assert rows.indices.tolist() == [1, 4, 6, 0, 3, 5]
    assert rows.data.tolist() == [3, 2, 5, 4, 1, 6]
    assert rows.to_scipy().has_sorted_indices


def test_featurize_refuses_to_learn_no_features(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cuisineflow.errors import DataError
    from cuisineflow.paths import FEATURES_DIR, SPLIT_DIR, SPLITS
    from cuisineflow.stages import featurize

    (tmp_path / SPLIT_DIR).mkdir(parents=True)
    for name in SPLITS:
        table = pa.table({"ingredients": [["salt", "garlic"], ["soy sauce", "ginger"]]})
        pq.write_table(table, tmp_path / SPLIT_DIR / f"{name}.parquet")
    (tmp_path / "params.yaml").write_text(
        "featurize:\n  blocks:\n"
        "    - {analyzer: words, min_df: 100000}\n"
        "    - {analyzer: word_pairs, min_df: 3}\n"
        "train:\n  trees: {weight: 0}\n"
    )
    with pytest.raises(
        DataError,
        match=r"^featurize learnt no features: no term is in min_df of the 4 recipes fitted on, "
        r"for featurize.blocks 0 \(words, min_df 100000\), 1 \(word_pairs, min_df 3\); "
        r"lower min_df$",
    ):
        featurize.run(tmp_path)
    assert not (tmp_path / FEATURES_DIR).exists()
    (tmp_path / "params.yaml").write_text(
        "featurize:\n  blocks:\n    - {analyzer: words, min_df: 2}\ntrain:\n  trees: {weight: 0}\n"
    )
    assert featurize.run(tmp_path)["n_features"] == 5  # salt, garlic, soy, sauce, ginger
