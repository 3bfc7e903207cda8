"""Vectorised string ids ("S000001", "O000000042", ...) and string columns.

Ids are built with pyarrow compute kernels, never a Python loop per row, and handed to
pandas as Arrow-backed ``str`` columns without a copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The pandas dtype of every text column (pandas 3 ``str``).
STR = pd.StringDtype("pyarrow", na_value=np.nan)

# Multipliers coprime with 2, 5 and 7: an affine map mod 2**i * 5**j * 7**k is then a
# bijection, so scrambled counters stay unique while looking unordered. Each salt uses its
# own multiplier so ids of one seller look unrelated across identifier kinds.
_SCRAMBLE_A = (7_919_123_451, 6_364_136_223, 2_862_933_551, 3_935_559_001, 4_093_082_899)
_SCRAMBLE_B = 4_827_193_681


def width_for(n: int, minimum: int) -> int:
    """Return the digit count needed for ids ``0 .. n-1``, at least ``minimum``."""
    return max(minimum, len(str(max(n - 1, 0))))


def scramble(values: np.ndarray, modulus: int, salt: int = 0) -> np.ndarray:
    """Map distinct counters ``< modulus`` to distinct, unordered-looking numbers.

    ``modulus`` must be a product of powers of 2, 5 and 7 (the multipliers are coprime
    with those), e.g. ``10**9`` or ``7 * 10**9``; ``salt`` picks one of a few multipliers.
    """
    v = np.asarray(values, dtype=np.int64) % modulus
    a = _SCRAMBLE_A[salt % len(_SCRAMBLE_A)] % modulus
    # (a * v) may overflow int64 for large moduli; split v into two halves.
    lo = v % 100_000
    hi = v // 100_000
    out = (a * lo + ((a * hi) % modulus) * 100_000 % modulus + _SCRAMBLE_B) % modulus
    return out


def format_ids(
    prefix: str, values: np.ndarray, width: int, mask: np.ndarray | None = None
) -> pa.Array:
    """Return ``prefix`` + zero-padded ``values`` as an Arrow string array.

    Parameters
    ----------
    prefix : str
        Text before the digits.
    values : ndarray of int
        Non-negative integers.
    width : int
        Digits after the prefix (zero-padded).
    mask : ndarray of bool, optional
        True where the id is missing (null).
    """
    arr = pa.array(np.asarray(values, dtype=np.int64), type=pa.int64(), mask=mask)
    digits = pc.utf8_lpad(pc.cast(arr, pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def take(
    pool: Sequence[str] | pa.Array, index: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    """Return ``pool[index]`` as an Arrow string array (null where ``mask``)."""
    arr = pool if isinstance(pool, pa.Array) else pa.array(list(pool), type=pa.string())
    idx = pa.array(np.asarray(index, dtype=np.int64), type=pa.int64(), mask=mask)
    return arr.take(idx)


def join(parts: Sequence[pa.Array], sep: str = " ") -> pa.Array:
    """Join string arrays element-wise with ``sep``, dropping empty parts."""
    joined = pc.binary_join_element_wise(*parts, sep)
    squeezed = pc.replace_substring_regex(joined, pattern=" {2,}", replacement=" ")
    return pc.utf8_trim(squeezed, characters=" ")


def to_str(arr: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Wrap an Arrow string array as a pandas ``str`` array (no copy)."""
    return pd.array(arr, dtype=STR)
