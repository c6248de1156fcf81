"""Raw files: Kaggle's zip and JSON array, JSON Lines, and every way they can be wrong."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from cuisineflow.data.batch import read_batch
from cuisineflow.data.rawfiles import (
    is_raw_file,
    load_raw_records,
    parse_recipes,
    read_label_file,
    read_raw_file,
    summarise,
)
from cuisineflow.data.validation import InvalidJson
from cuisineflow.errors import DataError
from tests.conftest import make_recipes, write_kaggle_zip


def test_reads_kaggle_zip_with_labels(tmp_path: Path) -> None:
    recipes = read_raw_file(write_kaggle_zip(tmp_path / "train.json.zip", make_recipes(12)))
    assert len(recipes) == 12
    assert recipes[0].id == 1000
    assert recipes[0].cuisine == "chinese"
    assert recipes[0].ingredients[-2:] == ["salt", "garnish 0-0"]


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(make_recipes(3)).encode())
    assert [r.id for r in read_raw_file(path)] == [1000, 1001, 1002]


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16"),  # PowerShell 5's `>`: a byte-order mark, then little-endian
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
    ],
)
@pytest.mark.parametrize("lines", [True, False], ids=["jsonl", "json"])
def test_utf16_or_utf32_text_is_refused_naming_the_file_and_encoding(
    tmp_path: Path, encoding: str, named: str, lines: bool
) -> None:
    recipes = make_recipes(3, labelled=False)
    text = "".join(json.dumps(r) + "\n" for r in recipes) if lines else json.dumps(recipes)
    path = tmp_path / ("batch.jsonl" if lines else "batch.json")
    path.write_bytes(text.encode(encoding))
    message = f"{path}: {named} text, not UTF-8: save it as UTF-8"
    # Import, labels, validate and predict (its records read one by one): all alike, not
    # one record read of three, nor invalid JSON at line 2.
    for read in (read_raw_file, read_label_file, load_raw_records):
        with pytest.raises(DataError) as error:
            read(path)
        assert str(error.value) == message
    with pytest.raises(DataError) as error:
        read_batch(path, skip_invalid=True)  # predict --skip-invalid
    assert str(error.value) == message
    zipped = tmp_path / "train.json.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("train.json", text.encode(encoding))
    with pytest.raises(DataError) as error:
        read_raw_file(zipped)
    assert str(error.value) == f"{zipped}: train.json inside the zip is {named} text, " + (
        "not UTF-8: save it as UTF-8"
    )


def test_a_file_starting_with_a_zero_byte_that_is_no_json_is_not_called_utf16(
    tmp_path: Path,
) -> None:
    path = tmp_path / "junk.json"
    path.write_bytes(b"\x00\x01\x02junk")
    with pytest.raises(DataError, match=r"junk\.json: not recipe data"):
        read_raw_file(path)


@pytest.mark.parametrize("name", ["my recipes%20=v2.jsonl", "a=b.json", "x%41.json"])
def test_a_name_the_lake_cannot_partition_by_is_refused(tmp_path: Path, name: str) -> None:
    from cuisineflow.data.rawfiles import split_name

    with pytest.raises(DataError, match="use letters, digits, - and _ only"):
        split_name(tmp_path / name)
    assert split_name(tmp_path / "extra-2026_b.jsonl") == "extra-2026_b"


def test_reads_json_lines_without_cuisine(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    lines = [json.dumps(r) for r in make_recipes(5, labelled=False)]
    path.write_text("\n".join(lines) + "\n\n")
    recipes = read_raw_file(path)
    assert [r.id for r in recipes] == [1000, 1001, 1002, 1003, 1004]
    assert all(r.cuisine is None for r in recipes)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            b'[{"id": "7", "ingredients": ["a"]}]',
            "x.json: not in the What's Cooking schema: record 1: field 'id': "
            "Input should be a valid integer",
        ),
        (
            b'[{"id": 1, "ingredients": ["a"]}, {"id": 2, "cuisine": "greek"}]',
            "x.json: not in the What's Cooking schema: record 2: field 'ingredients' is missing",
        ),
        (
            b'[{"id": 1, "ingredients": "salt"}]',
            "x.json: not in the What's Cooking schema: record 1: field 'ingredients': "
            "Input should be a valid array",
        ),
        (
            b'[{"id": 1, "ingredients": ["salt", 3]}]',
            "x.json: not in the What's Cooking schema: record 1: field 'ingredients.1': "
            "Input should be a valid string",
        ),
        (
            b'{"id": 1, "ingredients": ["a"]}\n{"id": 2, "ingredients": [null]}\n',
            "x.json: not in the What's Cooking schema: line 2: field 'ingredients.0': "
            "Input should be a valid string",
        ),
        (
            b'[{"id": 1180591620717411303424, "ingredients": ["salt"]}]',
            "x.json: not in the What's Cooking schema: record 1: field 'id': "
            "Input should be less than or equal to 9223372036854775807",
        ),
        (
            b'[{"id": 1, "ingredients": ["a"]}, 5]',
            "x.json: not in the What's Cooking schema: record 2: Input should be an object",
        ),
        (
            b'[{"id": "1", "ingredients": ["a"]}, {"id": 2}]',
            "x.json: not in the What's Cooking schema: record 1: field 'id': "
            "Input should be a valid integer; record 2: field 'ingredients' is missing",
        ),
        (
            # Blank is no label (validate would quarantine it) and not clearly none either.
            b'[{"id": 1, "cuisine": "thai", "ingredients": ["a"]}, {"id": 2, "cuisine": "", '
            b'"ingredients": ["a"]}, {"id": 3, "cuisine": null, "ingredients": ["a"]}]',
            "x.json: not in the What's Cooking schema: record 2: field 'cuisine': is blank: "
            "leave it out, or set it to null, for a recipe without a cuisine",
        ),
        (
            b'{"id": 1, "cuisine": " \\t ", "ingredients": ["a"]}\n',
            "x.json: not in the What's Cooking schema: line 1: field 'cuisine': is blank: "
            "leave it out, or set it to null, for a recipe without a cuisine",
        ),
        (
            b"id,ingredients\n1,salt\n",
            'x.json: not recipe data; expected a JSON array of {"id", "cuisine", "ingredients"} '
            "objects, or JSON Lines of them",
        ),
    ],
)
def test_schema_errors_name_the_record_and_field(payload: bytes, message: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_recipes(payload, "x.json")
    assert str(caught.value) == message


def test_many_errors_are_summarised() -> None:
    payload = json.dumps([{"id": i, "ingredients": [i]} for i in range(8)]).encode()
    with pytest.raises(DataError, match=r"record 4: .*\(and 3 more\)$"):
        parse_recipes(payload, "x.json")


def test_five_errors_are_all_shown_and_a_sixth_is_counted() -> None:
    five = json.dumps([{"id": i, "ingredients": [i]} for i in range(5)]).encode()
    with pytest.raises(DataError) as caught:
        parse_recipes(five, "x.json")
    assert str(caught.value).endswith(
        "record 5: field 'ingredients.0': Input should be a valid string"
    )
    six = json.dumps([{"id": i, "ingredients": [i]} for i in range(6)]).encode()
    with pytest.raises(DataError, match=r"record 5: .* \(and 1 more\)$"):
        parse_recipes(six, "x.json")


def test_truncated_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text('[{"id": 1, "ingredients": ["a"]')
    with pytest.raises(DataError, match=r"^train.json: .*invalid JSON"):
        read_raw_file(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", b"", "the file is empty"),
        ("none.json", b"[]", "none.json: holds no recipes"),
        ("bad.zip", b"PK\x03\x04 not really a zip", "not a valid zip archive"),
    ],
)
def test_empty_and_corrupt_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_raw_file(path)


def test_a_missing_file_or_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing.json: no such file$"):
        read_raw_file(tmp_path / "missing.json")
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(DataError, match=r"folder.json: is a folder, not a recipe file$"):
        read_raw_file(tmp_path / "folder.json")


@pytest.mark.parametrize("member", ["train.json", "train.jsonl", "train.ndjson"])
def test_a_zip_is_read_past_folders_and_macos_metadata(tmp_path: Path, member: str) -> None:
    path = tmp_path / "train.zip"
    recipes = make_recipes(3)
    text = json.dumps(recipes) if member.endswith(".json") else "\n".join(map(json.dumps, recipes))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/", "")
        archive.writestr(f"data/{member}", b"\xef\xbb\xbf" + text.encode())
        archive.writestr(f"__MACOSX/data/._{member}", b"\x00\x05\x16\x07")
        archive.writestr("README.txt", "What's Cooking")
    assert [r.id for r in read_raw_file(path)] == [1000, 1001, 1002]


def test_a_zip_holding_nothing_or_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty_zip = tmp_path / "nothing.zip"
    with zipfile.ZipFile(empty_zip, "w"):
        pass
    with pytest.raises(DataError, match=r"exactly one JSON or JSON Lines file; it holds nothing$"):
        read_raw_file(empty_zip)
    blank = tmp_path / "blank.zip"
    with zipfile.ZipFile(blank, "w") as archive:
        archive.writestr("train.json", b"\xef\xbb\xbf \n")
    with pytest.raises(DataError, match=r"blank.zip: the file inside the zip is empty$"):
        read_raw_file(blank)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("train.json.zip", True),
        ("test.json", True),
        ("extra.JSONL", True),
        ("more.ndjson", True),
        ("sample_submission.csv.zip", False),
        (".train.json", False),
        ("notes.txt", False),
        ("train.json.bak", False),
    ],
)
def test_raw_files_are_told_by_their_name(name: str, raw: bool) -> None:
    assert is_raw_file(Path("data/raw") / name) is raw


def test_summarise_counts_recipes_and_labelled_ones(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [*make_recipes(3), *make_recipes(2, seed=1, labelled=False)]
    path.write_text("\n".join(json.dumps(r) for r in lines))
    summary = summarise(path, read_raw_file(path))
    assert (summary.name, summary.recipes, summary.labelled) == ("mixed.jsonl", 5, 3)
    with pytest.raises(AttributeError):
        summary.recipes = 0  # type: ignore[misc]


def test_label_files_hold_ids_and_cuisines(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": 1, "cuisine": "greek"}\n{"id": 2}\n')
    assert [(label.id, label.cuisine) for label in read_label_file(path)] == [
        (1, "greek"),
        (2, None),
    ]
    path.write_text("[]")
    with pytest.raises(DataError, match=r"^labels.jsonl: holds no labels$"):
        read_label_file(path)
    path.write_text("id,cuisine\n1,greek\n")
    with pytest.raises(
        DataError, match=r'^labels.jsonl: not labels; expected a JSON array of \{"id", "cuisine"\}'
    ):
        read_label_file(path)
    # The server logs the ids its clients send, strings too: labels can name them.
    path.write_text('[{"id": "order-17", "cuisine": "greek"}, {"id": 1.5, "cuisine": "thai"}]')
    with pytest.raises(DataError) as caught:
        read_label_file(path)
    assert str(caught.value) == (
        "labels.jsonl: not labels ({id, cuisine} records): record 2: field 'id': "
        "should be an integer or a string, not 1.5"
    )
    path.write_text('{"id": "order-17", "cuisine": "greek"}\n{"id": [3]}\n')
    with pytest.raises(DataError, match=r"line 2: field 'id': should be an integer or a string"):
        read_label_file(path)
    path.write_text('{"id": "order-17", "cuisine": "greek"}\n{"id": 18446744073709551616}\n')
    assert [label.id for label in read_label_file(path)] == ["order-17", 2**64]


def test_raw_records_are_read_one_by_one(tmp_path: Path) -> None:
    array = tmp_path / "extra.json"
    array.write_text(json.dumps([{"id": 1}, "not a recipe"]))
    records = load_raw_records(array)
    assert [(r.source, r.split, r.position, r.value, r.in_lines) for r in records] == [
        ("extra.json", "extra", 1, {"id": 1}, False),
        ("extra.json", "extra", 2, "not a recipe", False),
    ]
    assert records[1].where == "record 2"  # counted from 1, as lines and `predict` are
    array.write_text('[{"id": 1}')
    with pytest.raises(DataError, match=r"^extra.json: invalid JSON \("):
        load_raw_records(array)
    lines = tmp_path / "extra.jsonl"
    lines.write_bytes(b'{"id": 1}\n\n  \n{"id": 2, "ingredients": ["cr\xe8me"]}\n[3]\n{"id":\n')
    records = load_raw_records(lines)
    assert [(r.position, r.value, r.in_lines) for r in records] == [
        (1, {"id": 1}, True),
        (4, InvalidJson('{"id": 2, "ingredients": ["cr\\xe8me"]}'), True),  # the byte kept
        (5, [3], True),
        (6, InvalidJson('{"id":'), True),
    ]
    assert records[0].where == "line 1"


def test_zip_must_hold_one_json_file(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.json", "[]")
        archive.writestr("b.json", "[]")
    with pytest.raises(DataError, match=r"exactly one JSON or JSON Lines file; it holds a.json, b"):
        read_raw_file(path)


def _patched_zip(path: Path, patch: str) -> Path:
    """A one-member deflated zip, its headers or stream patched as a damaged or unusual zip is."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train.json", json.dumps(make_recipes(3)))
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    if patch == "encrypted":  # general-purpose flag bit 0, in both headers
        data[6] |= 1
        data[central + 8] |= 1
    elif patch == "deflate64":  # compression method 9, which zipfile cannot read
        data[8] = 9
        data[central + 10] = 9
    else:  # the first deflate block of type 3, which does not exist
        data[30 + len("train.json")] = 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("encrypted", r"^.*enc.zip: train.json inside the zip is encrypted; unzip it"),
        ("deflate64", r"^.*enc.zip: train.json inside the zip cannot be read \(That compression"),
        ("corrupt", r"^.*enc.zip: not a valid zip archive \(train.json is damaged: Error -3"),
    ],
)
def test_an_encrypted_unreadable_or_damaged_zip_member_is_a_data_error(
    tmp_path: Path, patch: str, message: str
) -> None:
    path = _patched_zip(tmp_path / "enc.zip", patch)
    with pytest.raises(DataError, match=message):
        read_raw_file(path)
    with pytest.raises(DataError, match=message):
        load_raw_records(path, for_lake=False)


