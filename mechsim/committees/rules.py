"""Committee scoring rules: a positional vector and an OWA vector.

A ranking ``v`` places the ``k`` members of a committee ``S`` at positions ``p_1 < ... < p_k``
(0 = top).  A committee scoring rule is given by a non-increasing positional vector
``gamma = (gamma(0), ..., gamma(m-1))`` (a function of the number of items ``m``) and an OWA vector
``lambda = (lambda_1, ..., lambda_k)`` (a function of the committee size ``k``)::

    f(v, S) = sum_j lambda_j * gamma(p_j),        F(S) = sum_v w_v f(v, S)

The best-placed member gets ``lambda_1``.  Built-in rules (Borda is ``gamma(p) = m-1-p``: the top item
gets ``m-1`` points and the last gets 0):

============================  ==================  =====================  =========
rule                          gamma(p)            lambda                 separable
============================  ==================  =====================  =========
:func:`sntv`                  1 if p = 0          all ones               yes
:func:`bloc` ``(l)``          1 if p < l          all ones               yes
:func:`k_borda`               m-1-p               all ones               yes
:func:`borda_cc`              m-1-p               (1, 0, ..., 0)         no
:func:`approval_cc` ``(l)``   1 if p < l          (1, 0, ..., 0)         no
:func:`approval_pav` ``(l)``  1 if p < l          (1, 1/2, ..., 1/k)     no
:func:`harmonic_borda`        m-1-p               (1, 1/2, ..., 1/k)     no
============================  ==================  =====================  =========

A rule is *separable* when lambda is constant: then ``F(S)`` is a sum of per-item scores (modular).
With non-increasing, non-negative lambda ``F`` is monotone submodular; the exact solver handles any
lambda (see :mod:`mechsim.solvers.committee`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from mechsim.committees._checks import check_bool, check_string
from mechsim.errors import InvalidInstanceError
from mechsim.validation import _describe, check_allocation, check_array, check_integer

__all__ = [
    "RULES",
    "BordaVector",
    "CommitteeScoringRule",
    "FirstVector",
    "HarmonicVector",
    "OnesVector",
    "RegisteredRule",
    "TopVector",
    "approval_cc",
    "approval_pav",
    "available_rules",
    "bloc",
    "borda_cc",
    "harmonic_borda",
    "k_borda",
    "register_rule",
    "rule_from_name",
    "sntv",
    "unregister_rule",
]


# Vector families are small frozen dataclasses rather than lambdas so that rules pickle (process
# pools, Ray) and print readably.
@dataclass(frozen=True)
class BordaVector:
    """``gamma(p) = m - 1 - p``."""

    def __call__(self, m: int) -> np.ndarray:
        return np.arange(m - 1, -1, -1, dtype=float)


@dataclass(frozen=True)
class TopVector:
    """``gamma(p) = 1`` for ``p < l`` and 0 otherwise (``l`` is capped at ``m``)."""

    l: int

    def __call__(self, m: int) -> np.ndarray:
        out = np.zeros(m)
        out[: min(self.l, m)] = 1.0
        return out


@dataclass(frozen=True)
class OnesVector:
    """``lambda_j = 1`` for every ``j``."""

    def __call__(self, k: int) -> np.ndarray:
        return np.ones(k)


@dataclass(frozen=True)
class FirstVector:
    """``lambda = (1, 0, ..., 0)`` (Chamberlin-Courant)."""

    def __call__(self, k: int) -> np.ndarray:
        out = np.zeros(k)
        out[:1] = 1.0
        return out


@dataclass(frozen=True)
class HarmonicVector:
    """``lambda_j = 1/j`` (proportional approval voting)."""

    def __call__(self, k: int) -> np.ndarray:
        return 1.0 / np.arange(1, k + 1)


@dataclass(frozen=True)
class _FixedVector:
    values: tuple
    what: str

    def __call__(self, size: int) -> np.ndarray:
        if size != len(self.values):
            raise InvalidInstanceError(
                f"{self.what}: this rule's vector was given for length {len(self.values)}, "
                f"but {size} is needed", argument=self.what)
        return np.asarray(self.values, dtype=float)


def _as_vector_fn(value, what: str) -> Callable[[int], np.ndarray]:
    if callable(value):
        return value
    arr = check_array(what, value, ndim=1)
    if arr.size == 0:
        raise InvalidInstanceError(f"{what}: expected a non-empty vector (or a callable), found an empty array",
                                   argument=what)
    if what == "positional" and np.any(np.diff(arr) > 0):
        p = int(np.argmax(np.diff(arr) > 0))
        raise InvalidInstanceError(f"positional: expected a non-increasing vector, found gamma({p})={arr[p]:g} < "
                                   f"gamma({p + 1})={arr[p + 1]:g}", argument="positional")
    return _FixedVector(tuple(float(x) for x in arr), what)


#: Bytes per entry that building and validating one scoring vector may take (the vector, its float copy
#: and the comparison temporaries).
_VECTOR_BYTES_PER_ENTRY = 32


@dataclass(frozen=True)
class CommitteeScoringRule:
    """An ordinal committee scoring rule ``(gamma, lambda)``.

    Parameters
    ----------
    positional : callable ``m -> array (m,)`` or array_like
        Non-increasing positional vector ``gamma``; a fixed array applies only to its own length.
    owa : callable ``k -> array (k,)`` or array_like
        OWA vector ``lambda`` (any finite values; best-placed member first).
    name : str
        Display name.

    Examples
    --------
    >>> rule = CommitteeScoringRule([3, 1, 0, 0], [1, 0.5], name="custom")
    >>> rule.gamma(4), rule.owa_vector(2)
    (array([3., 1., 0., 0.]), array([1. , 0.5]))
    """

    positional: Callable[[int], np.ndarray]
    owa: Callable[[int], np.ndarray]
    name: str = "custom"

    def __post_init__(self):
        check_string("name", self.name)
        object.__setattr__(self, "positional", _as_vector_fn(self.positional, "positional"))
        object.__setattr__(self, "owa", _as_vector_fn(self.owa, "owa"))

    def gamma(self, m: int) -> np.ndarray:
        """Positional vector for ``m`` items, validated (finite, length ``m``, non-increasing)."""
        m = check_integer("m", m, minimum=1)
        check_allocation("m", _VECTOR_BYTES_PER_ENTRY * float(m), f"a positional vector for {m} items")
        g = check_array("positional", self.positional(m), ndim=1, shape=(m,))
        if m > 1 and np.any(np.diff(g) > 0):
            p = int(np.argmax(np.diff(g) > 0))
            raise InvalidInstanceError(
                f"positional: expected a non-increasing vector, found gamma({p})={g[p]:g} < "
                f"gamma({p + 1})={g[p + 1]:g} (rule {self.name!r}, m={m})", argument="positional")
        return g

    def owa_vector(self, k: int) -> np.ndarray:
        """OWA vector for committee size ``k``, validated (finite, length ``k``)."""
        k = check_integer("k", k, minimum=1)
        check_allocation("k", _VECTOR_BYTES_PER_ENTRY * float(k), f"an OWA vector for committee size {k}")
        return check_array("owa", self.owa(k), ndim=1, shape=(k,))

    def is_separable(self, k: int | None = None) -> bool:
        """True when lambda is constant (``F`` is modular: a sum of per-item scores).

        For the built-in families the answer does not depend on ``k``; for a custom callable OWA vector
        it is checked at ``k`` (default: 2, 3 and 10).
        """
        if isinstance(self.owa, OnesVector):
            return True
        if isinstance(self.owa, (FirstVector, HarmonicVector)):
            return False
        ks = [k] if k is not None else ([len(self.owa.values)] if isinstance(self.owa, _FixedVector)
                                        else [2, 3, 10])
        for kk in ks:
            lam = self.owa_vector(kk)
            # relative to the vector's own scale, so that lambda and 1e-12 * lambda agree
            if not np.allclose(lam, lam[0], rtol=0, atol=1e-12 * float(np.abs(lam).max())):
                return False
        return True

    def is_owa_nonincreasing(self, k: int) -> bool:
        """True when ``lambda_1 >= ... >= lambda_k`` (the prefix LP relaxation of z is then exact)."""
        lam = self.owa_vector(k)
        return bool(np.all(np.diff(lam) <= 0))

    def __str__(self) -> str:
        return self.name


def sntv() -> CommitteeScoringRule:
    """Single non-transferable vote: each voter gives 1 point to its top item."""
    return CommitteeScoringRule(TopVector(1), OnesVector(), name="SNTV")


def bloc(l: int) -> CommitteeScoringRule:
    """``l``-Bloc: each voter gives 1 point to each of its top ``l`` items."""
    l = check_integer("l", l, minimum=1)
    return CommitteeScoringRule(TopVector(l), OnesVector(), name=f"{l}-Bloc")


def k_borda() -> CommitteeScoringRule:
    """k-Borda: the sum of the members' Borda scores ``m-1-p``."""
    return CommitteeScoringRule(BordaVector(), OnesVector(), name="k-Borda")


