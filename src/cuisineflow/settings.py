"""Where and who: the store, the S3 endpoint, the raw-data source (CUISINEFLOW_* variables)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cuisineflow.errors import CuisineflowError

DEFAULT_STORE = ".cuisineflow/store"


class Settings(BaseSettings):
    """Runtime settings read from CUISINEFLOW_* environment variables and an optional .env."""

    model_config = SettingsConfigDict(
        env_prefix="CUISINEFLOW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    store: str = Field(
        default=DEFAULT_STORE,
        description="Store URI: a local folder (relative to the project) or s3://bucket/prefix.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint, e.g. http://127.0.0.1:9000."
    )
    region: str | None = Field(default=None, description="AWS region of the store's bucket.")
    source: str | None = Field(
        default=None, description="Where `run` imports raw data from when data/raw is absent."
    )
    model: str = Field(
        default="cuisine@latest",
        description="Model the server loads: NAME@ALIAS, NAME@VERSION or a folder.",
    )
    model_cache: str = Field(
        default=".cuisineflow/cache/models", description="Local copies of registry versions."
    )
    model_cache_versions: int = Field(
        default=3,
        ge=1,
        description="Copies of each model's versions the cache keeps: the most recently used.",
    )
    log_predictions: bool = Field(
        default=True, description="Whether the server logs predictions to <store>/monitoring."
    )
    reload_token: str | None = Field(
        default=None, description="Bearer token that POST /v1/model/reload requires."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_the_default(cls, value: object, info: ValidationInfo) -> object:
        # An exported empty variable means unset: read as a path, "" would make the
        # project's own root the store, the model or the model cache.
        if isinstance(value, str) and not value.strip() and info.field_name is not None:
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("store")
    @classmethod
    def _store_is_a_folder_or_url(cls, value: str) -> str:
        # "s3:/bucket" or "s3//bucket" would otherwise become a folder in the project.
        malformed = re.match(r"^s3(:(?!//)|//)", value, re.IGNORECASE) or re.match(
            r"^[A-Za-z][A-Za-z0-9+.-]+:/(?!/)", value
        )
        if malformed:
            raise ValueError(f"{value!r} is neither a folder nor a URL: write s3://BUCKET/PREFIX")
        return value

    @field_validator("s3_endpoint_url", mode="before")
    @classmethod
    def _endpoint_is_http(cls, value: str | None) -> str | None:
        if value is None or not str(value).strip():
            return None  # an exported empty variable means unset
        value = str(value).strip()
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL, e.g. http://127.0.0.1:9000")
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number in range)
        except ValueError:
            raise ValueError(f"{value!r} has a bad port") from None
        return parts._replace(scheme=parts.scheme.lower()).geturl()

    def source_for(self, project_root: Path) -> str | None:
        """The raw-data source: a relative folder is the project's, like the store's.

        `kaggle:` names a download and `://` a URL; anything else (`backup:2026` too) is a
        path, as the store reads it.
        """
        if self.source is None or self.source.startswith("kaggle:") or "://" in self.source:
            return self.source  # import_raw names what it cannot read
        path = Path(self.source).expanduser()
        return str(path if path.is_absolute() else project_root / path)

    def store_uri(self, project_root: Path) -> str:
        """The store as an absolute URI: local paths are resolved against the project root."""
        if "://" in self.store:
            scheme, rest = self.store.split("://", 1)
            return f"{scheme}://{rest.rstrip('/')}"
        path = Path(self.store).expanduser()
        if not path.is_absolute():
            path = project_root / path
        return str(path.resolve())


def project_folder(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the current one) that holds .dvc."""
    here = (start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / ".dvc").is_dir()), None)


def home_project(root: Path) -> Path:
    """The project that `root` is a queued experiment's copy of, else `root` itself.

    DVC runs a queued experiment in <project>/.dvc/tmp/exps/<name>/ and deletes the copy
    afterwards; the models it registers must land in the project's own store, and its
    settings come from the project's own .env (git ignores it, so the copy has none).
    """
    parts = root.parts
    for i in range(len(parts) - 2):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return root


def get_settings() -> Settings:
    """Read the settings now (never at import time); a bad value names its variable.

    The .env file is the project's, whichever of its folders a command starts in (and a
    queued experiment's copy reads its project's).
    """
    env_file = home_project(project_folder() or Path.cwd()) / ".env"
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except (UnicodeDecodeError, OSError) as error:
        raise CuisineflowError(f"{env_file}: cannot read it as UTF-8 text ({error})") from None
    except ValidationError as error:
        problems = "; ".join(
            f"CUISINEFLOW_{'_'.join(str(p) for p in item['loc']).upper()}: "
            + item["msg"].removeprefix("Value error, ")  # pydantic's, before our own words
            for item in error.errors()
        )
        raise CuisineflowError(f"bad setting: {problems}") from None
