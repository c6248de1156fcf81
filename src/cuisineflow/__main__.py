"""`python -m cuisineflow`, and the `cuisineflow` console script's entry point."""

import sys


def run() -> None:
    """Run the CLI; a Ctrl-C at any point, while its modules are still being imported
    included, exits quietly with status 130 (128 + SIGINT), as one in a command does."""
    try:
        from cuisineflow.cli import main

        main()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    run()
