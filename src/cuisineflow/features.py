"""Ingredient normalisation and vectorisers (pure): recipes -> sparse TF-IDF feature blocks.

The same code turns recipes into features at training and at serving time; a fitted
featurizer is plain data (vocabularies and IDF weights), saved without pickle.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import TYPE_CHECKING

import numpy as np

from cuisineflow.params import FeatureBlockParams

if TYPE_CHECKING:
    import scipy.sparse as sp

_MARKS = re.compile(r"[®™©℠]")  # removed before NFKC/NFKD, which spell ™ and ℠ out as TM, SM
_PARENTHESES = re.compile(r"\([^)]*\)")
_QUANTITY = re.compile(
    r"\b\d+(?:[.,/]\d+)?\s*(?:%|oz\.?|ounce|ounces|lb\.?|lbs\.?|g|kg|ml|inch)?(?=\s|$)"
    r"|\boz\.?(?=\s|$)|\blb\.?(?=\s|$)"
)
_NOT_LETTERS = re.compile(r"[^a-z ]+")
# Letters that Unicode does not decompose to an ASCII base, spelt as cookbooks write them.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d"})
# Words that describe preparation or packaging rather than what the ingredient is.
DESCRIPTORS = frozenset(
    (
        "fresh chopped large ground dried minced sliced diced grated shredded whole boneless "
        "skinless low fat reduced sodium free fine finely light lean medium small extra virgin "
        "unsalted cooked uncooked frozen canned"
    ).split()
)


def singular(word: str) -> str:
    """A crude English singular: tomatoes -> tomato, berries -> berry (and leaves -> leave,
    molasses -> molass: the same in training and serving, so only the terms read oddly)."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("oes", "ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=1 << 16)  # a few thousand ingredients make up most traffic
def normalise_ingredient(text: str) -> str:
    """Canonical words of an ingredient: no accents, brands' marks, numbers or descriptors.

    œ, æ, ß, ø, ł and đ are spelt out (bœuf -> boeuf); other letters without an ASCII base
    (CJK, Cyrillic) are dropped with the rest of non-letters."""
    decomposed = unicodedata.normalize("NFKD", _MARKS.sub("", text).lower().translate(_LIGATURES))
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _without_parentheses(text)
    text = text.replace("&", " and ").replace("\u2019", "'").replace("'", "")
    text = _NOT_LETTERS.sub(" ", _QUANTITY.sub(" ", text))
    words = [singular(word) for word in text.split()]
    kept = [word for word in words if word not in DESCRIPTORS]
    return " ".join(kept or words)  # an ingredient made only of descriptors keeps them


def _without_parentheses(text: str) -> str:
    """Drop "(...)" asides. Only up to the last ")": from each "(" with no ")" after it,
    the pattern would scan to the end, quadratic in a long ingredient ("((((...")."""
    end = text.rfind(")") + 1
    return _PARENTHESES.sub(" ", text[:end]) + text[end:]


def stored_ingredient(text: str) -> tuple[str, set[str]]:
    """An ingredient as validation stores it (NFKC, no ®/™/©/℠, single spaces, lower case),
    and which of those fixes it needed ("unicode", "whitespace", "case")."""
    fixes: set[str] = set()
    unified = unicodedata.normalize("NFKC", _MARKS.sub("", text))
    if unified != text:
        fixes.add("unicode")
    spaced = " ".join(unified.split())
    if spaced != unified:
        fixes.add("whitespace")
    lowered = spaced.lower()
    if lowered != spaced:
        fixes.add("case")
    return lowered, fixes


@functools.lru_cache(maxsize=1 << 16)
def _stored_text(text: str) -> str:
    return stored_ingredient(text)[0]


def normalise_recipe(ingredients: Iterable[str]) -> list[str]:
    """Normalised ingredients of a recipe, empty ones dropped, sorted: order never matters.

    An ingredient listed twice (as validation stores it: "Salt" and "salt ") counts once,
    as validation keeps it once in the training data."""
    unique = dict.fromkeys(_stored_text(i) for i in ingredients)
    return sorted(n for n in (normalise_ingredient(i) for i in unique) if n)


def words(recipe: Sequence[str]) -> list[str]:
    """Every word of every ingredient."""
    return [word for ingredient in recipe for word in ingredient.split()]


def words_and_bigrams(recipe: Sequence[str]) -> list[str]:
    """Words, and pairs of neighbouring words inside one ingredient (olive_oil)."""
    terms: list[str] = []
    for ingredient in recipe:
        parts = ingredient.split()
        terms += parts
        terms += [f"{a}_{b}" for a, b in pairwise(parts)]
    return terms


def whole_ingredients(recipe: Sequence[str]) -> list[str]:
    """Each ingredient as one term."""
    return [ingredient.replace(" ", "_") for ingredient in recipe]


