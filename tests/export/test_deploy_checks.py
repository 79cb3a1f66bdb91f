"""The export folder check: no earlier export is replaced unless ``overwrite``."""

import pytest

from siamtrack.export import check_no_previous_export, export_layout, export_layouts
from siamtrack.io import OutputExistsError


@pytest.mark.parametrize("layout", sorted(export_layouts()))
def test_a_previous_export_is_kept_unless_overwrite(tmp_path, layout):
    check_no_previous_export(tmp_path / "new")  # a folder that does not exist yet
    check_no_previous_export(tmp_path)  # an empty one
    first_file = export_layout(layout).file_names[0]
    (tmp_path / first_file).write_bytes(b"onnx")
    with pytest.raises(OutputExistsError, match=first_file):
        check_no_previous_export(tmp_path)
    check_no_previous_export(tmp_path, overwrite=True)


def test_a_file_is_not_an_export_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        check_no_previous_export(tmp_path / "file", overwrite=True)
