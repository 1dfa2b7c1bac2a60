"""Workbooks for the web tests, made by editing the package of a copy of the shipped 小千谷
book (the input itself is never touched):

- `bigger_book(src, dst, copies)`: every sheet repeated `copies` times (sheet names get a
  suffix), a real book that takes seconds to process — for progress, cancel and reload.
- `lying_bomb(src, dst, mb)`: the book plus one member of `mb` MB of zeros whose zip
  headers (local and central) declare 1,000 bytes: a check that trusts declared sizes
  lets it through.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path


def bigger_book(src: Path, dst: Path, copies: int) -> Path:
    with zipfile.ZipFile(src) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    sheets = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"[^>]*/>', workbook)
    targets = dict(re.findall(r'<Relationship [^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels)
                   + [(b, a) for a, b in re.findall(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)])
    next_id = max(int(n) for n in re.findall(r'sheetId="(\d+)"', workbook)) + 1
    new_sheets, new_rels, new_types = [], [], []
    for copy in range(2, copies + 1):
        for name, rid in sheets:
            target = targets[rid].lstrip("/")
            target = target if target.startswith("xl/") else f"xl/{target}"
            part = f"xl/worksheets/copy{copy}_{next_id}.xml"
            parts[part] = parts[target]
            new_rid = f"rIdCopy{next_id}"
            new_sheets.append(f'<sheet name="{name}_{copy}" sheetId="{next_id}" r:id="{new_rid}"/>')
            new_rels.append(f'<Relationship Id="{new_rid}" Type="http://schemas.openxmlformats.org/'
                            f'officeDocument/2006/relationships/worksheet" Target="/{part}"/>')
            new_types.append(f'<Override PartName="/{part}" ContentType="application/'
                             'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
            next_id += 1
    parts["xl/workbook.xml"] = workbook.replace("</sheets>", "".join(new_sheets) + "</sheets>").encode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", "".join(new_rels)
                                                       + "</Relationships>").encode()
    parts["[Content_Types].xml"] = types.replace("</Types>", "".join(new_types) + "</Types>").encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return dst


def lying_bomb(src: Path, dst: Path, mb: int, declared: int = 1000) -> Path:
    with zipfile.ZipFile(src) as zf, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zf.infolist():
            out.writestr(info.filename, zf.read(info))
        with out.open("xl/media/pad.bin", "w", force_zip64=False) as fh:
            block = b"\0" * (1024 * 1024)
            for _ in range(mb):
                fh.write(block)
    data = bytearray(Path(dst).read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    count, cd_offset = struct.unpack("<H", data[eocd + 10:eocd + 12])[0], struct.unpack("<I", data[eocd + 16:eocd + 20])[0]
    pos = cd_offset
    for _ in range(count):
        assert data[pos:pos + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28:pos + 34])
        name = data[pos + 46:pos + 46 + name_len].decode()
        local = struct.unpack("<I", data[pos + 42:pos + 46])[0]
        if name == "xl/media/pad.bin":
            data[pos + 24:pos + 28] = struct.pack("<I", declared)
            flags = struct.unpack("<H", data[local + 6:local + 8])[0]
            data[local + 22:local + 26] = struct.pack("<I", declared)
            if flags & 0x8:  # sizes also in the data descriptor after the data
                comp = struct.unpack("<I", data[pos + 20:pos + 24])[0]
                lname, lextra = struct.unpack("<HH", data[local + 26:local + 30])
                desc = local + 30 + lname + lextra + comp
                off = desc + 4 if data[desc:desc + 4] == b"PK\x07\x08" else desc
                data[off + 8:off + 12] = struct.pack("<I", declared)
        pos += 46 + name_len + extra_len + comment_len
    Path(dst).write_bytes(bytes(data))
    return dst
