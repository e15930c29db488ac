"""One fuzzed entry point: a callable, a valid call, and the bad-value kinds each argument must reject."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NUMBER = ("none", "type", "nan", "inf")               # any real parameter
POSITIVE = (*NUMBER, "negative")                      # must be > 0 (or >= 0)
COUNT = ("none", "type", "nan", "inf", "negative", "fraction", "huge")   # sizes and counts
INDEX = ("none", "type", "nan", "negative", "fraction")
ARRAY = ("none", "type", "nan", "inf", "shape", "ndim", "dtype", "empty")
#: An array that defines a size itself (its length is free; only its number of axes can be wrong).
SIZING_ARRAY = ("none", "type", "nan", "inf", "ndim", "dtype", "empty")
NONNEG_ARRAY = (*ARRAY, "negative")
SEED = ("type", "negative", "fraction", "nan")        # None is a valid seed
MODEL = ("none", "type")


@dataclass(frozen=True)
class Entry:
    name: str
    call: Callable[..., Any]
    valid: Callable[[], dict]
    kinds: Mapping[str, Sequence[str]]
    names: Mapping[str, Sequence[str]] = field(default_factory=dict)   # other spellings in messages
