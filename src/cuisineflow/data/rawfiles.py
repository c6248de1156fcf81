"""Reading and schema-checking raw recipe files: Kaggle's zip or JSON array, or JSON Lines."""

from __future__ import annotations

import codecs
import io
import json
import lzma
import math
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from cuisineflow.data.validation import InvalidJson, RawRecord
from cuisineflow.errors import DataError
from cuisineflow.schemas import Label, RawRecipe

RAW_SUFFIXES = (".zip", ".json", ".jsonl", ".ndjson")
MAX_ERRORS_SHOWN = 5
MAX_UNZIPPED_BYTES = 1 << 30  # a zip's member is read whole: a small zip may unpack to GBs

Record = TypeVar("Record", bound=BaseModel)


@dataclass(frozen=True)
class RawFileSummary:
    """What a raw file holds, once its schema has been checked."""

    name: str
    recipes: int
    labelled: int


def is_raw_file(path: Path) -> bool:
    """Whether the file name has one of the raw-data suffixes.

    Kaggle's download also holds sample_submission.csv.zip: a zipped CSV is not recipes.
    """
    name = path.name.lower()
    return name.endswith(RAW_SUFFIXES) and not name.endswith(".csv.zip") and name[:1] != "."


def json_payload(path: Path) -> bytes:
    """The JSON bytes of a raw file, taken out of its zip when zipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a recipe file") from None
    data = data.removeprefix(codecs.BOM_UTF8)  # a byte-order mark some editors write
    if wide := _utf16_or_32(data):
        raise DataError(f"{path}: {wide} text, not UTF-8: save it as UTF-8")
    if not data.strip():
        raise DataError(f"{path}: the file is empty")
    if not path.name.lower().endswith(".zip"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and m.filename.lower().endswith((".json", ".jsonl", ".ndjson"))
                and not m.filename.startswith("__MACOSX")
            ]
            if len(members) != 1:
                found = ", ".join(archive.namelist()) or "nothing"
                raise DataError(
                    f"{path}: a zip must hold exactly one JSON or JSON Lines file; it holds {found}"
                )
            member = members[0].filename
            if members[0].file_size > MAX_UNZIPPED_BYTES:  # zipfile stops at the stated size
                raise DataError(
                    f"{path}: {member} inside the zip holds {members[0].file_size:,} bytes "
                    f"unzipped, over the {MAX_UNZIPPED_BYTES:,} a recipe file may (Kaggle's "
                    "train.json is 12 MB): refusing to read it into memory"
                )
            try:
                payload = archive.read(members[0])
            except NotImplementedError as error:  # Deflate64, strong encryption, ...
                raise DataError(
                    f"{path}: {member} inside the zip cannot be read ({error}); "
                    "unzip it and import the JSON file instead"
                ) from None
            except RuntimeError:  # zipfile's error for a member that needs a password
                raise DataError(
                    f"{path}: {member} inside the zip is encrypted; unzip it and import the "
                    "JSON file instead"
                ) from None
            # A damaged or cut member: zlib (deflate), lzma, and OSError for bzip2's
            # "Invalid data stream"; the zip is read from memory, so no other OSError comes.
            except (zlib.error, lzma.LZMAError, OSError, EOFError) as error:
                detail = str(error) or "it is cut short"  # EOFError says nothing
                raise DataError(
                    f"{path}: not a valid zip archive ({member} is damaged: {detail})"
                ) from None
    except zipfile.BadZipFile as error:
        raise DataError(f"{path}: not a valid zip archive ({error})") from None
    payload = payload.removeprefix(codecs.BOM_UTF8)
    if wide := _utf16_or_32(payload):
        raise DataError(
            f"{path}: {member} inside the zip is {wide} text, not UTF-8: save it as UTF-8"
        )
    if not payload.strip():
        raise DataError(f"{path}: the file inside the zip is empty")
    return payload


def _utf16_or_32(data: bytes) -> str | None:
    """Whether the text is UTF-16 or UTF-32 (PowerShell 5 writes UTF-16 with `>`): refused,
    as lines split as bytes and the leading `[` test would half-read it."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    # No mark: JSON's first character is ASCII, so its zero bytes tell (RFC 4627); what
    # does not then start as JSON is left to be refused as not JSON.
    detected = json.detect_encoding(data[:4])
    if detected.startswith("utf-8"):
        return None
    starts_as_json = data[:64].decode(detected, "ignore").lstrip()[:1] in ("[", "{")
    return detected.upper()[:6] if starts_as_json else None


