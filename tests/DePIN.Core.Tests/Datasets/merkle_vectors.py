#!/usr/bin/env python3
"""Writes merkle-vectors.json: roots, inclusion proofs and consistency proofs computed straight from the recursive
definitions of RFC 6962 section 2.1 (MTH, PATH, PROOF/SUBPROOF), independently of the C# code under test.

Leaves 0-7 are the inputs of the Certificate Transparency test suite; the rest are b"depin-leaf-<i>".
Run: python3 merkle_vectors.py > merkle-vectors.json
"""
import hashlib
import json

CT_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
COUNT = 21


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(d):
    n = len(d)
    if n == 0:
        return h(b"")
    if n == 1:
        return h(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def path(m, d):
    n = len(d)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


leaves = [bytes.fromhex(x) for x in CT_INPUTS] + [b"depin-leaf-%d" % i for i in range(len(CT_INPUTS), COUNT)]
out = {
    "leaves": [x.hex() for x in leaves],
    "roots": [mth(leaves[:n]).hex() for n in range(0, COUNT + 1)],
    "inclusion": [
        {"index": m, "size": n, "path": [x.hex() for x in path(m, leaves[:n])]}
        for n in range(1, COUNT + 1) for m in range(n)
    ],
    "consistency": [
        {"first": m, "second": n, "proof": [x.hex() for x in subproof(m, leaves[:n], True)]}
        for n in range(1, COUNT + 1) for m in range(1, n)
    ],
}
print(json.dumps(out, indent=0))
