"""siamtrack.io.files: atomic writes that never replace a file unless asked."""

import pytest

from siamtrack.errors import BadInputError
from siamtrack.io import OutputExistsError, check_output_path, write_json, write_text


def test_write_text_and_write_json_refuse_to_replace_by_default(tmp_path):
    text_file, json_file = tmp_path / "out" / "a.txt", tmp_path / "out" / "a.json"
    assert write_text(text_file, "one") == text_file
    assert write_json({"n": 1}, json_file) == json_file
    with pytest.raises(OutputExistsError, match="a.txt' already exists"):
        write_text(text_file, "two")
    with pytest.raises(OutputExistsError, match="a.json' already exists"):
        write_json({"n": 2}, json_file)
    assert text_file.read_text() == "one" and json_file.read_text() == '{"n":1}'
    write_text(text_file, "two", overwrite=True)
    write_json({"n": 2}, json_file, overwrite=True)
    assert text_file.read_text() == "two" and json_file.read_text() == '{"n":2}'


def test_check_output_path(tmp_path):
    (tmp_path / "exists.txt").write_text("x")
    with pytest.raises(OutputExistsError):
        check_output_path(tmp_path / "exists.txt", overwrite=False)
    assert check_output_path(tmp_path / "exists.txt", overwrite=True).name == "exists.txt"
    with pytest.raises(BadInputError, match="is a folder"):
        check_output_path(tmp_path, overwrite=True)
