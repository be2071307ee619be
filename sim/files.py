"""Files a person names: read safely, and written only where they can be.

Whatever a person points sendsim at is refused with one message naming the file, never a hang or a
traceback: a path that is not a regular file (a folder, a FIFO, /dev/zero) before anything is
read from it, so nothing waits for ever; a file larger than any real one before it fills the
memory; text that is not UTF-8 by what it is. YAML is read by a loader that refuses duplicate keys
(the last one would silently win) and bounds what anchors and nesting can build, so a small file
cannot expand into a billion values or recurse past Python's stack. Where results will be written
is tried first, so a run never ends in an error that loses its work.
"""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

# A configuration is a few tens of kB (configs/devon.yaml 25 kB); 5 MB is no real one.
MAX_CONFIG_BYTES = 5 * 2**20
# DfE's SEN2 files with every breakdown are a few MB (newplans.csv 1.4 MB); a table of 256 MB is not one.
MAX_TABLE_BYTES = 256 * 2**20
# A configuration nests 6 deep; deeper is a mistake, and deep enough recursion is a crash.
MAX_YAML_DEPTH = 50
# Values in a document once every alias is written out in full (devon.yaml: ~1,500). A billion-laughs
# file is tiny and expands to 10^9.
MAX_YAML_VALUES = 1_000_000

# Byte-order marks of encodings that are not UTF-8, longest first (UTF-32-LE starts like UTF-16-LE).
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)  # fmt: skip


class ConfigError(Exception):
    """A configuration, data file or output path that cannot be used; the message is meant for the
    person who gave it, and names the file."""


# --- reading -------------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or ConfigError naming the file."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what was opened.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # before fdopen, which refuses a folder with its own error
        os.close(fd)
        raise ConfigError(f"{path}: is {_kind(info.st_mode)}, not a file (expected a regular file to read)")
    with os.fdopen(fd, "rb") as file:
        try:
            data = b"" if info.st_size > limit else file.read(limit + 1)  # +1: a file that grew meanwhile
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the file ({exc.strerror})") from None
    if info.st_size > limit or len(data) > limit:
        raise ConfigError(
            f"{path}: larger than {limit // 2**20} MB, more than any real file of this kind; check it is the right file"
        )
    return data


def decode(data: bytes, path: str | Path, encodings: Iterable[str] = ("utf-8-sig",)) -> str:
    """Text from the first of `encodings` that decodes it; a UTF-16 or UTF-32 file, binary data
    and undecodable bytes are named as what they are."""
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            raise ConfigError(f"{path}: the text is {name} (it starts with a {name} byte-order mark); save it as UTF-8")
    if b"\x00" in data:
        raise ConfigError(
            f"{path}: holds NUL bytes, so it is binary or UTF-16 without a byte-order mark, not text; save it as UTF-8"
        )
    first: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            first = first or exc
    assert first is not None
    line = data[: first.start].count(b"\n") + 1
    raise ConfigError(
        f"{path}: not UTF-8 text (byte 0x{data[first.start]:02x} on line {line} is not UTF-8; "
        "Latin-1 or Windows-1252, perhaps); save it as UTF-8"
    )


def read_text(path: str | Path, limit: int = MAX_CONFIG_BYTES, encodings: Iterable[str] = ("utf-8-sig",)) -> str:
    """A regular file's text (see read_bytes and decode)."""
    return decode(read_bytes(path, limit), path, encodings)


# --- YAML ----------------------------------------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a duplicate key, nesting deeper than MAX_YAML_DEPTH, and a
    document of more than MAX_YAML_VALUES values once its aliases are expanded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # the composer recurses once per level of nesting
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *base` then a key of its own is YAML's way to override, not a duplicate
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: SafeLoader refuses it with its own message
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first given on line {first + 1}); a key may be given once",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand past MAX_YAML_VALUES values or MAX_YAML_DEPTH levels,
    or refer to themselves; counted on the node graph, each shared node once (linear time)."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            open_nodes.discard(key)
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise yaml.composer.ComposerError(None, None, "an alias refers to the value that holds it", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)
    if size[id(root)] > MAX_YAML_VALUES:
        raise yaml.composer.ComposerError(
            None,
            None,
            f"anchors and aliases expand to {size[id(root)]:,} values, "
            f"more than the {MAX_YAML_VALUES:,} of any real file",
            root.start_mark,
        )
    if height[id(root)] > MAX_YAML_DEPTH:
        raise yaml.composer.ComposerError(
            None, None, f"anchors and aliases nest more than {MAX_YAML_DEPTH} levels deep", root.start_mark
        )


def load_yaml(text: str, source: str) -> Any:
    """The document in `text`, or ConfigError naming `source`, the line and the problem."""
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"{source}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    except (ValueError, OverflowError) as exc:  # a scalar PyYAML cannot convert (an int of 5,000 digits)
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None


def read_yaml(path: str | Path) -> Any:
    """A YAML file read safely (read_text, load_yaml)."""
    return load_yaml(read_text(path), str(path))


# --- writing -------------------------------------------------------------------------------------


def _nearest_folder(path: Path) -> Path:
    """The nearest ancestor of `path` that exists; ConfigError if that is not a folder."""
    for candidate in path.parents:
        if candidate.exists():
            if not candidate.is_dir():
                raise ConfigError(f"{path}: {candidate} is a file, so nothing can be written under it")
            return candidate
    return Path.cwd()  # pragma: no cover - a relative path's parents end in '.'


def check_writable(path: str | Path, folder: bool) -> None:
    """Refuse an output path that cannot be written, before any work: `path` is the folder
    (`folder`) or file to be written. A probe file is created and removed in the nearest folder
    that exists, where the output (or the staging folder beside it) will be made."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        raise ConfigError(
            f"{path}: is {'a file' if folder else 'a folder'}; expected {'a folder' if folder else 'a file'} to write"
        )
    where = _nearest_folder(path)
    try:
        with tempfile.NamedTemporaryFile(prefix=".sendsim-probe-", dir=where):
            pass
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write in {where} ({exc.strerror or exc})") from None
    if path.is_file() and not os.access(path, os.W_OK):
        raise ConfigError(f"{path}: the file is read-only")


# the process's file-creation mask, read once at import (reading it means setting it)
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: str | Path, data: str | bytes, check: Callable[[Path], object] | None = None) -> Path:
    """Write `data` (text as UTF-8) to `path` all at once: into a temporary file beside it, checked
    by `check` if given (whatever it raises leaves `path` as it was), then renamed into place. A
    reader never sees half a file, and an interrupted write leaves no temporary file behind."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, 0o666 & ~_UMASK)  # as an ordinary new file, not mkstemp's owner-only
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
