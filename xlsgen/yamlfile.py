"""YAML files from users (layout files, templates), read as the input they are.

- Size: at most `MAX_BYTES` on disk.
- Encoding: UTF-8 (with or without BOM), else Shift_JIS (cp932, Windows editors' default),
  UTF-16 with a BOM; anything else is refused in Japanese, never with a codec message.
- Safe YAML only (no Python objects), nesting at most `MAX_DEPTH` deep.
- Aliases: a document whose aliases expand to more than `MAX_NODES` nodes (a "billion
  laughs" bomb: 600 bytes that grow past a gigabyte), or that refers to itself, is refused
  before anything is built from it.
- Duplicate keys in one mapping are refused with both lines (YAML would keep the last one
  silently).

`load(data, path, error)` returns the Python data or raises `error(message, path)`; each
message names the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_bytes(path: str | Path, error, what: str = "ファイル") -> bytes:
    """The file's bytes, refusing a missing, unreadable or oversized file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise error(f"{what}ではなくフォルダです", str(path))
        if size > MAX_BYTES:
            raise error(f"{what}が大きすぎます（{size // 1024:,} KB、上限 {MAX_BYTES // 1024:,} KB）", str(path))
        return p.read_bytes()
    except FileNotFoundError:
        raise error(f"{what}が見つかりません", str(path)) from None
    except PermissionError:
        raise error(f"{what}を開けません（読み取りの権限がありません）", str(path)) from None
    except OSError as exc:
        raise error(f"{what}を開けません（{exc.strerror}）", str(path)) from None


def decode(data: bytes, path, error, what: str = "ファイル") -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else cp932 (Shift_JIS)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp932")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise error(f"{what}の文字コードを読み取れません（UTF-8 か Shift_JIS で保存してください）", str(path))


def _line(node) -> int:
    return node.start_mark.line + 1


def _check_events(text: str, path, error, loader) -> None:
    """Depth, from the event stream (no recursion, nothing built)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise error(f"{event.start_mark.line + 1}行目: 入れ子が深すぎます（{MAX_DEPTH} 段まで）", str(path))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, error) from None


_PROBLEMS = (
    ("could not determine a constructor", "使えないタグ（!!python/… など）があります"),
    ("undefined alias", "定義されていない別名（*）があります"),
    ("found duplicate anchor", "同じ名前のアンカー（&）が2つあります"),
    ("mapping values are not allowed", "「キー: 値」の書き方が正しくありません（値に : を含むときは引用符で囲んでください）"),
    ("cannot start any token", "ここに書けない文字があります（字下げにタブは使えません）"),
    ("did not find expected", "括弧・引用符・字下げが閉じていないか、そろっていません"),
    ("expected <block end>", "字下げがそろっていません"),
    ("found unexpected end of stream", "引用符や括弧が閉じないままファイルが終わっています"),
    ("unacceptable character", "YAML に書けない文字（制御文字）があります"),
)


def _yaml_error(exc: yaml.YAMLError, path, error):
    mark = getattr(exc, "problem_mark", None)
    where = f"{mark.line + 1}行目: " if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    text = next((ja for en, ja in _PROBLEMS if en in problem), None)
    detail = f"YAML の書き方が正しくありません（{text or problem}）"
    return error(f"{where}{detail}", str(path))


def check_node(root, path, error) -> None:
    """Refuse alias bombs, self-references and duplicate keys in a composed document."""
    size: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > MAX_NODES:
                raise error(f"{_line(node)}行目: 別名（*）を展開すると大きくなりすぎます（{MAX_NODES:,} 要素を超える）。"
                            "別名の使いすぎか、悪意のあるファイルの可能性があります", str(path))
            continue
        if key in size:
            continue
        if key in open_:
            raise error(f"{_line(node)}行目: 別名（*）が自分自身を含んでいます", str(path))
        open_.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            _duplicates(node, path, error)
        for c in _children(node):
            if id(c) not in size:
                stack.append((c, False))


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _duplicates(node, path, error) -> None:
    seen: dict[tuple[str, str], int] = {}
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.value == "<<":
            continue
        ident = (k.tag, k.value)
        if ident in seen:
            raise error(f"{_line(k)}行目: キー「{k.value}」が重複しています（{seen[ident]}行目にもあります）。"
                        "どちらか一方にしてください", str(path))
        seen[ident] = _line(k)


def load(data: bytes | str, path, error, loader=_SAFE, what: str = "ファイル") -> tuple[Any, Any]:
    """(Python data, the composed node) of a user's YAML file, or `error(message, path)`."""
    text = data if isinstance(data, str) else decode(data, path, error, what)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES * 2:
        raise error(f"{what}が大きすぎます", str(path))
    _check_events(text, path, error, loader)
    try:
        ld = loader(text)
        try:
            node = ld.get_single_node()
            if node is None:
                return None, None
            check_node(node, path, error)
            return ld.construct_document(node), node
        finally:
            ld.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, error) from None
    except RecursionError:
        raise error(f"{what}の入れ子が深すぎます", str(path)) from None
