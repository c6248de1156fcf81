"""Errors a user can act on: the CLI prints their message and exits non-zero, no traceback."""


class CuisineflowError(Exception):
    """Base of every error whose message alone tells the user what is wrong."""


class DataError(CuisineflowError):
    """Input data that is missing, corrupt or not in the expected schema."""


class ProjectError(CuisineflowError):
    """The working folder is not a usable cuisineflow project, or a tool it drives failed."""