def test_a_zip_encrypted_by_the_zip_tool_is_a_data_error(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("zip") is None:
        pytest.skip("no zip tool to encrypt with")
    (tmp_path / "inner.json").write_text(json.dumps(make_recipes(2)))
    subprocess.run(["zip", "-q", "-P", "secret", "enc.zip", "inner.json"], cwd=tmp_path, check=True)
    with pytest.raises(DataError, match=r"enc.zip: inner.json inside the zip is encrypted"):
        read_raw_file(tmp_path / "enc.zip")


def test_a_zip_member_cut_short_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("train.json", json.dumps(make_recipes(3)))
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 20 : central + 28] = (10**6).to_bytes(4, "little") * 2  # sizes past the end
    path.write_bytes(bytes(data))
    with pytest.raises(
        DataError,
        match=r"cut.zip: not a valid zip archive \(train.json is damaged: it is cut short",
    ):
        read_raw_file(path)


@pytest.mark.parametrize(
    ("compression", "detail"),
    [
        (zipfile.ZIP_DEFLATED, "Error -3"),
        (zipfile.ZIP_BZIP2, "Invalid data stream"),
        (zipfile.ZIP_LZMA, "Corrupt input data"),
    ],
    ids=["deflate", "bzip2", "lzma"],
)
def test_a_damaged_member_is_a_data_error_whatever_its_compression(
    tmp_path: Path, compression: int, detail: str
) -> None:
    path = tmp_path / "bad.json.zip"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("train.json", json.dumps(make_recipes(30)))
    data = bytearray(path.read_bytes())
    start = 30 + len("train.json") + 20  # past the local header, inside the compressed stream
    for index in range(start, start + 140):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))
    message = rf"^.*bad.json.zip: not a valid zip archive \(train.json is damaged: {detail}"
    with pytest.raises(DataError, match=message):
        read_raw_file(path)
    with pytest.raises(DataError, match=message):
        load_raw_records(path, for_lake=False)