def parse_recipes(payload: bytes, name: str) -> list[RawRecipe]:
    """Recipes from a JSON array or JSON Lines payload; a DataError names each bad record."""
    return _parse_records(payload, name, RawRecipe)


def _parse_records(payload: bytes, name: str, schema: type[Record]) -> list[Record]:
    """Records of a schema from a JSON array or JSON Lines payload; a DataError names each
    bad record."""
    text_start = payload.lstrip()[:1]
    if text_start == b"[":
        try:
            return TypeAdapter(list[schema]).validate_json(payload)  # type: ignore[valid-type]
        except ValidationError as error:
            raise DataError(_describe(error, name, schema, array=True)) from None
    if text_start == b"{":
        return _parse_json_lines(payload, name, schema)
    fields = ", ".join(f'"{field}"' for field in schema.model_fields)
    raise DataError(
        f"{name}: not {_NAMES[schema][0]}; expected a JSON array of {{{fields}}} objects, "
        "or JSON Lines of them"
    )


def read_raw_file(path: Path) -> list[RawRecipe]:
    """Parse and schema-check one raw file (zip, JSON array or JSON Lines)."""
    recipes = parse_recipes(json_payload(path), path.name)
    if not recipes:
        raise DataError(f"{path.name}: holds no recipes")
    return recipes


def read_label_file(path: Path) -> list[Label]:
    """Parse and schema-check a file of labels: {id, cuisine} records, as Kaggle's recipes
    are or bare (zip, JSON array or JSON Lines)."""
    labels = _parse_records(json_payload(path), path.name, Label)
    if not labels:
        raise DataError(f"{path.name}: holds no labels")
    return labels


def summarise(path: Path, recipes: Sequence[RawRecipe]) -> RawFileSummary:
    """Counts for a file's recipes."""
    labelled = sum(1 for recipe in recipes if recipe.cuisine is not None)
    return RawFileSummary(name=path.name, recipes=len(recipes), labelled=labelled)


def _parse_json_lines(payload: bytes, name: str, schema: type[Record]) -> list[Record]:
    records: list[Record] = []
    problems: list[str] = []
    for number, line in enumerate(payload.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(schema.model_validate_json(line))
        except ValidationError as error:
            problems.extend(f"line {number}: {_message(e)}" for e in error.errors())
    if problems:
        raise DataError(_summarise_problems(name, schema, problems))
    return records


def _describe(error: ValidationError, name: str, schema: type[BaseModel], array: bool) -> str:
    problems = []
    for item in error.errors():
        location = list(item["loc"])
        if array and location and isinstance(location[0], int):
            record = int(location.pop(0)) + 1  # counted from 1, as lines and `predict` are
            item = {**item, "loc": tuple(location)}
            problems.append(f"record {record}: {_message(item)}")
        else:
            problems.append(_message(item))
    return _summarise_problems(name, schema, problems)


def _message(item: object) -> str:
    details = item if isinstance(item, dict) else {}
    location = ".".join(str(part) for part in details.get("loc", ()))
    kind = details.get("type", "")
    if kind == "json_invalid":
        return f"invalid JSON ({details.get('ctx', {}).get('error', details.get('msg'))})"
    if kind == "missing":
        return f"field {location!r} is missing"
    if location:
        return f"field {location!r}: {details.get('msg')}"
    return str(details.get("msg"))


def _summarise_problems(name: str, schema: type[BaseModel], problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_ERRORS_SHOWN])
    more = len(problems) - MAX_ERRORS_SHOWN
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{name}: not {_NAMES[schema][1]}: {shown}{suffix}"