def borda_cc() -> CommitteeScoringRule:
    """Borda Chamberlin-Courant: each voter counts the Borda score of its best-placed member."""
    return CommitteeScoringRule(BordaVector(), FirstVector(), name="Borda-CC")


def approval_cc(l: int) -> CommitteeScoringRule:
    """``l``-approval Chamberlin-Courant: a voter scores 1 if a member is among its top ``l``."""
    l = check_integer("l", l, minimum=1)
    return CommitteeScoringRule(TopVector(l), FirstVector(), name=f"{l}-CC")


def approval_pav(l: int) -> CommitteeScoringRule:
    """``l``-approval PAV: a voter with ``t`` members in its top ``l`` scores ``1 + 1/2 + ... + 1/t``."""
    l = check_integer("l", l, minimum=1)
    return CommitteeScoringRule(TopVector(l), HarmonicVector(), name=f"{l}-PAV")


def harmonic_borda() -> CommitteeScoringRule:
    """Harmonic Borda: the j-th best-placed member's Borda score is weighted ``1/j``."""
    return CommitteeScoringRule(BordaVector(), HarmonicVector(), name="harmonic Borda")


# ---------------------------------------------------------------------------------------------------
# the rule registry


@dataclass(frozen=True)
class RegisteredRule:
    """One entry of :data:`RULES`.

    Attributes
    ----------
    name : str
        Registry key (lower case): ``"borda-cc"``; for a family with a parameter ``l``, the family's name
        (``"bloc"``), accepted as ``"<l>-bloc"``.
    constructor : callable
        ``constructor()`` (or ``constructor(l)`` for a family) returns the :class:`CommitteeScoringRule`.
    description : str
        One line, for listings (``mechsim list``).
    parametrised : bool
        Whether the rule is a family ``constructor(l)``.
    aliases : tuple of str
        Other accepted names.
    example : str
        A concrete accepted name (``"2-bloc"`` for a family), used in listings, docs and tests.
    """

    name: str
    constructor: Callable[..., CommitteeScoringRule]
    description: str
    parametrised: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""

    @property
    def pattern(self) -> str:
        """How the rule is named: ``"borda-cc"``, or ``"<l>-bloc"`` for a family."""
        return f"<l>-{self.name}" if self.parametrised else self.name

    def build(self, l: int | None = None) -> CommitteeScoringRule:
        """The rule (``l`` is required for a family and refused otherwise)."""
        if self.parametrised != (l is not None):
            raise InvalidInstanceError(f"rule: {self.pattern!r} " + ("needs a parameter l" if self.parametrised
                                                                     else "takes no parameter"), argument="rule")
        rule = self.constructor(l) if self.parametrised else self.constructor()
        if not isinstance(rule, CommitteeScoringRule):
            raise InvalidInstanceError(f"rule: the constructor registered as {self.name!r} returned "
                                       f"{type(rule).__name__}, not a CommitteeScoringRule", argument="rule")
        return rule


