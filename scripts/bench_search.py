#!/usr/bin/env python3
"""Search and list latencies of a running Clientèle server (issue 13's search benchmark).

Usage: bench_search.py BASE_URL TOKEN PACK.csv [REQUESTS_PER_KIND] [WRITE_TOKEN]

Terms are drawn from the pack the database was loaded from (so that every kind finds what a
staff member would look for), each request on one kept-alive connection, one at a time; the
first request of each kind is a warm-up and is not counted. Prints p50/p95/max per kind,
in milliseconds, with the goal of the issue beside it. With a write token, also pages asked
right after a write (one customer renamed, so that it moves in the name order): the write
is not timed, the page is.
"""

import csv
import http.client
import json
import random
import statistics
import sys
import time
import unicodedata
import urllib.parse


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


def main():
    base, token, pack = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    writer = sys.argv[5] if len(sys.argv) > 5 else None
    run = time.time_ns()
    rng = random.Random(42)
    with open(pack, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    head, rows = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(head)}
    sample = [rows[rng.randrange(len(rows))] for _ in range(n + 1)]
    name = lambda r: r[col["Raison sociale"]]
    surnames = sorted({name(r).split()[-2] for r in rows[:5000]})
    per_page = 15
    total = len(rows)
    last_page = (total + per_page - 1) // per_page

    def distinct_fragment(r):
        # "Hôtel Müller 48213" -> "müller 48213": what one types to find one company.
        words = name(r).split()
        return " ".join(words[-2:])

    kinds = [
        ("search?term= name fragment", 20, lambda r: ("/api/v1/customers/search", {"term": distinct_fragment(r)})),
        ("search?term= common word", 20, lambda r: ("/api/v1/customers/search", {"term": rng.choice(surnames)})),
        ("search?term= SIRET", 20, lambda r: ("/api/v1/customers/search", {"term": r[col["SIRET"]]})),
        ("search?term= SIREN", 20, lambda r: ("/api/v1/customers/search", {"term": r[col["SIRET"]][:9]})),
        ("search?term= VAT", 20, lambda r: ("/api/v1/customers/search", {"term": r[col["Numéro de TVA intracommunautaire"]] or r[col["SIRET"]]})),
        ("search?term= account", 20, lambda r: ("/api/v1/customers/search", {"term": r[col["Compte client"]]})),
        ("search?term= phone", 20, lambda r: ("/api/v1/customers/search", {"term": phone_of(r, col) or r[col["Compte client"]]})),
        ("filter[name] fragment", 20, lambda r: ("/api/v1/customers", {"filter[name]": distinct_fragment(r)})),
        ("filter[name] common word", 20, lambda r: ("/api/v1/customers", {"filter[name]": rng.choice(surnames)})),
        ("filter[term_match] fragment", 20, lambda r: ("/api/v1/customers", {"filter[term_match]": distinct_fragment(r)})),
        ("page 1 (no sort)", 50, lambda r: ("/api/v1/customers", {"page": 1})),
        ("any page, sort=name", 50, lambda r: ("/api/v1/customers", {"sort": "name", "page": rng.randint(1, last_page)})),
        ("any page, sort=-created_at", 50, lambda r: ("/api/v1/customers", {"sort": "-created_at", "page": rng.randint(1, last_page)})),
        ("any page, sort=customerAccount", 50, lambda r: ("/api/v1/customers", {"sort": "customerAccount", "page": rng.randint(1, last_page)})),
        ("any page, sort=-updated_at", 50, lambda r: ("/api/v1/customers", {"sort": "-updated_at", "page": rng.randint(1, last_page)})),
        ("page 5000, sort=name", 50, lambda r: ("/api/v1/customers", {"sort": "name", "page": 5000})),
        ("middle page, sort=name", 50, lambda r: ("/api/v1/customers", {"sort": "name", "page": last_page // 2})),
    ]
    if writer:
        kinds += [
            (f"after a write: {label}", 50, lambda r, params=params: ("/api/v1/customers", dict(params, page=rng.randint(1, last_page)), True))
            for label, params in [
                ("any page, sort=name", {"sort": "name"}),
                ("any page, sort=-updated_at", {"sort": "-updated_at"}),
                ("any page, sort=customerAccount", {"sort": "customerAccount"}),
            ]
        ]
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    print(f"{'query kind':46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal   hits(first)")
    for label, goal, make in kinds:
        times = []
        first_hits = None
        for i, r in enumerate(sample):
            path, params, *write = make(r)
            if write:
                # A name this run has not written before: a write of the same value changes
                # nothing, and the page after it would not follow any write.
                body = json.dumps({"name": f"{name(r)} {run}-{i}"})
                conn.request("PATCH", f"/api/v1/customers/{rng.randint(1, total)}", body=body,
                             headers={"Authorization": f"Bearer {writer}", "Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    print(f"{label}: write answered HTTP {resp.status}", file=sys.stderr)
                    sys.exit(2)
            url = path + "?" + urllib.parse.urlencode(params)
            t0 = time.perf_counter()
            conn.request("GET", url, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            dt = (time.perf_counter() - t0) * 1000
            if resp.status != 200:
                print(f"{label}: HTTP {resp.status} for {url}: {body[:200]!r}", file=sys.stderr)
                sys.exit(2)
            if i == 0:
                data = json.loads(body)
                first_hits = len(data) if isinstance(data, list) else data.get("total")
                continue
            times.append(dt)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{label:46} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f}  ≤{goal:<4}  {first_hits}")


def phone_of(r, col):
    for h in ("Téléphone", "Téléphone fixe", "Numéro de téléphone"):
        if h in col and r[col[h]]:
            return r[col[h]]
    for i, v in enumerate(r):
        if v.startswith("01") and len(v.replace(" ", "")) == 10:
            return v
    return None


if __name__ == "__main__":
    main()
