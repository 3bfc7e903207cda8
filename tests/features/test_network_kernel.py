"""The sorted-pair kernel of the seller web against a brute-force count of the same pairs.

:func:`riskscore.features._network_sparse.pairs_from_codes` packs pairs into int64 sort
keys and drops singleton runs before summing weights; the reference below loops over
values and seller pairs in plain Python, so any slip in the packing, the hub cap, the
run detection or the weights shows up as a differing pair.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskscore.exceptions import FeatureError
from riskscore.features._network_pairs import hub_weight
from riskscore.features._network_sparse import fits_kernel, pairs_from_codes


def _reference(
    pos: list[int], key: list[int], n: int, cap: int, min_shared: int
) -> tuple[dict[tuple[int, int], tuple[int, float]], list[int], float, float]:
    holders: dict[int, set[int]] = defaultdict(set)
    for p, k in zip(pos, key, strict=True):
        if p >= 0 and k >= 0:
            holders[k].add(p)
    kept = {k: s for k, s in holders.items() if len(s) <= cap}
    degree = [sum(p in s for s in kept.values()) for p in range(n)]
    count: Counter[tuple[int, int]] = Counter()
    weight: defaultdict[tuple[int, int], float] = defaultdict(float)
    for s in kept.values():
        for a, b in itertools.combinations(sorted(s), 2):
            count[a, b] += 1
            weight[a, b] += float(hub_weight(len(s)))
    pairs = {ab: (c, weight[ab]) for ab, c in count.items() if c >= min_shared}
    sizes = [len(s) for s in kept.values()]
    return pairs, degree, float(sum(sizes)), float(sum(h * h for h in sizes))


# few sellers and values, so that pairs sharing two or three values are common
rows = st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 4)), min_size=4, max_size=60)


@settings(max_examples=200, deadline=None)
@given(rows=rows, cap=st.integers(2, 6), min_shared=st.integers(1, 3))
def test_kernel_equals_brute_force(rows: list[tuple[int, int]], cap: int, min_shared: int) -> None:
    n = 7
    pos = [r[0] for r in rows]
    key = [r[1] for r in rows]
    got = pairs_from_codes(
        np.array(pos, dtype=np.int64), np.array(key, dtype=np.int64), n, cap, min_shared
    )
    want, degree, s1, s2 = _reference(pos, key, n, cap, min_shared)
    assert list(zip(got.a.tolist(), got.b.tolist(), strict=True)) == sorted(want)
    assert got.n_shared.tolist() == [want[ab][0] for ab in sorted(want)]
    np.testing.assert_allclose(got.weight, [want[ab][1] for ab in sorted(want)], rtol=1e-12)
    assert got.degree.tolist() == degree
    assert (got.s1, got.s2) == (s1, s2)


def test_kernel_counts_and_weighs_a_pair_sharing_two_values() -> None:
    # sellers 0 and 1 share values 3 (held by 0, 1, 2) and 4 (held by 0, 1); 2 shares one
    got = pairs_from_codes(np.array([0, 1, 2, 0, 1, 0]), np.array([3, 3, 3, 4, 4, 4]), 3, 25, 2)
    assert (got.a.tolist(), got.b.tolist(), got.n_shared.tolist()) == ([0], [1], [2])
    assert got.weight.tolist() == pytest.approx([float(hub_weight(3) + hub_weight(2))])


def test_kernel_refuses_what_does_not_pack() -> None:
    assert fits_kernel(100_000, 25)
    assert not fits_kernel(2**31, 25)
    with pytest.raises(FeatureError, match="method='join'"):
        pairs_from_codes(np.zeros(1, np.int64), np.zeros(1, np.int64), 2**31, 25, 1)
