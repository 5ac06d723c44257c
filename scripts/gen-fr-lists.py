#!/usr/bin/env python3
"""Build crates/core/data/fr-lists.deflate from pinned npm packages of the official French lists.

    scripts/gen-fr-lists.py            # needs npm (to fetch the tarballs) and python3, nothing else

The build of Clientèle never runs this: the generated file is committed and embedded in the
binary with include_bytes!. Refresh: bump a version and its integrity below, run the script,
run `cargo test -p clientele-core`, update docs/data.md. See docs/data.md for provenance and
licences.

Output: raw DEFLATE of a UTF-8 text, one record per line, tab-separated, in sections:

    #<comment>                      provenance (package@version), ignored by the reader
    C<insee>\t<name>[\t<label>]     a commune (or municipal arrondissement) and its first
                                    routing label (libellé d'acheminement): omitted when it is
                                    the name in capitals without accents, hyphens and
                                    apostrophes (AIX EN PROVENCE), "-" when it is the name in
                                    capitals without accents (AIX-EN-PROVENCE)
    P<code>\t<insee>[=<label>],...  a postal code and its communes; "=<label>" only when the
                                    routing label differs from the commune's first one
    F<name>\t<insee>                a former commune (commune déléguée / associée) and the
                                    current commune it was merged into
    N<code>\t<label>                a NAF rév. 2 sub-class (62.01Z) and its label
"""
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zlib

# Pinned versions and the npm registry's integrity of their tarballs (checked below).
PACKAGES = {
    "codes-postaux": (
        "4.1.2",
        "sha512-naSV2sect0t5YmX9GhQgvBD/eLGtdhbhMSEu2eYx7Gwd2zpzH2qY2CQI2r41zb5/97YOuIwLVbuHxA1TCDuIZA==",
    ),
    "@etalab/decoupage-administratif": (
        "6.0.0",
        "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ==",
    ),
    "@socialgouv/codes-naf": (
        "1.1.1",
        "sha512-FeJuR5rKP3hmGfXA53ZST8dW90Op/XY7Ujna8yUwLK0vVa5zo1WolP8ntUqQACYiUq+Ni04fF4or6768YjwAYw==",
    ),
}

# Monaco uses the French postal system (98000, routed MONACO) but is not a French commune:
# neither package lists it. 99138 is Monaco's INSEE country code.
SUPPLEMENT = [("98000", "99138", "Monaco", "MONACO")]

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "core", "data", "fr-lists.deflate")


def fetch(tmp, name, version, integrity):
    """npm pack the exact version, check its integrity, return {path: bytes} of the tarball."""
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", tmp],
        check=True, capture_output=True, text=True,
    ).stdout
    filename = json.loads(out)[0]["filename"]
    data = open(os.path.join(tmp, filename), "rb").read()
    got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != integrity:
        sys.exit(f"{name}@{version}: integrity {got} is not the pinned {integrity}")
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile():
                files[m.name] = t.extractfile(m).read()
    return files


def upper(name):
    """The name in capitals without accents (the reader derives it the same way)."""
    s = unicodedata.normalize("NFKD", name)
    return "".join(c for c in s if not unicodedata.combining(c)).upper()


def label_of(name):
    """A routing label in La Poste's style: capitals, no accents, hyphens or apostrophes."""
    return " ".join(re.sub(r"[-']", " ", upper(name)).split())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        pkgs = {n: fetch(tmp, n, v, i) for n, (v, i) in PACKAGES.items()}
    postaux = json.loads(pkgs["codes-postaux"]["package/codes-postaux.json"])
    communes = json.loads(pkgs["@etalab/decoupage-administratif"]["package/data/communes.json"])
    naf = json.loads(pkgs["@socialgouv/codes-naf"]["package/index.json"])

    names = {}  # insee -> name
    pairs = {}  # (postal, insee) -> label
    for r in postaux:
        names.setdefault(r["codeCommune"], r["nomCommune"])
        pairs.setdefault((r["codePostal"], r["codeCommune"]), r["libelleAcheminement"])
    # decoupage-administratif adds the overseas collectivities (97133 Saint-Barthélemy,
    # 97150 Saint-Martin, 975, 986-988) and the whole cities of Paris, Marseille and Lyon
    # on their arrondissements' codes.
    current = {}
    for c in communes:
        if c["type"] in ("commune-actuelle", "arrondissement-municipal"):
            current[c["code"]] = c["nom"]
            names.setdefault(c["code"], c["nom"])
            for p in c.get("codesPostaux", []):
                pairs.setdefault((p, c["code"]), label_of(c["nom"]))
    for p, insee, name, label in SUPPLEMENT:
        names.setdefault(insee, name)
        pairs.setdefault((p, insee), label)

    first_label = {}
    for (p, insee), label in sorted(pairs.items()):
        first_label.setdefault(insee, label)

    lines = ["#" + ", ".join(f"{n}@{v}" for n, (v, _) in PACKAGES.items())]
    for insee in sorted(first_label):
        name, label = names[insee], first_label[insee]
        if label == label_of(name):
            lines.append(f"C{insee}\t{name}")
        elif label == upper(name):
            lines.append(f"C{insee}\t{name}\t-")
        else:
            lines.append(f"C{insee}\t{name}\t{label}")
    by_code = {}
    for (p, insee), label in sorted(pairs.items()):
        by_code.setdefault(p, []).append(insee if label == first_label[insee] else f"{insee}={label}")
    for p in sorted(by_code):
        lines.append(f"P{p}\t{','.join(by_code[p])}")
    former = set()
    for c in communes:
        if c["type"] in ("commune-deleguee", "commune-associee"):
            chef = c.get("chefLieu")
            if chef in first_label and c["nom"] != current.get(chef):
                former.add((c["nom"], chef))
    for name, chef in sorted(former):
        lines.append(f"F{name}\t{chef}")
    n_naf = 0
    for r in naf:
        if re.fullmatch(r"\d\d\.\d\d[A-Z]", r["id"]):
            lines.append(f"N{r['id']}\t{r['label']}")
            n_naf += 1
    for line in lines:
        assert "\n" not in line and line.count("\t") <= 2, line
    text = ("\n".join(lines) + "\n").encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = c.compress(text) + c.flush()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(packed)
    print(f"{len(first_label)} communes, {len(by_code)} postal codes, {len(former)} former communes, "
          f"{n_naf} NAF codes: {len(text)} bytes of text, {len(packed)} bytes deflated -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