_REGISTRY: dict[str, RegisteredRule] = {}
_LOOKUP: dict[str, RegisteredRule] = {}   # names and aliases

#: Registered rules by name, in registration order (read-only view; add rules with :func:`register_rule`).
RULES: Mapping[str, RegisteredRule] = MappingProxyType(_REGISTRY)

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def _normalise(name) -> str:
    # "harmonic Borda", "harmonic_borda" and "harmonic-borda" are the same name
    return re.sub(r"[\s_]+", "-", str(name).strip().lower())


def register_rule(name: str, constructor: Callable[..., CommitteeScoringRule] | None = None,
                  description: str | None = None, *, parametrised: bool = False, aliases=(),
                  example: str | None = None, replace: bool = False):
    """Add a rule to :data:`RULES`, so that :func:`rule_from_name` (the env, the CLI, scenarios) accepts it.

    Parameters
    ----------
    name : str
        Lower-case name (letters, digits, single hyphens, starting with a letter).  With
        ``parametrised=True`` the rule is accepted as ``"<l>-<name>"`` and built as ``constructor(l)``.
    constructor : callable, optional
        Returns a :class:`CommitteeScoringRule`.  Without it, ``register_rule`` returns a decorator.
    description : str, optional
        One line for listings; default: the first line of the constructor's docstring.
    parametrised : bool
        Whether the constructor takes the parameter ``l``.
    aliases : iterable of str
        Other accepted names.
    example : str, optional
        A concrete accepted name (default ``name``, or ``"2-<name>"`` for a family).
    replace : bool
        Allow replacing an existing entry of the same name.

    Returns
    -------
    callable
        ``constructor`` (so that the function also works as a decorator).

    Examples
    --------
    >>> @register_rule("top-two-borda", description="Borda scores of the two best-placed members")
    ... def top_two_borda():
    ...     return CommitteeScoringRule(BordaVector(), lambda k: (np.arange(k) < 2).astype(float),
    ...                                 name="top-two Borda")
    >>> rule_from_name("top-two-borda").name
    'top-two Borda'
    >>> unregister_rule("top-two-borda")
    """
    check_string("name", name)
    parametrised = check_bool("parametrised", parametrised)
    replace = check_bool("replace", replace)
    if isinstance(aliases, str) or not isinstance(aliases, (tuple, list, set, frozenset)):
        raise InvalidInstanceError(f"aliases: expected a tuple or list of names, found {_describe(aliases)}",
                                   argument="aliases")
    for a in aliases:
        check_string("aliases", a)
    if example is not None:
        check_string("example", example)
    if constructor is None:
        return lambda fn: register_rule(name, fn, description, parametrised=parametrised, aliases=aliases,
                                        example=example, replace=replace)
    key = _normalise(name)
    if not _NAME.fullmatch(key):
        raise InvalidInstanceError(f"name: expected letters, digits and single hyphens, starting with a letter, "
                                   f"found {name!r}", argument="name")
    if not callable(constructor):
        raise InvalidInstanceError(f"constructor: expected a callable, found {type(constructor).__name__}",
                                   argument="constructor")
    if description is None:
        doc = (constructor.__doc__ or "").strip()
        description = doc.splitlines()[0] if doc else ""
    if not isinstance(description, str) or not description.strip() or "\n" in description.strip():
        raise InvalidInstanceError(f"description: expected one non-empty line, found {description!r}",
                                   argument="description")
    alias_keys = tuple(_normalise(a) for a in aliases)
    for a, k in zip(aliases, alias_keys):
        if not _NAME.fullmatch(k):
            raise InvalidInstanceError(f"aliases: expected letters, digits and single hyphens, starting with a "
                                       f"letter, found {a!r}", argument="aliases")
    for k in (key, *alias_keys):
        taken = _LOOKUP.get(k)
        if taken is not None and not (replace and taken.name == key):
            raise InvalidInstanceError(f"name: {k!r} is already registered (as {taken.pattern!r}); pass "
                                       "replace=True to replace it", argument="name")
    if key in _REGISTRY:
        unregister_rule(key)
    entry = RegisteredRule(key, constructor, description.strip(), bool(parametrised), alias_keys,
                           example or (f"2-{key}" if parametrised else key))
    _REGISTRY[key] = entry
    for k in (key, *alias_keys):
        _LOOKUP[k] = entry
    return constructor


