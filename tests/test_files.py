"""Reading and writing files safely (sim/files.py): what is refused, with the file named."""

from __future__ import annotations

import os
import socket

import pytest

from sim.files import MAX_YAML_DEPTH, ConfigError, check_writable, load_yaml, read_bytes


def test_a_path_that_is_not_a_regular_file_is_refused_saying_what_it_is(tmp_path):
    with pytest.raises(ConfigError, match=rf"^{tmp_path}: is a folder, not a file \(expected a regular file to read\)"):
        read_bytes(tmp_path)
    with pytest.raises(ConfigError, match=r"^/dev/null: is a device, not a file"):
        read_bytes("/dev/null")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"pipe: is a named pipe \(FIFO\), not a file"):
        read_bytes(fifo)  # at once: opening it does not wait for a writer
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises(ConfigError, match=r"s\.sock: (is a socket, not a file|cannot read the file)"):
            read_bytes(path)
    finally:
        server.close()


def test_an_output_of_the_wrong_kind_is_refused(tmp_path):
    file = tmp_path / "results"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"results: is a file; expected a folder to write"):
        check_writable(file, True)
    with pytest.raises(ConfigError, match=r": is a folder; expected a file to write"):
        check_writable(tmp_path, False)
    with pytest.raises(ConfigError, match=r"results/out: .*results is a file, so nothing can be written under it"):
        check_writable(file / "out", True)
    check_writable(tmp_path / "new" / "folder", True)  # a folder still to be made, in one that can be written
    assert not (tmp_path / "new").exists()


def test_aliases_nesting_too_deep_are_refused():
    """Each anchored list holds the one before it: shallow as written, MAX_YAML_DEPTH deep expanded."""
    lines = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_YAML_DEPTH + 2)]
    with pytest.raises(
        ConfigError, match=rf"^deep\.yaml: not valid YAML.*anchors and aliases nest more than {MAX_YAML_DEPTH}"
    ):
        load_yaml("\n".join(lines), "deep.yaml")
    # one level fewer is a document like any other
    fine = load_yaml("\n".join(lines[: MAX_YAML_DEPTH - 2]), "fine.yaml")
    assert fine["a2"] == [[[1]]]


def test_a_key_that_is_a_list_is_refused_by_yaml_itself():
    with pytest.raises(
        ConfigError, match=r"^odd\.yaml: not valid YAML at line 1.*unhashable|^odd\.yaml: not valid YAML"
    ):
        load_yaml("? [a, b]\n: 1\n", "odd.yaml")


def test_a_duplicate_key_names_the_line_it_was_first_given_on():
    with pytest.raises(
        ConfigError, match=r"dup\.yaml: not valid YAML at line 3.*duplicate key 'a' \(first given on line 1\)"
    ):
        load_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
    # a merge key followed by a key of its own overrides, as YAML means it to
    assert load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 5\n", "merge.yaml")["c"] == {"x": 5, "y": 2}
