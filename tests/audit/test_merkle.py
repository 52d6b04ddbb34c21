"""RFC 6962 Merkle hashing against the published test vectors (transparency-dev/merkle)."""

from __future__ import annotations

import hashlib

import pytest
from cogate.audit import merkle
from hypothesis import given, settings
from hypothesis import strategies as st

LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
H = bytes.fromhex
INCLUSION = [  # (leaf index 1-based, tree size, proof)
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (old size, new size, proof)
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
LEAF_HASHES = [merkle.leaf_hash(d) for d in LEAVES]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_published_vectors(size):
    assert merkle.root(LEAF_HASHES[:size]) == ROOTS[size]
    frontier = merkle.Frontier()
    for leaf in LEAF_HASHES[:size]:
        frontier.append(leaf)
    assert frontier.root() == ROOTS[size]
    restored = merkle.Frontier(frontier.size, frontier.nodes)
    assert restored.root() == ROOTS[size]


def test_leaf_and_node_hashes_are_domain_separated():
    assert merkle.leaf_hash(b"") == H(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle.node_hash(LEAF_HASHES[0], LEAF_HASHES[1]) == ROOTS[2]
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_vectors(leaf, size, proof):
    expected = [H(p) for p in proof]
    assert merkle.inclusion_proof(leaf - 1, LEAF_HASHES[:size]) == expected
    assert merkle.verify_inclusion(leaf - 1, size, LEAF_HASHES[leaf - 1], expected, ROOTS[size])


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_corrupted_inclusion_proofs_fail(leaf, size, proof):
    p = [H(x) for x in proof]
    index, root, lh = leaf - 1, ROOTS[size], LEAF_HASHES[leaf - 1]
    bad = [
        (index + 1, size, lh, p, root),
        (index, size * 2, lh, p, root),
        (index, size, LEAF_HASHES[(index + 1) % 8], p, root),
        (index, size, lh, p, ROOTS[0]),
        (index, size, lh, [*p, root], root),
        (index, size, lh, [root, *p], root),
        (index, size, lh, p[:-1], root),
    ]
    for i in range(len(p)):
        flipped = list(p)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        bad.append((index, size, lh, flipped, root))
    for args in bad:
        assert not merkle.verify_inclusion(*args)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_vectors(old, new, proof):
    expected = [H(x) for x in proof]
    assert merkle.consistency_proof(old, LEAF_HASHES[:new]) == expected
    assert merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)
    assert not merkle.verify_consistency(old, new, ROOTS[new], ROOTS[old], expected)
    assert not merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], expected[:-1])
    assert not merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], [])
    assert not merkle.verify_consistency(old + 1, new, ROOTS[old], ROOTS[new], expected)


def test_trivial_consistency_cases():
    assert merkle.verify_consistency(0, 0, ROOTS[0], ROOTS[0], [])
    assert merkle.verify_consistency(0, 5, ROOTS[0], ROOTS[5], [])
    assert merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])
    assert not merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])
    assert not merkle.verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])
    assert not merkle.verify_consistency(1, 1, ROOTS[1], ROOTS[1], [ROOTS[0]])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.data())
def test_generated_proofs_verify(n, data):
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    frontier = merkle.Frontier()
    roots = []
    for leaf in leaves:
        frontier.append(leaf)
        roots.append(frontier.root())
    assert roots[-1] == merkle.root(leaves)
    m = data.draw(st.integers(1, n))
    i = data.draw(st.integers(0, n - 1))
    assert merkle.verify_consistency(
        m, n, roots[m - 1], roots[-1], merkle.consistency_proof(m, leaves)
    )
    assert merkle.verify_inclusion(i, n, leaves[i], merkle.inclusion_proof(i, leaves), roots[-1])
