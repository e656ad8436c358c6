"""Reading an export, whichever assistant wrote it: where its files are (a folder, one
file, or the export's .zip), and the records of a JSON array one at a time, in bounded
memory whatever the input.

Limits (why: an export is untrusted input, and a 1 MB zip can expand to gigabytes):
- one record (a conversation, an activity entry) is at most MAX_RECORD_BYTES of JSON, so
  no single string can be larger either; the buffer holds one record at a time;
- a zip member may expand to MAX_RATIO times its compressed size (real JSON compresses
  about 10:1), or to RATIO_FLOOR whatever its ratio; past that it is refused as a bomb;
- white space between records is dropped as it is read.
Every refusal is an ImportFailed naming the file (`export.zip!conversations.json`) and the
place (`conversation 3 (byte 1234)`, `byte 99`).
"""

from __future__ import annotations

import lzma
import re
import zipfile
import zlib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator

import msgspec

from .. import models


CHUNK = 1 << 20
READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError)  # I/O error, damaged member
MAX_RECORD_BYTES = 32 << 20  # a 57 MB conversation peaked at 293 MB RSS: the limit keeps imports under 300 MB
MAX_RATIO = 100
RATIO_FLOOR = 64 << 20


def strings_only(struct: msgspec.Struct, *names: str) -> None:
    """For a Struct's `__post_init__`: these fields, read as any JSON, are kept only when strings.
    Newer exports bring message and block types this import does not know, which may use the
    same names for other values: one such message must not fail the whole export."""
    for name in names:
        if not isinstance(getattr(struct, name), str):
            setattr(struct, name, None)


class ImportFailed(Exception):
    """The export could not be imported; nothing of it was kept."""

    def __init__(self, file: str, place: str, reason: str):
        super().__init__(f"{file}: {place}: {reason}")
        self.file, self.place, self.reason = file, place, reason


# ---- where the files are ------------------------------------------------------------


@dataclass
class Source:
    name: str  # shown in errors
    size: int
    open: Callable[[], IO[bytes]]


class _Capped:
    """A zip member's stream that refuses to expand past its limit."""

    def __init__(self, stream: IO[bytes], name: str, limit: int):
        self._stream, self._name, self._limit, self._read = stream, name, limit, 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n if 0 <= n <= self._limit + 1 else self._limit + 1)
        self._read += len(data)
        if self._read > self._limit:
            raise ImportFailed(
                self._name, f"byte {self._limit}",
                f"expands past {self._limit >> 20} MiB, over {MAX_RATIO} times its compressed size: "
                "refused as a zip bomb, not an export",
            )
        return data

    def close(self) -> None:
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Callable[[], IO[bytes]]:
    limit = max(RATIO_FLOOR, MAX_RATIO * info.compress_size)
    return lambda: _Capped(zf.open(info), name, limit)  # type: ignore[return-value]


def find(
    path: Path, stack: ExitStack, wanted: Callable[[str], bool], what: str, order: Callable[[str], object] = str,
    by_path: bool = False,
) -> list[Source]:
    """The files of the export at `path` whose base name (with `by_path`, whose path in the
    zip or folder) is `wanted`: in a zip, in a folder and its subfolders or else in the zips
    in it (an export that came in parts, a Takeout split in several zips, a Claude export's
    `conversations-000.zip`, `projects-000.zip`...), sorted by `order`; or `path` itself when
    it is a plain file."""
    def match(inner: str) -> bool:
        return wanted(inner if by_path else PurePosixPath(inner).name)

    if path.is_dir():
        within = sorted(p for p in path.rglob("*") if p.is_file())
        files = [Source(str(p), p.stat().st_size, lambda p=p: open(p, "rb"))
                 for p in within if match(p.relative_to(path).as_posix())]
        if not files:  # extracted files win over the zips they came from, so nothing is read twice
            zips = (zf for p in within if p.suffix.lower() == ".zip" and (zf := open_zip(p, stack)) is not None)
            files = [s for zf in zips for s in _members(zf, Path(zf.filename or ""), match, order)]
        if not files:
            raise ImportFailed(str(path), "folder", f"holds no {what}")
        return sorted(files, key=lambda s: (order(Path(s.name).name), s.name))
    if not path.is_file():
        raise ImportFailed(str(path), "path", "no such file or folder")
    zf = open_zip(path, stack)
    if zf is None:
        return [Source(str(path), path.stat().st_size, lambda: open(path, "rb"))]
    members = _members(zf, path, match, order)
    if not members:
        raise ImportFailed(str(path), "zip", f"holds no {what}")
    return members


