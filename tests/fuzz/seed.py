#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes the fuzzers' seed corpora from the project's own inputs:
corpus_parse/ gets every distinct frame of tests/hostile/corpus.txt,
corpus_config/ every example, test and bad config (YAML and AWS JSON).
File names are content hashes, so reruns are stable.
usage: seed.py   (run from anywhere; writes next to this script)"""
import glob
import hashlib
import os
import shutil

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))


def put(d, data):
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    parse = os.path.join(here, "corpus_parse")
    config = os.path.join(here, "corpus_config")
    for d in (parse, config):
        shutil.rmtree(d, ignore_errors=True)
    with open(os.path.join(top, "tests/hostile/corpus.txt")) as f:
        for line in f:
            if line.startswith("pkt "):
                hexs = "".join(line.split()[4:])
                put(parse, bytes.fromhex(hexs))
    pats = ["examples/*.yaml", "examples/*.json", "tests/ns/*.yaml",
            "tests/aws/*.json", "tests/aws/*.yaml", "tests/badconfig/*.yaml"]
    for pat in pats:
        for path in sorted(glob.glob(os.path.join(top, pat))):
            with open(path, "rb") as f:
                data = f.read()
            if len(data) <= 65536:
                put(config, data)


if __name__ == "__main__":
    main()
