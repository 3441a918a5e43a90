"""RFC 9162 Merkle trees: plain functions, checked against the RFC's recursive definition and
by exhaustive proofs on small trees."""

import hashlib

import pytest

from review.register import merkle


def reference_root(leaves):
    """RFC 9162 2.1.1, written exactly as the RFC's recursion."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(40)]


def test_leaf_and_node_hashes_are_domain_separated():
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("n", range(0, 40))
def test_root_matches_the_rfc_recursion(n):
    assert merkle.root(LEAVES[:n]) == reference_root(LEAVES[:n])


def test_the_accumulator_gives_every_prefix_root():
    accumulator = merkle.RootAccumulator()
    for n, leaf in enumerate(LEAVES, start=1):
        accumulator.add(leaf)
        assert accumulator.root() == reference_root(LEAVES[:n])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 13, 16, 17, 40])
def test_every_inclusion_proof_verifies_and_tampering_is_caught(n):
    tree_root = merkle.root(LEAVES[:n])
    for index in range(n):
        proof = merkle.inclusion_proof(index, LEAVES[:n])
        assert merkle.verify_inclusion(LEAVES[index], index, n, proof, tree_root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, n, proof,
                                           tree_root)
        if n > 1:
            assert not merkle.verify_inclusion(LEAVES[index], (index + 1) % n, n, proof,
                                               tree_root)


@pytest.mark.parametrize("new", [1, 2, 3, 4, 5, 8, 9, 17, 40])
def test_every_consistency_proof_verifies_and_rewrites_are_caught(new):
    new_root = merkle.root(LEAVES[:new])
    for old in range(1, new + 1):
        proof = merkle.consistency_proof(old, LEAVES[:new])
        old_root = merkle.root(LEAVES[:old])
        assert merkle.verify_consistency(old, new, old_root, new_root, proof)
        rewritten = merkle.root([merkle.leaf_hash(b"rewritten"), *LEAVES[1:old]])
        assert not merkle.verify_consistency(old, new, rewritten, new_root, proof)


def test_the_rfc_example_shapes():
    # RFC 9162 2.1.5: the tree of 7 leaves; the audit path of d0 has three nodes.
    assert len(merkle.inclusion_proof(0, LEAVES[:7])) == 3
    assert len(merkle.inclusion_proof(6, LEAVES[:7])) == 2
    assert len(merkle.consistency_proof(3, LEAVES[:7])) == 4
    assert len(merkle.consistency_proof(4, LEAVES[:7])) == 1


def test_the_level_tree_gives_the_same_roots_and_proofs():
    tree = merkle.MerkleTree(LEAVES)
    for n in range(1, len(LEAVES) + 1):
        assert tree.root(n) == reference_root(LEAVES[:n])
        for index in range(n):
            assert tree.inclusion_proof(index, n) == merkle.inclusion_proof(index, LEAVES[:n])
        for old in range(1, n + 1):
            assert tree.consistency_proof(old, n) == merkle.consistency_proof(old, LEAVES[:n])