def _members(zf: zipfile.ZipFile, path: Path, match: Callable[[str], bool], order: Callable[[str], object]) -> list[Source]:
    infos = sorted((i for i in zf.infolist() if not i.is_dir() and match(i.filename)), key=lambda i: order(i.filename))
    return [Source(f"{path}!{i.filename}", i.file_size, _member(zf, i, f"{path}!{i.filename}")) for i in infos]


def open_zip(path: Path, stack: ExitStack) -> zipfile.ZipFile | None:
    """The zip at `path` (closed with `stack`), or None when it is not a zip."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        return stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as e:
        raise ImportFailed(str(path), "zip", str(e)) from None


# ---- the records of a JSON array, one at a time ---------------------------------------

# From a position outside any string: skip whole strings and other characters up to
# the next bracket, which is captured. Possessive, so an unterminated string at the end
# of the buffer simply fails to match (more data is needed) instead of backtracking.
_TO_BRACKET = re.compile(rb'(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"|[^"\[\]{}])*+([\[\]{}])', re.S)
_WS = re.compile(rb"[ \t\r\n]*")
_CLOSE = {ord("]"): ord("["), ord("}"): ord("{")}


class _Buffer:
    """The unread part of a stream: `buf` holds bytes from file offset `base` on."""

    def __init__(self, stream: IO[bytes], name: str, on_read: Callable[[int], None]):
        self.stream, self.name, self.on_read = stream, name, on_read
        self.buf, self.base, self.eof = bytearray(), 0, False

    def fail(self, pos: int, reason: str) -> ImportFailed:
        return ImportFailed(self.name, f"byte {self.base + pos}", reason)

    def more(self, keep: int) -> int:
        """Drops buf[:keep], appends a chunk; returns how far positions moved.

        The chunk grows with what is kept, so a long record is rescanned a logarithmic
        number of times, not once per chunk."""
        try:
            chunk = self.stream.read(max(CHUNK, (len(self.buf) - keep) // 2))
        except READ_ERRORS as e:
            raise self.fail(len(self.buf), f"cannot read: {e}") from None
        self.on_read(len(chunk))
        del self.buf[:keep]
        self.base += keep
        self.buf.extend(chunk)
        self.eof = not chunk
        return keep

    def skip_ws(self, pos: int) -> int:
        """The first position at or after `pos` that is not white space (reading on)."""
        while True:
            end = _WS.match(self.buf, pos).end()
            if end < len(self.buf) or self.eof:
                return end
            pos = end - self.more(end)

    def at(self, pos: int) -> int:
        """The byte at `pos`, which must be there."""
        if pos >= len(self.buf):
            raise self.fail(pos, "the file ends in the middle of the JSON")
        return self.buf[pos]

    def object_end(self, start: int, what: str, index: int) -> tuple[int, int]:
        """(start, end) of the object that starts at `start` (positions move as it reads)."""
        stack, pos = [ord("{")], start + 1
        while stack:
            m = _TO_BRACKET.match(self.buf, pos)
            if m is None:
                if self.eof:
                    raise self.fail(len(self.buf), "the file ends in the middle of the JSON")
                if len(self.buf) - start > MAX_RECORD_BYTES:
                    raise too_large(self.name, what, index, self.base + start)
                moved = self.more(start)
                start, pos = start - moved, pos - moved
                continue
            at = m.end() - 1
            b = self.buf[at]
            if b in _CLOSE:
                if stack.pop() != _CLOSE[b]:
                    raise self.fail(at, "mismatched bracket")
            else:
                stack.append(b)
            pos = at + 1
        if pos - start > MAX_RECORD_BYTES:
            raise too_large(self.name, what, index, self.base + start)
        return start, pos


def elements(
    stream: IO[bytes], name: str, on_read: Callable[[int], None], what: str = "conversation", one: bool = False
) -> Iterator[tuple[int, int, bytes]]:
    """Yields (index, byte offset, raw JSON) of each object in the top-level array; with
    `one`, of the one object the file is instead."""
    b = _Buffer(stream, name, on_read)
    while len(b.buf) < 3 and not b.eof:
        b.more(0)
    if b.buf.startswith(b"\xef\xbb\xbf"):
        del b.buf[:3]
        b.base = 3
    pos = b.skip_ws(0)
    if one:
        if pos >= len(b.buf) or b.buf[pos] != ord("{"):
            raise b.fail(pos, f"expected a JSON object, a {what}")
        start, pos = b.object_end(pos, what, 0)
        with memoryview(b.buf) as view:
            raw = bytes(view[start:pos])
        yield 0, b.base + start, raw
        if b.skip_ws(pos) < len(b.buf):
            raise b.fail(b.skip_ws(pos), "unexpected text after the object")
        return
    if pos >= len(b.buf) or b.buf[pos] != ord("["):
        raise b.fail(pos, f"expected a JSON array of {what[:-1] + 'ies' if what.endswith('y') else what + 's'}")
    pos = b.skip_ws(pos + 1)
    index = 0
    while b.at(pos) != ord("]"):
        if index:
            if b.at(pos) != ord(","):
                raise b.fail(pos, f"expected a comma after {what} {index - 1}")
            pos = b.skip_ws(pos + 1)
        if b.at(pos) != ord("{"):
            raise b.fail(pos, f"{what} {index} is not a JSON object")
        start, pos = b.object_end(pos, what, index)
        with memoryview(b.buf) as view:
            raw = bytes(view[start:pos])
        yield index, b.base + start, raw
        index += 1
        pos = b.skip_ws(pos)
    pos = b.skip_ws(pos + 1)
    if pos < len(b.buf):
        raise b.fail(pos, "unexpected text after the array")


def too_large(name: str, what: str, index: int, offset: int) -> ImportFailed:
    return ImportFailed(
        name, f"{what} {index} (byte {offset})", f"larger than {MAX_RECORD_BYTES >> 20} MiB, the limit for one {what}"
    )


# ---- reading and counting -----------------------------------------------------------


class Meter:
    """Bytes read of all the sources, reported to a progress callback."""

    def __init__(self, total: int, progress: models.Progress | None):
        self.total, self.done, self._progress = total, 0, progress

    def read(self, n: int) -> None:
        self.done += n

    def tick(self) -> None:
        if self._progress:
            self._progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.done = self.total
        self.tick()


def opened(source: Source) -> IO[bytes]:
    try:
        return source.open()
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError) as e:  # encrypted, unknown compression
        raise ImportFailed(source.name, "opening", str(e)) from None


def records(source: Source, meter: Meter, what: str = "conversation", one: bool = False) -> Iterator[tuple[str, int, bytes]]:
    """(place, index, raw JSON) of each record of `source` (with `one`, of the one record
    the file is); the place names it in errors."""
    with opened(source) as stream:
        for index, offset, raw in elements(stream, source.name, meter.read, what, one):
            yield f"{what} {index} (byte {offset})", index, raw
            meter.tick()


_any = msgspec.json.Decoder()


def first(source: Source) -> object:
    """The first record of `source` as plain JSON, or None when it holds no JSON array of
    objects (to tell an export's files from others beside them)."""
    try:
        for _, _, raw in records(source, Meter(0, None)):
            return _any.decode(raw)
    except (ImportFailed, msgspec.DecodeError):
        pass
    return None


@contextmanager
def reading(name: str, place: str) -> Iterator[None]:
    """Turns a failure to make sense of a decoded record (a field of an unexpected shape
    deep in it) into an ImportFailed naming it."""
    try:
        yield
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as e:
        raise ImportFailed(name, place, f"cannot be read ({type(e).__name__}: {e})") from None


def decode(decoder: msgspec.json.Decoder, raw: bytes, name: str, place: str):
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as e:
        raise ImportFailed(name, place, str(e)) from None


def new_result() -> models.ImportResult:
    return models.ImportResult(conversations=0, created=0, updated=0, unchanged=0, turns=0)


def count(result: models.ImportResult, outcome: str, turns: int) -> None:
    result.conversations += 1
    result.turns += turns
    setattr(result, outcome, getattr(result, outcome) + 1)