def word_pairs(recipe: Sequence[str]) -> list[str]:
    """Every pair of distinct words in the recipe: which flavours meet (a 2015 top-5 idea)."""
    distinct = sorted({word for ingredient in recipe for word in ingredient.split()})
    return [f"{a}|{b}" for a, b in combinations(distinct, 2)]


def ingredient_pairs(recipe: Sequence[str]) -> list[str]:
    """Every pair of distinct ingredients in the recipe."""
    distinct = sorted({ingredient.replace(" ", "_") for ingredient in recipe})
    return [f"{a}|{b}" for a, b in combinations(distinct, 2)]


ANALYZERS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "words": words,
    "words_and_bigrams": words_and_bigrams,
    "ingredients": whole_ingredients,
    "word_pairs": word_pairs,
    "ingredient_pairs": ingredient_pairs,
}
# Analyzers whose terms for a recipe are each ingredient's terms, one ingredient after another.
PER_INGREDIENT = frozenset({"words", "words_and_bigrams", "ingredients"})


PAIRS_PER_CHUNK = 1 << 18  # word pairs looked up at once: about 10 MB of int64 arrays


@dataclass
class FittedBlock:
    """One vectoriser after fitting: its terms (column order) and their IDF weights."""

    params: FeatureBlockParams
    terms: list[str]
    idf: np.ndarray

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Column of each term; built on first use (word_pairs blocks look up integer keys)."""
        return {term: i for i, term in enumerate(self.terms)}

    def entries(
        self, recipes: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TF-IDF entries (row, column, value): sublinear tf, L2-normalised, times the weight."""
        if self.params.analyzer == "word_pairs":
            row_index, column_index, values = self._word_pair_counts(recipes)
        else:
            row_index, column_index, values = self._term_counts(recipes)
        if self.params.sublinear_tf:
            values = 1.0 + np.log(values)
        values *= self.idf[column_index]
        norms = np.sqrt(np.bincount(row_index, weights=values * values, minlength=len(recipes)))
        values *= self.params.weight / norms[row_index]
        return row_index, column_index, values.astype(np.float32)

    def _term_counts(
        self, recipes: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, count) of every known term, rows in order, terms as the analyzer
        yields them."""
        analyzer, index = ANALYZERS[self.params.analyzer], self.index

        def known_columns(terms: list[str]) -> list[int]:
            return [column for term in terms if (column := index.get(term)) is not None]

        if self.params.analyzer in PER_INGREDIENT:
            # Most ingredients recur within a batch: each is analysed once (9,944 recipes:
            # 0.11 s against 0.19 s).
            columns_of: dict[str, list[int]] = {}

            def recipe_columns(recipe: Sequence[str]) -> list[int]:
                found: list[int] = []
                for ingredient in recipe:
                    columns = columns_of.get(ingredient)
                    if columns is None:
                        columns = columns_of[ingredient] = known_columns(analyzer([ingredient]))
                    found += columns
                return found
        else:

            def recipe_columns(recipe: Sequence[str]) -> list[int]:
                return known_columns(analyzer(recipe))

        rows: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        # Plain Python per term, numpy once per block: per-row numpy calls cost more.
        for row, recipe in enumerate(recipes):
            for column, count in Counter(recipe_columns(recipe)).items():
                rows.append(row)
                columns.append(column)
                counts.append(count)
        row_index = np.array(rows, dtype=np.int64)
        return row_index, np.array(columns, dtype=np.int64), np.array(counts, dtype=np.float64)

    @functools.cached_property
    def _pair_keys(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Word ids (in sorted word order), and the block's pairs as sorted integer keys
        first * n_words + second, with the column of each."""
        parts = "|".join(self.terms).split("|")  # a|b terms: 3x faster than one split each
        word_id = {word: i for i, word in enumerate(sorted(set(parts)))}
        n_words = len(word_id)
        if all(term.count("|") == 1 for term in self.terms):
            firsts = np.fromiter(map(word_id.__getitem__, parts[0::2]), np.int64, len(self.terms))
            seconds = np.fromiter(map(word_id.__getitem__, parts[1::2]), np.int64, len(firsts))
            keys = firsts * n_words + seconds
        else:  # a term word_pairs cannot yield (no or two |): key -1, which never matches
            pairs = [term.split("|") for term in self.terms]
            keys = np.fromiter(
                (word_id[p[0]] * n_words + word_id[p[1]] if len(p) == 2 else -1 for p in pairs),
                np.int64,
                len(pairs),
            )
        order = np.argsort(keys, kind="stable")
        return word_id, keys[order], order.astype(np.int64)

    def _word_pair_counts(
        self, recipes: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What _term_counts gives for word_pairs, in the same order, 4-5x faster: the pairs
        of a recipe's known words are looked up as integer keys, recipes of equal word
        count together. About 190 pairs a recipe made this block most of `predict`'s time."""
        word_id, keys, key_columns = self._pair_keys
        n_words = len(word_id)
        if not len(keys):
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        # Each recipe's known words as ids, sorted: ids follow the words' sorted order. Each
        # ingredient is split once per batch.
        ids_of: dict[str, list[int]] = {}
        known: list[list[int]] = []
        for recipe in recipes:
            recipe_ids: set[int] = set()
            for ingredient in recipe:
                ingredient_ids = ids_of.get(ingredient)
                if ingredient_ids is None:
                    ingredient_ids = ids_of[ingredient] = [
                        word_id[w] for w in ingredient.split() if w in word_id
                    ]
                recipe_ids.update(ingredient_ids)
            known.append(sorted(recipe_ids))
        sizes = np.fromiter((len(ids) for ids in known), np.int64, len(known))
        rows, columns = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for size in np.unique(sizes[sizes >= 2]):
            first, second = np.triu_indices(size, 1)  # combinations() order: as word_pairs
            # A few recipes at a time: a recipe may hold ~2,000 known words (2 million
            # pairs), so a whole batch at once could take gigabytes.
            step = max(1, PAIRS_PER_CHUNK // len(first))
            same_size = np.flatnonzero(sizes == size)
            for start in range(0, len(same_size), step):
                members = same_size[start : start + step]
                ids = np.array([known[m] for m in members], dtype=np.int64)
                wanted = (ids[:, first] * n_words + ids[:, second]).ravel()
                where = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
                found = keys[where] == wanted
                rows.append(np.repeat(members, len(first))[found])
                columns.append(key_columns[where[found]])
        row_index, column_index = np.concatenate(rows), np.concatenate(columns)
        by_row = np.argsort(row_index, kind="stable")  # each row's pairs keep their order
        return row_index[by_row], column_index[by_row], np.ones(len(by_row), np.float64)

    def transform(self, recipes: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """The block's rows as a scipy CSR matrix."""
        return SparseRows.from_entries(
            [self.entries(recipes)], len(recipes), len(self.terms)
        ).to_scipy()


@dataclass(frozen=True)
class SparseRows:
    """CSR arrays in plain numpy: serving needs no scipy (it would not fit a Lambda zip)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_columns: int

    @classmethod
    def from_entries(
        cls,
        blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
        n_rows: int,
        n_columns: int,
    ) -> SparseRows:
        """Rows from (row, column, value) entries; columns sorted within each row."""
        rows = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, np.int64)
        columns = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0, np.int64)
        values = np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0, np.float32)
        # lexsort's order from one int64 key: each block's entries come in row order, and a
        # stable sort (timsort) merges such runs in 0.025 s against lexsort's 0.31 s for
        # 9,944 recipes.
        order = np.argsort(rows * max(n_columns, 1) + columns, kind="stable")
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        return cls(indptr, columns[order], values[order], n_columns)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.indptr) - 1

    def to_scipy(self) -> sp.csr_matrix:
        """The same rows as a scipy CSR matrix (training needs scipy anyway)."""
        import scipy.sparse

        shape = (self.n_rows, self.n_columns)
        return scipy.sparse.csr_matrix((self.data, self.indices, self.indptr), shape=shape)


def fit_block(params: FeatureBlockParams, recipes: Sequence[Sequence[str]]) -> FittedBlock:
    """Learn a block's vocabulary (terms in at least min_df recipes) and smoothed IDF."""
    analyzer = ANALYZERS[params.analyzer]
    document_frequency: Counter[str] = Counter()
    for recipe in recipes:
        document_frequency.update(set(analyzer(recipe)))
    terms = sorted(t for t, df in document_frequency.items() if df >= params.min_df)
    df = np.array([document_frequency[t] for t in terms], dtype=np.float64)
    idf = np.log((1 + len(recipes)) / (1 + df)) + 1.0  # as scikit-learn's smooth_idf
    return FittedBlock(params=params, terms=terms, idf=idf.astype(np.float32))


@dataclass
class Featurizer:
    """Several fitted blocks side by side: recipes (raw ingredient lists) -> one CSR matrix."""

    blocks: list[FittedBlock]

    @classmethod
    def fit(
        cls, params: Sequence[FeatureBlockParams], recipes: Sequence[Sequence[str]]
    ) -> Featurizer:
        """Fit every block on the raw recipes."""
        normalised = [normalise_recipe(r) for r in recipes]
        return cls([fit_block(p, normalised) for p in params])

    @property
    def n_features(self) -> int:
        """Columns of the feature matrix."""
        return sum(len(block.terms) for block in self.blocks)

    def rows(self, recipes: Sequence[Sequence[str]]) -> SparseRows:
        """Feature rows for raw recipes, in order, as plain numpy CSR arrays."""
        normalised = [normalise_recipe(r) for r in recipes]
        entries, offset = [], 0
        for block in self.blocks:
            row, column, value = block.entries(normalised)
            entries.append((row, column + offset, value))
            offset += len(block.terms)
        return SparseRows.from_entries(entries, len(recipes), offset)

    def transform(self, recipes: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Feature rows for raw recipes, in order, as a scipy CSR matrix."""
        return self.rows(recipes).to_scipy()
