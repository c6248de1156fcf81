"""cuisineflow: raw recipes to a versioned, served and monitored cuisine classifier."""

import os

# LightGBM's OpenMP threads spin 300,000 times at each of its many barriers before they
# sleep, waiting on threads that another busy process keeps off the cores: beside one busy
# loop on two cores, the default trees took 418 s to fit, against 125 s with 1,000 spins,
# and idle 69 s against 62 s (benchmarks/trees_contention.py). OpenMP reads this once,
# when it is loaded, so it is set here, before any module of the package can import
# LightGBM (and before a test file that imports lightgbm itself: conftest imports the
# package first); it changes how threads wait, not the trees.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # __version__ is looked up when first asked for: importlib.metadata takes ~75 ms, and
    # the package itself is imported before the console script can catch a Ctrl-C.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("cuisineflow")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
