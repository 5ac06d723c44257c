#!/usr/bin/env python3
"""The fixing grid under a 50,000-row pack (issue 14), against a running server.

Usage: bench_grid.py BASE_URL EMAIL PASSWORD PACK [EDITS]

Uploads PACK, waits for its check, opens its grid (the first request builds it), then
times EDITS cell edits (each judged again on the server) and a page of rows, and prints
p50/p95 next to the baseline measured in the same run: the check of the whole pack, which
is what fixing meant before the grid (fix in Excel, upload, wait for the check).
"""
import http.cookiejar
import json
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
import uuid


def main():
    base, email, password, pack = sys.argv[1:5]
    edits = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path):
        with opener.open(base + path) as r:
            return r.read().decode()

    def post(path, fields):
        data = urllib.parse.urlencode(fields).encode()
        with opener.open(urllib.request.Request(base + path, data=data)) as r:
            return r.geturl(), r.read().decode()

    login = get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', login).group(1)
    post("/login", {"_csrf": token, "email": email, "password": password, "next": "/"})
    home = get("/import")
    csrf = re.search(r'name="_csrf" value="([^"]+)"', home).group(1)

    # Upload (multipart by hand: the standard library has no encoder).
    boundary = uuid.uuid4().hex
    with open(pack, "rb") as f:
        content = f.read()
    name = pack.rsplit("/", 1)[-1]
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/import", data=body)
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    started = time.perf_counter()
    with opener.open(req) as r:
        upload = r.geturl().rsplit("/", 1)[-1]
    while json.loads(get(f"/uploads/{upload}/progress"))["running"]:
        time.sleep(0.05)
    check = time.perf_counter() - started

    started = time.perf_counter()
    first = json.loads(get(f"/uploads/{upload}/fix/rows?show=errors"))
    build = time.perf_counter() - started
    columns = {c["field"]: c["letter"] for c in first["columns"]}
    rows = first["rows"]
    print(f"pack: {name}, {first['summary']['rows']} rows, {first['summary']['errorRows']} with errors")
    if not rows:
        sys.exit("no row in error to edit: make a pack with errors")

    # Edits: a SIRET typed wrong then right, a postal code, a name, on rows in error.
    times = []
    for i in range(edits):
        row = rows[i % len(rows)]["row"]
        field, value = [
            ("registrationNumber", "12345678901234"),
            ("registrationNumber", "73282932000074"),
            ("postalCode", "75001"),
            ("name", f"Société {i}"),
        ][i % 4]
        if field not in columns:
            field, value = "name", f"Société {i}"
        t = time.perf_counter()
        _, answer = post(f"/uploads/{upload}/fix/cell",
                         {"_csrf": csrf, "row": row, "column": columns[field], "value": value})
        times.append((time.perf_counter() - t) * 1000)
        json.loads(answer)
    page_times = []
    for i in range(20):
        t = time.perf_counter()
        get(f"/uploads/{upload}/fix/rows?show=all&offset={i * 2000}")
        page_times.append((time.perf_counter() - t) * 1000)

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

    print(f"{'':38} {'p50 ms':>9} {'p95 ms':>9}")
    print(f"{'cell edit judged again (ours)':38} {statistics.median(times):9.1f} {pct(times, 95):9.1f}")
    print(f"{'page of 100 rows, all rows':38} {statistics.median(page_times):9.1f} {pct(page_times, 95):9.1f}")
    print(f"{'first grid request (reads, judges all)':38} {build * 1000:9.0f}")
    print(f"{'baseline: check of the whole pack':38} {check * 1000:9.0f}")


if __name__ == "__main__":
    main()
