#!/usr/bin/env python3
"""Small files that expand: the uploads an attacker (or a broken exporter) sends to make a
server spend gigabytes. Used by scripts/bench-attack.sh; the test suite builds its own.

Usage: scripts/hostile_files.py DIR
Writes, each a few KB to a few hundred KB on disk:
  big-string.xlsx     one 5 MB shared string referenced by 2,000 SIRET cells
  report-bomb.xlsx    one 200 KB shared string in 2,000 SIRET cells (a 400 MB report once)
  repeat-bomb.ods     number-rows-repeated=6000 x number-columns-repeated=16384
  many-strings.xlsx   20 million tiny shared strings
"""
import os
import sys
import zipfile

HEADERS = ["Compte client", "Nom", "SIRET", "Code Postal", "Ville"]

CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WB = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def xlsx(path, strings_writer, rows):
    """strings_writer(f) writes the <si> items; rows: list of lists of shared-string ids."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>'.encode())
            strings_writer(f)
            f.write(b"</sst>")
        out = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>']
        for r, cells in enumerate(rows, start=1):
            out.append(f'<row r="{r}">')
            for c, sid in enumerate(cells):
                out.append(f'<c r="{col(c)}{r}" t="s"><v>{sid}</v></c>')
            out.append("</row>")
        out.append("</sheetData></worksheet>")
        z.writestr("xl/worksheets/sheet1.xml", "".join(out))


def headers_then(extra):
    def w(f):
        for h in HEADERS:
            f.write(f"<si><t>{h}</t></si>".encode())
        extra(f)
    return w


def big_string(path, size, rows):
    chunk = b"1" * (1 << 20)

    def extra(f):
        f.write(b"<si><t>")
        left = size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
        f.write(b"</t></si>")

    big = len(HEADERS)
    grid = [list(range(len(HEADERS)))] + [[big, big, big, big, big] for _ in range(rows)]
    xlsx(path, headers_then(extra), grid)


def many_strings(path, count):
    item = b"<si><t>a</t></si>" * 10000

    def extra(f):
        for _ in range(count // 10000):
            f.write(item)

    grid = [list(range(len(HEADERS)))] + [[len(HEADERS)] * 5 for _ in range(10)]
    xlsx(path, headers_then(extra), grid)


def repeat_bomb(path):
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Clients">
<table:table-row>{''.join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>' for h in HEADERS)}</table:table-row>
<table:table-row table:number-rows-repeated="6000"><table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"""
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(d, exist_ok=True)
    big_string(os.path.join(d, "big-string.xlsx"), 5 << 20, 400)
    big_string(os.path.join(d, "report-bomb.xlsx"), 200 << 10, 400)
    repeat_bomb(os.path.join(d, "repeat-bomb.ods"))
    many_strings(os.path.join(d, "many-strings.xlsx"), 20_000_000)
    for f in sorted(os.listdir(d)):
        p = os.path.join(d, f)
        if f.endswith((".xlsx", ".ods")):
            print(f"{f}: {os.path.getsize(p):,} bytes")


if __name__ == "__main__":
    main()
