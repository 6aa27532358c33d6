"""The suite never touches a real archive, whatever the shell exports."""
import os
import subprocess
import sys

from tests.servers import REPO


def test_running_pytest_with_an_archive_configured_leaves_that_archive_alone(tmp_path):
    # Someone who has exported their archive's settings runs `pytest` by hand:
    # the tests must still use their own temporary var/, not clear this index.
    index = tmp_path / "whoosh_index"
    index.mkdir()
    keepsake = index / "someone's index.txt"
    keepsake.write_text("not to be cleared")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "NEWSROOM_VAR_DIR": str(tmp_path),
        "WHOOSH_INDEX_PATH": str(index),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/whoosh/test_indexing.py::test_a_filter_that_matches_nothing_finds_nothing"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "settings: tests.settings" in done.stdout
    assert keepsake.read_text() == "not to be cleared"
    assert [path.name for path in index.iterdir()] == [keepsake.name]
