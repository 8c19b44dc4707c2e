#!/usr/bin/env python3
"""Check the karte medical lexicon TSV files.

Usage: python3 check_lexicon.py [LEXICON_DIR]   (default: the directory of this script)

Checks, per file: UTF-8, a leading block of `#` comment lines that names the sources of knowledge,
exactly one TAB per entry line, no empty field, no leading/trailing spaces, the line already in
NFKC form (the pipeline matches on NFKC text, so a non-NFKC surface could never match), no surface
shorter than two characters (except the allow-listed `K`), no duplicate surface within a file and
no surface in two files. Prints the entry count per file and exits non-zero on any error.
Also prints (as warnings, not errors) surfaces that differ only by letter case but have a different
type or normalized form (HT 高血圧症 / Ht ヘマトクリット): a matcher must keep both, case-sensitively.
"""
import os
import sys
import unicodedata

KINDS = ["disease", "medication", "test", "procedure", "anatomy"]
ONE_CHAR_ALLOWED = {"K"}  # potassium: written alone in every lab line ("K 4.2")
MINIMUM = {"disease": 1200, "medication": 1000, "test": 350, "procedure": 300, "anatomy": 300}


normalized_of = {}


def check_file(path, kind, owner, errors):
    count = 0
    seen = {}
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as err:
        errors.append(f"{path}: cannot read as UTF-8: {err}")
        return 0
    lines = text.split("\n")
    if text and not text.endswith("\n"):
        errors.append(f"{path}: file does not end with a newline")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    header = []
    for number, line in enumerate(lines, 1):
        where = f"{os.path.basename(path)}:{number}"
        if line.startswith("#"):
            if count:
                errors.append(f"{where}: comment after entries (comments belong in the header)")
            header.append(line)
            continue
        if line.strip() == "":
            errors.append(f"{where}: empty line")
            continue
        if line.count("\t") != 1:
            errors.append(f"{where}: expected exactly one TAB, found {line.count(chr(9))}")
            continue
        surface, normalized = line.split("\t")
        if not surface or not normalized:
            errors.append(f"{where}: empty field")
            continue
        if surface != surface.strip() or normalized != normalized.strip():
            errors.append(f"{where}: leading or trailing space in a field")
        if unicodedata.normalize("NFKC", line) != line:
            errors.append(f"{where}: not in NFKC form (write the NFKC form, e.g. half-width ASCII)")
        if len(surface) < 2 and surface not in ONE_CHAR_ALLOWED:
            errors.append(f"{where}: one-character surface {surface!r} is too ambiguous")
        if surface in seen:
            errors.append(f"{where}: duplicate surface {surface!r} (first at line {seen[surface]})")
            continue
        seen[surface] = number
        if surface in owner and owner[surface] != kind:
            errors.append(f"{where}: surface {surface!r} is also in {owner[surface]}.tsv")
        owner.setdefault(surface, kind)
        normalized_of.setdefault(surface, normalized)
        count += 1
    if not header:
        errors.append(f"{path}: missing the `#` header (content and sources of knowledge)")
    elif not any("ource" in h for h in header):
        errors.append(f"{path}: header does not state its sources of knowledge")
    return count


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errors = []
    owner = {}
    total = 0
    for kind in KINDS:
        path = os.path.join(directory, f"{kind}.tsv")
        if not os.path.exists(path):
            errors.append(f"{path}: missing")
            continue
        count = check_file(path, kind, owner, errors)
        total += count
        note = "" if count >= MINIMUM[kind] else f"  (below the target of {MINIMUM[kind]})"
        print(f"{kind:<11}{count:>6}{note}")
    print(f"{'total':<11}{total:>6}")
    folded = {}
    for surface in owner:
        folded.setdefault(surface.casefold(), []).append(surface)
    clashes = [v for v in folded.values() if len({(owner[s], normalized_of[s]) for s in v}) > 1]
    for clash in sorted(clashes):
        print(
            "warning: surfaces differ only by case but mean different things (match case-sensitively): "
            + ", ".join(f"{s} ({owner[s]}: {normalized_of[s]})" for s in clash)
        )
    for error in errors:
        print("error: " + error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