def unregister_rule(name: str) -> None:
    """Remove a rule (and its aliases) from :data:`RULES`."""
    entry = _REGISTRY.pop(_normalise(name), None)
    if entry is None:
        raise InvalidInstanceError(f"name: no registered rule {name!r}", argument="name")
    for k in (entry.name, *entry.aliases):
        _LOOKUP.pop(k, None)


def available_rules() -> dict[str, str]:
    """``{pattern: description}`` of every registered rule (``"<l>-bloc"`` for families), in order."""
    return {entry.pattern: entry.description for entry in _REGISTRY.values()}


# The built-in rules, in the order of the table in the module docstring.
register_rule("sntv", sntv, "single non-transferable vote: 1 point to each voter's top item")
register_rule("bloc", bloc, "l-Bloc: 1 point to each of a voter's top l items", parametrised=True,
              example="2-bloc")
register_rule("k-borda", k_borda, "k-Borda: sum of the members' Borda scores", aliases=("borda",))
register_rule("borda-cc", borda_cc, "Borda Chamberlin-Courant: Borda score of each voter's best-placed member")
register_rule("cc", approval_cc, "l-approval Chamberlin-Courant: 1 if a member is among a voter's top l",
              parametrised=True, example="2-cc")
register_rule("pav", approval_pav, "l-approval PAV: 1 + 1/2 + ... + 1/t for t members in a voter's top l",
              parametrised=True, example="3-pav")