# Per schema: what a file that is not JSON is not, and what a file of bad records is not.
_NAMES: dict[type[BaseModel], tuple[str, str]] = {
    RawRecipe: ("recipe data", "in the What's Cooking schema"),
    Label: ("labels", "labels ({id, cuisine} records)"),
}


def split_name(path: Path) -> str:
    """The split a raw file holds, from its name: train.json.zip -> train.

    It names a Hive partition of the lake (split=train), where `=`, `%` or `/` would be
    read back as something else: such names are refused.
    """
    split = path.name.split(".", 1)[0]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", split):
        raise DataError(
            f"{path.name}: a raw file's name before its first dot names its split in the lake; "
            "use letters, digits, - and _ only (e.g. extra-2026.jsonl)"
        )
    return split


def load_raw_records(path: Path, for_lake: bool = True) -> list[RawRecord]:
    """Every record of a raw file, unchecked, for the validation rules to judge one by one.

    A JSON array that does not parse fails as a whole; in JSON Lines only the bad line does.
    For the lake, the file's name must name its split (`split_name`); a file read for
    anything else (a batch to predict) may have any name, and its records no split ("").
    A record holding a number JSON cannot write back (1e400, NaN) keeps its own text too.
    """
    payload = json_payload(path)
    split = split_name(path) if for_lake else ""
    if payload.lstrip()[:1] == b"[":
        try:
            values, odd = _loads(payload)
        except ValueError as error:  # JSONDecodeError, or UnicodeDecodeError: not UTF-8
            raise DataError(f"{path.name}: invalid JSON ({error})") from None
        except RecursionError:  # arrays or objects nested thousands deep
            raise DataError(f"{path.name}: invalid JSON (nested too deeply to read)") from None
        texts = _item_texts(_json_text(payload)) if odd else [None] * len(values)
        return [
            RawRecord(
                path.name, split, number, value, text=text if text and _loads(text)[1] else None
            )
            for number, (value, text) in enumerate(zip(values, texts, strict=True), start=1)
        ]
    records = []
    for number, line in enumerate(payload.splitlines(), start=1):
        if not line.strip():
            continue
        text = None
        try:
            value, odd = _loads(line)
            if odd:
                text = _json_text(line)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deeply
            # Bytes that are not UTF-8 are kept as their escapes (\xe9), not as U+FFFD.
            value = InvalidJson(line.decode("utf-8", errors="backslashreplace"))
        records.append(RawRecord(path.name, split, number, value, in_lines=True, text=text))
    return records


def _loads(data: bytes | str) -> tuple[Any, bool]:
    """JSON's value as json.loads reads it, and whether it holds a number that JSON cannot
    write back: an overflowing one (1e400 reads as infinity), NaN or Infinity."""
    odd = False

    def constant(token: str) -> float:
        nonlocal odd
        odd = True
        return float(token)

    def number(token: str) -> float:
        nonlocal odd
        value = float(token)
        odd = odd or not math.isfinite(value)
        return value

    return json.loads(data, parse_constant=constant, parse_float=number), odd


def _json_text(data: bytes) -> str:
    """Text of bytes that json.loads has read, decoded as it decodes them."""
    return data.decode(json.detect_encoding(data), "surrogatepass")


def _item_texts(text: str) -> list[str]:
    """Each item's own text in a JSON array that parses (for the rare record that needs it)."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")
    index = space.match(text, text.index("[") + 1).end()  # type: ignore[union-attr]
    texts: list[str] = []
    while text[index] != "]":
        _, end = decoder.raw_decode(text, index)
        texts.append(text[index:end])
        index = space.match(text, end).end()  # type: ignore[union-attr]
        if text[index] == ",":
            index = space.match(text, index + 1).end()  # type: ignore[union-attr]
    return texts
