"""Ingredient normalisation, analyzers, and TF-IDF blocks that match scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from cuisineflow.features import (
    ANALYZERS,
    Featurizer,
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
    ],
)
def test_normalise_ingredient(raw: str, expected: str) -> None:
    assert normalise_ingredient(raw) == expected


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