register_rule("harmonic-borda", harmonic_borda,
              "harmonic Borda: the j-th best-placed member's Borda score weighted 1/j")

_FAMILY_NAME = re.compile(r"(\d+)-(.+)")


def rule_from_name(name: str | CommitteeScoringRule) -> CommitteeScoringRule:
    """Build a rule from its registered name (see :data:`RULES` and :func:`available_rules`).

    Built in: ``"sntv"``, ``"k-borda"`` (alias ``"borda"``), ``"borda-cc"``, ``"harmonic-borda"`` and the
    families ``"<l>-bloc"``, ``"<l>-cc"``, ``"<l>-pav"``; rules added with :func:`register_rule` likewise.
    Case, underscores and spaces do not matter (``"harmonic Borda"`` is ``"harmonic-borda"``, so every
    built-in rule's display name is accepted).  A rule object is returned unchanged.
    """
    if isinstance(name, CommitteeScoringRule):
        return name
    if not isinstance(name, str):
        raise InvalidInstanceError(f"rule: expected a registered rule name (see available_rules()) or a "
                                   f"CommitteeScoringRule, found {_describe(name)}", argument="rule")
    key = _normalise(name)
    entry = _LOOKUP.get(key)
    if entry is not None and not entry.parametrised:
        return entry.build()
    match = _FAMILY_NAME.fullmatch(key)
    if match:
        entry = _LOOKUP.get(match.group(2))
        if entry is not None and entry.parametrised:
            return entry.build(int(match.group(1)))
    choices = ", ".join(repr(e.pattern) + (f" (or {', '.join(map(repr, e.aliases))})" if e.aliases else "")
                        for e in _REGISTRY.values())
    raise InvalidInstanceError(f"rule: expected one of {choices} or a CommitteeScoringRule, found {name!r}",
                               argument="rule")