def test_a_member_that_unzips_past_the_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A zip bomb: 1.5 MB of zip held 1.5 GB of spaces, read whole into 3 GB of memory.
    from cuisineflow.data import rawfiles

    path = tmp_path / "bomb.json.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train.json", json.dumps(make_recipes(3)) + " " * 5_000)
    assert len(read_raw_file(path)) == 3  # under the limit: read
    monkeypatch.setattr(rawfiles, "MAX_UNZIPPED_BYTES", 4_000)
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *_: pytest.fail("read all the same"))
    with pytest.raises(DataError, match=r"bomb.json.zip: train.json inside the zip holds [\d,]+ "
                       r"bytes unzipped, over the 4,000 a recipe file may"):  # fmt: skip
        read_raw_file(path)


def test_json_nested_too_deeply_is_invalid_json_not_a_recursion_error(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    lines = tmp_path / "extra.jsonl"
    lines.write_text(
        '{"id": 1, "ingredients": ["a"]}\n'
        f'{{"id": 2, "ingredients": {deep}}}\n'
        '{"id": 3, "ingredients": ["b"]}\n'
    )
    records = load_raw_records(lines)
    assert [(r.position, type(r.value).__name__) for r in records] == [
        (1, "dict"),
        (2, "InvalidJson"),
        (3, "dict"),
    ]
    array = tmp_path / "extra.json"
    array.write_text(f'[{{"id": 1, "ingredients": ["a"]}}, {{"id": 2, "ingredients": {deep}}}]')
    with pytest.raises(
        DataError, match=r"^extra.json: invalid JSON \(nested too deeply to read\)$"
    ):
        load_raw_records(array)


def test_a_number_json_cannot_write_back_keeps_the_records_own_text(tmp_path: Path) -> None:
    lines = tmp_path / "extra.jsonl"
    lines.write_text('1e400\n{"id": 2, "ingredients": ["a"], "x": NaN}\n{"id": 3, "y": 1.5}\n')
    assert [r.text for r in load_raw_records(lines)] == [
        "1e400",
        '{"id": 2, "ingredients": ["a"], "x": NaN}',
        None,  # 1.5 writes back as it came
    ]
    array = tmp_path / "extra.json"
    array.write_text('[ {"id": 1}, {"id": -Infinity} ,\n 1e400,{"id": 4, "z": [1e-400]}]')
    records = load_raw_records(array)
    assert [(r.position, r.text) for r in records] == [
        (1, None),
        (2, '{"id": -Infinity}'),
        (3, "1e400"),
        (4, None),  # 1e-400 reads as 0.0, which JSON writes
    ]
    assert records[1].value == {"id": float("-inf")}  # the value is read as before
