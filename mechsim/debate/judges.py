r"""Judges of a debate: scorers of a decision given partially revealed evidence.

A state is a feature vector :math:`x \in \mathbb{R}^F`; the evidence is a boolean mask
:math:`m \in \{0,1\}^F` of revealed features.  A judge is any object with a method

.. math::  \text{score}(x, m, a) = J(a \mid x_m) \in \mathbb{R}

vectorised over a batch (``features`` ``(N, F)``, ``mask`` ``(N, F)`` bool, ``decisions`` ``(N,)`` int,
returning ``(N,)`` floats).  A judge must only look at revealed values: ``score`` may depend on ``x`` only
through :math:`x \odot m`.  The outcome of a debate between decisions :math:`a_1, a_2` on evidence
:math:`m` is :math:`\operatorname{sign}(J(a_1 \mid x_m) - J(a_2 \mid x_m)) \in \{-1, 0, 1\}` for the
debater arguing :math:`a_1` (:func:`debate_outcome`).  A judge may also provide the optional fast path
``score_masks(features (F,), masks (n, F), decisions (k,)) -> (n, k)`` (one state, many masks), which the
exact solver uses when present; the judges here do.  :func:`score_grid` scores many states under many masks
for several decisions at once (the batched all-decisions debate table of :mod:`mechsim.solvers.debate`);
:func:`outcome_grid` gives, for one state, the exact outcome ``sign(J(a|x_S) - J(b|x_S))`` of every decision
``a`` against a reference ``b`` on every mask (the leaves of every debate against a baseline at once).

Bradley–Terry judge
-------------------
:class:`BradleyTerryJudge` models :math:`P(a_w \succ a_l \mid x_m) = \sigma(J(a_w|x_m) - J(a_l|x_m))`
with :math:`J` a multilayer perceptron on the input :math:`(x \odot m,\; m,\; e_a)` (masked values, the
mask itself so that a revealed zero differs from a hidden feature, and the one-hot decision).  Training
minimises the mean logistic loss

.. math::  \min_\theta \; \frac1n \sum_i \log\bigl(1 + e^{-(J_\theta(a_{w,i}|x_i \odot m_i)
           - J_\theta(a_{l,i}|x_i \odot m_i))}\bigr) + \tfrac{\lambda}{2}\lVert W\rVert^2

over preference triples :math:`(x_i, a_{w,i}, a_{l,i})`, each with a fresh uniformly random evidence mask
:math:`m_i` of exactly ``n_evidence`` revealed features (redrawn every epoch), by minibatch Adam.  The
*ideal* judge (``ideal=True``) is the same model trained and queried with the full state
(:math:`m = \mathbf 1`); it ignores the mask it is given.

:class:`LinearJudge` (:math:`J(a|x_m) = \sum_f m_f w_{a f} x_f + b_a`) and :class:`ConstantJudge`
(always 0, so every debate is a tie) are exact, cheap judges for tests and small examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from mechsim.debate._checks import check_flag, check_index_array, check_judge, check_judge_size, check_mask
from mechsim.errors import InvalidInstanceError
from mechsim.optim import Adam
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_integer,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "Judge",
    "LinearJudge",
    "ConstantJudge",
    "BradleyTerryJudge",
    "TrainingHistory",
    "validate_judge_batch",
    "random_evidence_masks",
    "debate_outcome",
    "judge_accuracy",
    "score_grid",
    "outcome_grid",
    "margins_after_reveal",
]


@runtime_checkable
class Judge(Protocol):
    """What every judge provides: a vectorised score of decisions given revealed evidence."""

    def score(self, features: np.ndarray, mask: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        """Return ``(N,)`` scores :math:`J(a_i | x_i \\odot m_i)`."""


def validate_judge_batch(features, mask, decisions, *, n_features: int | None = None,
                         n_decisions: int | None = None):
    """Validate and convert one batch of judge inputs.

    Returns
    -------
    features : ndarray, shape (N, F), float
    mask : ndarray, shape (N, F), bool
    decisions : ndarray, shape (N,), int
    """
    features = check_array("features", features, ndim=2)
    n, f = features.shape
    if n_features is not None and f != n_features:
        raise InvalidInstanceError(f"features: expected {n_features} columns, found {f}", argument="features")
    mask = check_mask("mask", mask)
    if mask.shape != (n, f):
        raise InvalidInstanceError(f"mask: expected the shape of features {(n, f)}, found shape {mask.shape}",
                                   argument="mask")
    decisions = check_index_array("decisions", decisions, shape=(n,), high=n_decisions,
                                  what="integer decisions (one per row of features)")
    return features, mask, decisions


def _check_one_state(judge, features, masks, decisions):
    """Inputs of a judge's one-state fast path ``score_masks``: ``(F,)``, ``(n, F)`` bool, ``(k,)`` int."""
    nf = getattr(judge, "n_features", None)
    x = check_array("features", features, ndim=1, shape=None if nf is None else (nf,))
    masks = check_mask("masks", masks, shape=(None, x.shape[0]))
    d = check_index_array("decisions", decisions, ndim=1, high=getattr(judge, "n_decisions", None),
                          what="integer decisions")
    return x, masks, d


def random_evidence_masks(n: int, n_features: int, n_evidence: int, seed=None) -> np.ndarray:
    """Draw ``n`` uniformly random evidence masks with exactly ``n_evidence`` revealed features each.

    Returns
    -------
    ndarray, shape (n, n_features), bool
    """
    n = check_integer("n", n, minimum=0)
    n_features = check_integer("n_features", n_features, minimum=1)
    n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=n_features)
    # The uniform keys (float64) and the mask (bool) of every (row, feature).
    check_allocation("n" if n >= n_features else "n_features", 9.0 * n * n_features,
                     f"an ({n}, {n_features}) table of random keys and masks")
    rng = as_generator(seed)
    if n_evidence == n_features:
        return np.ones((n, n_features), dtype=bool)
    keys = rng.random((n, n_features))
    # The n_evidence smallest of iid uniforms form a uniformly random subset of that size.
    chosen = np.argpartition(keys, n_evidence, axis=1)[:, :n_evidence] if n_evidence else np.empty((n, 0), int)
    mask = np.zeros((n, n_features), dtype=bool)
    np.put_along_axis(mask, chosen, True, axis=1)
    return mask


def _check_batch_decisions(name, decisions, n, judge):
    """A decision per row (``(n,)``) or one decision for every row (a scalar), as an ``(n,)`` int array."""
    d = check_index_array(name, decisions, high=getattr(judge, "n_decisions", None), what="integer decisions")
    if d.ndim == 0:
        return np.full(n, int(d), dtype=np.int64)
    if d.shape != (n,):
        raise InvalidInstanceError(f"{name}: expected one integer decision or one per row of features ({n}), found "
                                   f"shape {d.shape}", argument=name)
    return d


def _check_outcome_batch(judge, features, mask, decisions_1, decisions_2, names=("decisions_1", "decisions_2"),
                         mask_name="mask"):
    check_judge("judge", judge)
    features = check_array("features", features)
    if features.ndim not in (1, 2):
        raise InvalidInstanceError(f"features: expected one state (F,) or a batch (n, F), found shape "
                                   f"{features.shape}", argument="features")
    features = np.atleast_2d(features)
    check_judge_size(judge, features.shape[1])
    mask = check_mask(mask_name, mask)
    if mask.ndim not in (1, 2):
        raise InvalidInstanceError(f"{mask_name}: expected a mask (F,) or one per row of features (n, F), found "
                                   f"shape {mask.shape}", argument=mask_name)
    mask = np.atleast_2d(mask)
    if mask.shape != features.shape:
        raise InvalidInstanceError(f"{mask_name}: expected the shape of features {features.shape}, found shape "
                                   f"{mask.shape}", argument=mask_name)
    n = features.shape[0]
    d1 = _check_batch_decisions(names[0], decisions_1, n, judge)
    d2 = _check_batch_decisions(names[1], decisions_2, n, judge)
    return features, mask, d1, d2


def _judge_scores(judge, features, mask, decisions) -> np.ndarray:
    """``judge.score`` on a validated batch, with its output checked: ``(N,)`` finite floats."""
    s = np.asarray(judge.score(features, mask, decisions))
    n = features.shape[0]
    if s.shape != (n,) or s.dtype.kind not in "fiu" or not np.all(np.isfinite(s)):
        found = f"shape {s.shape} and dtype {s.dtype}" if s.shape != (n,) or s.dtype.kind not in "fiu" \
            else "non-finite values"
        raise InvalidInstanceError(f"judge: expected score() to return {n} finite floats, found {found}",
                                   argument="judge")
    return s.astype(float, copy=False)


def debate_outcome(judge, features, mask, decisions_1, decisions_2) -> np.ndarray:
    """Outcome ``sign(J(a1|x_m) - J(a2|x_m))`` in {-1, 0, 1} (int8) for the debater arguing ``a1``.

    ``features`` is one state ``(F,)`` or a batch ``(n, F)`` with ``mask`` of the same shape; the decisions
    are one integer each or one per row.
    """
    features, mask, d1, d2 = _check_outcome_batch(judge, features, mask, decisions_1, decisions_2)
    n = features.shape[0]
    s = _judge_scores(judge, np.concatenate([features, features]), np.concatenate([mask, mask]),
                      np.concatenate([d1, d2]))
    return np.sign(s[:n] - s[n:]).astype(np.int8)


def score_grid(judge, features, masks, decisions) -> np.ndarray:
    """Scores ``J(d | x_s ⊙ m_k)`` of every state ``s``, mask ``k`` and decision ``d``.

    For a (non-ideal, hidden-layer) :class:`BradleyTerryJudge` the first layer's pre-activation is a sum of
    per-feature contributions ``x_f W[f] + W[F + f]`` over the revealed features plus a per-decision row, so
    it is computed once per (state, feature) instead of once per (state, mask, decision); every other judge
    is called through ``score`` on the broadcast batch (the two agree up to float rounding).

    Parameters
    ----------
    judge : Judge
    features : ndarray, shape (S, F)
    masks : ndarray of bool, shape (K, F)
    decisions : ndarray of int, shape (D,)

    Returns
    -------
    ndarray, shape (S, K, D)
    """
    check_judge("judge", judge)
    x = check_array("features", features, ndim=2)
    S, F = x.shape
    check_judge_size(judge, F)
    masks = check_mask("masks", masks, shape=(None, F))
    d = check_index_array("decisions", decisions, ndim=1, high=getattr(judge, "n_decisions", None),
                          what="integer decisions")
    K = masks.shape[0]
    # Exact class only: a subclass may override score().
    if type(judge) is BradleyTerryJudge and not judge.ideal and judge.hidden and judge.n_features == F:
        width = judge.hidden[0]
        check_allocation("features", 8.0 * S * (F + K * (1 + d.size)) * width,
                         f"the first-layer activations of {S} states x {K} masks x {d.size} decisions")
        return judge._score_grid(x, masks, d)
    check_allocation("features", (8.0 * F + F + 8.0 + 8.0) * S * K * d.size,
                     f"a batch of {S} states x {K} masks x {d.size} decisions for judge.score")
    feats = np.repeat(x, K * d.size, axis=0)
    mask_b = np.tile(np.repeat(masks, d.size, axis=0), (S, 1))
    s = _judge_scores(judge, feats, mask_b, np.tile(d, S * K))
    return s.reshape(S, K, d.size)


#: Leaf sets per block of :func:`outcome_grid` (its buffers stay in cache: block * hidden floats each).
_OUTCOME_BLOCK = 4096
_U32 = float(np.finfo(np.float32).eps) / 2.0  # unit roundoff of float32


def outcome_grid(judge, features, masks, reference, n_decisions: int) -> np.ndarray:
    r"""Exact outcomes ``sign(J(a | x_S) - J(b | x_S))`` of every decision ``a`` against ``b = reference``.

    For one state ``x`` and every mask ``S`` (row of ``masks``), the int8 table ``out[a, k]`` in {-1, 0, 1}.
    It is the leaf table of the ``n_decisions`` debates "a against b" in one state, and equals
    ``np.sign(score_grid(judge, x[None], masks, range(D))[0] - ...[:, b:b+1]).T`` (the slow path for any
    judge, in float64 chunks).

    Fast path for a non-ideal one-hidden-layer :class:`BradleyTerryJudge`: with
    :math:`A_f = x_f W_f + W_{F+f}` (the first layer is additive over revealed features) and
    :math:`c_a = W_{2F+a} + b`, :math:`J(a|S) = \sum_h w_h \max(z_h, -c_{ah}) + c_a \cdot w` with
    :math:`z = \sum_{f \in S} A_f`.  It is evaluated in float32 in cache-sized blocks, for every decision,
    with a forward error bound per decision
    :math:`E_a = 4 (F + H + 8)\, u \,(\sum_h |w_h| (Z_h + 2|c_{ah}|) + |c_a \cdot w|)` (:math:`u = 2^{-24}`,
    :math:`Z_h = \sum_f |A_{fh}|` bounds :math:`|z_h|`; every rounded operation on any path contributes at
    most :math:`u` times a magnitude so bounded, and no path has more than :math:`F + H + 8` of them, with
    a factor 4 to spare).  Every leaf whose float32 margin is within :math:`E_a + E_b` of zero is scored
    again in float64 (:meth:`BradleyTerryJudge.score_masks`), so the signs are those of the float64 scores.

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (F,)
    masks : array_like of bool, shape (K, F)
    reference : int
        The decision ``b`` every decision is compared with (its own row is all zeros).
    n_decisions : int
        D, the decisions ``0..D-1`` scored.

    Returns
    -------
    ndarray of int8, shape (D, K)
    """
    check_judge("judge", judge)
    x = check_array("features", features, ndim=1)
    F = x.shape[0]
    check_judge_size(judge, F)
    masks = check_mask("masks", masks, shape=(None, F))
    D = check_integer("n_decisions", n_decisions, minimum=1)
    declared = getattr(judge, "n_decisions", None)
    if isinstance(declared, int) and D > declared:
        raise InvalidInstanceError(f"n_decisions: expected at most the judge's n_decisions = {declared}, found {D}",
                                   argument="n_decisions")
    b = check_integer("reference", reference, minimum=0, maximum=D - 1)
    K = masks.shape[0]
    out = np.empty((D, K), dtype=np.int8)
    if (type(judge) is BradleyTerryJudge and not judge.ideal and len(judge.hidden) == 1
            and judge.n_features == F):
        _outcome_grid_bt(judge, x, masks, b, D, out)
    else:
        check_allocation("masks", 8.0 * min(K, _OUTCOME_BLOCK) * D * (F + 3),
                         f"a block of {min(K, _OUTCOME_BLOCK)} masks x {D} decisions")
        for lo in range(0, K, _OUTCOME_BLOCK):
            s = score_grid(judge, x[None], masks[lo:lo + _OUTCOME_BLOCK], np.arange(D))[0]   # (k, D)
            out[:, lo:lo + s.shape[0]] = np.sign(s - s[:, b:b + 1]).T
    out[b] = 0
    return out


def _outcome_grid_bt(judge, x, masks, b, D, out):
    F = judge.n_features
    H = judge.hidden[0]
    W0, w1 = judge.weights[0], judge.weights[1][:, 0]
    A = x[:, None] * W0[:F] + W0[F:2 * F]                       # (F, H) per-feature first-layer rows
    c = W0[2 * F:2 * F + D] + judge.biases[0]                   # (D, H)
    const = c @ w1                                              # (D,)
    K = masks.shape[0]
    sizes = masks.sum(axis=1)
    k_max = int(sizes.max(initial=0))
    # |z_h| <= the sum of the k_max largest |A_fh| (a mask reveals at most k_max features).
    Z = np.sort(np.abs(A), axis=0)[F - k_max:].sum(axis=0)
    # Equal-size sets (the leaves of a debate): z is a sum of k gathered rows; the members are found once.
    members = (np.flatnonzero(masks.ravel()) % F).reshape(K, k_max) if K and np.all(sizes == k_max) else None
    err = 4.0 * (F + H + 8) * _U32 * (np.abs(w1) @ (Z[None, :] + 2.0 * np.abs(c)).T + np.abs(const))   # (D,)
    A32, negc, w32, const32 = A.astype(np.float32), (-c).astype(np.float32), w1.astype(np.float32), \
        const.astype(np.float32)
    block = min(_OUTCOME_BLOCK, max(masks.shape[0], 1))
    buf = np.empty((block, H), dtype=np.float32)
    s = np.zeros((D, block), dtype=np.float32)
    tol = (err + err[b])[:, None]
    pending = []
    for lo in range(0, masks.shape[0], block):
        m = masks[lo:lo + block]
        n = m.shape[0]
        if members is not None:
            rows = members[lo:lo + block]
            z = np.zeros((n, H), dtype=np.float32)
            for i in range(k_max):
                z += A32[rows[:, i]]
        else:
            z = m.astype(np.float32) @ A32                      # (n, H)
        # Decisions whose margin has one sign on the whole block need no scoring: w_h (relu(z_h + c_ah) -
        # relu(z_h + c_bh)) is monotone in z_h, so its range over the block is at the ends of z_h's range.
        zlo, zhi = z.min(axis=0).astype(float), z.max(axis=0).astype(float)
        ends = np.stack([w1 * (np.maximum(e + c, 0.0) - np.maximum(e + c[b], 0.0)) for e in (zlo, zhi)])
        m_lo = np.minimum(ends[0], ends[1]).sum(axis=1)
        m_hi = np.maximum(ends[0], ends[1]).sum(axis=1)
        sure = (m_lo > 2.0 * tol[:, 0]) | (m_hi < -2.0 * tol[:, 0])
        sure[b] = False
        out[:, lo:lo + n] = np.where(m_lo > 0, 1, -1).astype(np.int8)[:, None]
        todo = np.flatnonzero(~sure & (np.arange(D) != b))
        if todo.size == 0:
            continue
        for a in (*todo, b):
            np.maximum(z, negc[a], out=buf[:n])
            np.matmul(buf[:n], w32, out=s[a, :n])
        margin = (s[todo, :n] + const32[todo, None]) - (s[b, :n] + const32[b])
        out[todo, lo:lo + n] = np.sign(margin)
        close = np.abs(margin) <= tol[todo]
        if close.any():
            hit = np.flatnonzero(close.any(axis=0))
            pending.append((lo + hit, todo, close[:, hit]))
    out[b] = 0
    if pending:
        # Near-ties under float32: the float64 scores decide (one call for all of them).
        rows = np.concatenate([r for r, _, _ in pending])
        exact = judge.score_masks(x, masks[rows], np.arange(D))                  # (r, D)
        signs = np.sign(exact - exact[:, b:b + 1]).T.astype(np.int8)             # (D, r)
        start = 0
        for r, todo, close in pending:
            part = signs[:, start:start + r.size]
            sub = out[:, r]
            sub[todo] = np.where(close, part[todo], sub[todo])
            out[:, r] = sub
            start += r.size


def margins_after_reveal(judge, features, revealed, own, other, *, chunk: int = 2048) -> np.ndarray:
    r"""Judge margins ``J(own | x_{R + f}) - J(other | x_{R + f})`` after revealing each feature ``f`` next.

    Row ``i`` is a state ``features[i]`` with revealed set ``revealed[i]`` and decisions ``own[i]``,
    ``other[i]``; entry ``(i, f)`` is the margin once ``f`` is revealed too (``-inf`` where ``f`` is already
    revealed).  This is what a greedy debater maximises.  For a non-ideal one-hidden-layer
    :class:`BradleyTerryJudge` the first layer is additive over revealed features, so all ``F`` candidates
    of a row share the pre-activation of ``R`` and add one row ``x_f W_f + W_{F+f}`` each (``(n, F, H)``
    work instead of ``(n F) x (2F + D) x H``); other judges are called through ``score`` on every candidate
    set.  The two agree up to float rounding.

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (n, F)
    revealed : array_like of bool, shape (n, F)
    own, other : array_like of int, shape (n,)
    chunk : int
        Rows per block.

    Returns
    -------
    ndarray, shape (n, F)
    """
    check_judge("judge", judge)
    x = check_array("features", features, ndim=2)
    n, F = x.shape
    if n == 0:
        raise InvalidInstanceError("features: expected at least one row (a state), found 0", argument="features")
    check_judge_size(judge, F)
    rev = check_mask("revealed", revealed, shape=(n, F))
    high = getattr(judge, "n_decisions", None)
    own = check_index_array("own", own, shape=(n,), high=high, what="integer decisions (one per row)")
    other = check_index_array("other", other, shape=(n,), high=high, what="integer decisions (one per row)")
    chunk = check_integer("chunk", chunk, minimum=1)
    out = np.empty((n, F))
    fast = type(judge) is BradleyTerryJudge and not judge.ideal and len(judge.hidden) == 1 and judge.n_features == F
    for lo in range(0, n, chunk):
        sl = slice(lo, lo + chunk)
        xs, rs, a, b = x[sl], rev[sl], own[sl], other[sl]
        m = xs.shape[0]
        if fast:
            W0, w1 = judge.weights[0], judge.weights[1][:, 0]
            per = xs[:, :, None] * W0[None, :F] + W0[None, F:2 * F]                 # (m, F, H)
            zr = np.einsum("mf,mfh->mh", rs.astype(float), per) + judge.biases[0]  # (m, H) revealed so far
            zf = zr[:, None, :] + per                                             # (m, F, H) with f added
            ja = np.maximum(zf + W0[2 * F + a][:, None, :], 0.0) @ w1
            jb = np.maximum(zf + W0[2 * F + b][:, None, :], 0.0) @ w1
            margins = ja - jb
        else:
            cand = np.repeat(rs[:, None, :], F, axis=1)
            idx = np.arange(F)
            cand[:, idx, idx] = True
            cand = cand.reshape(m * F, F)
            xf = np.repeat(xs, F, axis=0)
            s = _judge_scores(judge, np.concatenate([xf, xf]), np.concatenate([cand, cand]),
                              np.concatenate([np.repeat(a, F), np.repeat(b, F)]))
            margins = (s[:m * F] - s[m * F:]).reshape(m, F)
        out[sl] = np.where(rs, -np.inf, margins)
    return out


def judge_accuracy(judge, features, winners, losers, masks) -> float:
    """Fraction of preference pairs the judge orders correctly on the given evidence; a tie counts 1/2."""
    features, masks, winners, losers = _check_outcome_batch(judge, features, masks, winners, losers,
                                                            names=("winners", "losers"), mask_name="masks")
    if features.shape[0] == 0:
        raise InvalidInstanceError("features: expected at least one preference pair, found 0", argument="features")
    out = debate_outcome(judge, features, masks, winners, losers)
    return float(np.mean((out.astype(float) + 1.0) / 2.0))


@dataclass(frozen=True)
class LinearJudge:
    r"""Linear judge :math:`J(a \mid x_m) = \sum_f m_f\, w_{a f}\, x_f + b_a`.

    Parameters
    ----------
    weights : array_like, shape (D, F)
        One weight per (decision, feature).
    bias : array_like, shape (D,), optional
        Per-decision prior score (default zeros).
    """

    weights: np.ndarray
    bias: np.ndarray | None = None

    def __post_init__(self):
        w = check_array("weights", self.weights, ndim=2)
        b = np.zeros(w.shape[0]) if self.bias is None else check_array("bias", self.bias)
        if b.shape != (w.shape[0],):
            raise InvalidInstanceError(f"bias: expected one entry per decision (row of weights), shape "
                                       f"({w.shape[0]},), found shape {b.shape}", argument="bias")
        w.setflags(write=False)
        b = np.array(b, dtype=float)
        b.setflags(write=False)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "bias", b)

    @property
    def n_decisions(self) -> int:
        return self.weights.shape[0]

    @property
    def n_features(self) -> int:
        return self.weights.shape[1]

    def score(self, features, mask, decisions) -> np.ndarray:
        features, mask, decisions = validate_judge_batch(features, mask, decisions, n_features=self.n_features,
                                                         n_decisions=self.n_decisions)
        return np.einsum("nf,nf->n", np.where(mask, features, 0.0), self.weights[decisions]) + self.bias[decisions]

    def score_masks(self, features, masks, decisions) -> np.ndarray:
        """Scores of one state under many masks for a few decisions: ``(n_masks, len(decisions))``.

        Same numbers as :meth:`score` on the broadcast batch; used by the exact solver.
        """
        x, masks, d = _check_one_state(self, features, masks, decisions)
        return masks.astype(float) @ (x[:, None] * self.weights[d].T) + self.bias[d]


@dataclass(frozen=True)
class ConstantJudge:
    """A judge that ignores the evidence and scores every decision 0: every debate is a tie."""

    n_decisions: int | None = None

    def __post_init__(self):
        if self.n_decisions is not None:
            object.__setattr__(self, "n_decisions", check_integer("n_decisions", self.n_decisions, minimum=1))

    def score(self, features, mask, decisions) -> np.ndarray:
        features, mask, decisions = validate_judge_batch(features, mask, decisions, n_decisions=self.n_decisions)
        return np.zeros(features.shape[0])


@dataclass(frozen=True)
class TrainingHistory:
    """Per-epoch mean training loss and (if validation data were given) validation accuracy."""

    loss: tuple[float, ...]
    validation_accuracy: tuple[float, ...]


class BradleyTerryJudge:
    r"""Bradley–Terry judge: an MLP scorer on (masked values, mask, one-hot decision), trained by Adam.

    Parameters
    ----------
    n_features : int
        F, the length of a state's feature vector.
    n_decisions : int
        D, the number of decisions.
    n_evidence : int
        L, the number of revealed features in each training sample's random evidence mask (ignored when
        ``ideal``).
    hidden : tuple of int
        Hidden layer widths (ReLU).  ``()`` gives the per-decision linear scorer
        :math:`J(a|x_m) = w_a \cdot (x \odot m) + v_a \cdot m + b_a`.
    ideal : bool
        Train and score on the full state, ignoring the evidence masks (the paper's ideal judge).
    seed : int or Generator
        Seeds the initial weights.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 6)); better = (x[:, 0] > 0).astype(int)
    >>> judge = BradleyTerryJudge(6, 2, n_evidence=3, hidden=(16,), seed=0)
    >>> _ = judge.fit(x, better, 1 - better, epochs=30, learning_rate=1e-2, seed=1)
    >>> judge.accuracy(x, better, 1 - better, masks=np.ones_like(x, dtype=bool)) > 0.9
    True
    """

    def __init__(self, n_features: int, n_decisions: int, *, n_evidence: int | None = None,
                 hidden: tuple[int, ...] = (64,), ideal: bool = False, seed=0):
        self.n_features = check_integer("n_features", n_features, minimum=1)
        self.n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
        self.ideal = check_flag("ideal", ideal)
        if n_evidence is None:
            if not self.ideal:
                raise InvalidInstanceError("n_evidence: expected an integer in [0, n_features] for a non-ideal "
                                           "judge, found None", argument="n_evidence")
            n_evidence = self.n_features
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=self.n_features)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (tuple, list, np.ndarray)):
            raise InvalidInstanceError(f"hidden: expected a tuple of layer widths, found {type(hidden).__name__} "
                                       f"{hidden!r}"[:200], argument="hidden")
        hidden = tuple(hidden)
        for i, h in enumerate(hidden):
            check_integer(f"hidden[{i}]", h, minimum=1)
        self.hidden = tuple(int(h) for h in hidden)
        sizes = (2 * self.n_features + self.n_decisions, *self.hidden, 1)
        check_allocation("n_decisions" if self.n_decisions > max(self.n_features, *self.hidden, 0)
                         else "n_features" if not hidden or self.n_features >= max(self.hidden) else "hidden",
                         8.0 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * 4,  # weights, Adam moments
                         f"the weights of a {sizes} network")
        rng = as_generator(seed)
        if not hidden:
            # Per-decision linear scorer J(a|x_m) = w_a . (x ⊙ m) + v_a . m + b_a (a linear model on the
            # concatenated input could not couple features to decisions).
            self.weights = [rng.normal(0.0, 0.01, size=(self.n_decisions, 2 * self.n_features + 1))]
            self.biases = []
            self.history = None
            return
        # He initialisation for ReLU layers; the output layer has no bias (it cancels in score differences).
        self.weights = [rng.normal(0.0, np.sqrt(2.0 / a), size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(b) for b in sizes[1:-1]]
        self.history: TrainingHistory | None = None

    # ------------------------------------------------------------------ forward / backward
    def _effective_mask(self, mask: np.ndarray) -> np.ndarray:
        return np.ones_like(mask, dtype=bool) if self.ideal else mask

    def _forward(self, features, mask, decisions, keep: bool):
        F = self.n_features
        W0 = self.weights[0]
        xm = np.where(mask, features, 0.0)
        if not self.hidden:
            Wd = W0[decisions]
            z = np.einsum("nf,nf->n", xm, Wd[:, :F]) + np.einsum("nf,nf->n", mask, Wd[:, F:2 * F]) + Wd[:, 2 * F]
            return z, ([(xm, mask)] if keep else None)
        # The one-hot block of the input multiplies W0 as a row gather, far cheaper than a matmul.
        z = xm @ W0[:F] + mask.astype(float) @ W0[F:2 * F] + W0[2 * F + decisions]
        acts = [(xm, mask)]
        for layer in range(1, len(self.weights)):
            z = z + self.biases[layer - 1]
            h = np.maximum(z, 0.0)
            acts.append(h)
            z = h @ self.weights[layer]
        return z[:, 0], (acts if keep else None)

    def _backward(self, acts, decisions, grad_out):
        if not self.hidden:
            xm, mask = acts[0]
            inputs = np.concatenate([xm, mask.astype(float), np.ones((xm.shape[0], 1))], axis=1)
            inputs *= grad_out[:, None]
            onehot = np.zeros((self.n_decisions, xm.shape[0]))
            onehot[decisions, np.arange(xm.shape[0])] = 1.0
            return [onehot @ inputs], []
        grads_w = [None] * len(self.weights)
        grads_b = [None] * len(self.biases)
        g = grad_out[:, None]
        for layer in range(len(self.weights) - 1, 0, -1):
            h = acts[layer]
            grads_w[layer] = h.T @ g
            g = (g @ self.weights[layer].T) * (h > 0)
            grads_b[layer - 1] = g.sum(0)
        xm, mask = acts[0]
        F = self.n_features
        g0 = np.empty_like(self.weights[0])
        g0[:F] = xm.T @ g
        g0[F:2 * F] = mask.T.astype(float) @ g
        g0[2 * F:] = 0.0
        np.add.at(g0[2 * F:], decisions, g)
        grads_w[0] = g0
        return grads_w, grads_b

    def score(self, features, mask, decisions) -> np.ndarray:
        """Scores ``J(a | x ⊙ m)`` for a batch (the mask is ignored by an ideal judge)."""
        features, mask, decisions = validate_judge_batch(features, mask, decisions, n_features=self.n_features,
                                                         n_decisions=self.n_decisions)
        mask = self._effective_mask(mask)
        out = np.empty(features.shape[0])
        chunk = 32768
        for start in range(0, features.shape[0], chunk):
            sl = slice(start, start + chunk)
            out[sl] = self._forward(features[sl], mask[sl], decisions[sl], keep=False)[0]
        return out

    def score_masks(self, features, masks, decisions) -> np.ndarray:
        """Scores of one state under many masks for a few decisions: ``(n_masks, len(decisions))``.

        Same numbers as :meth:`score` on the broadcast batch (up to float rounding), but the first layer is
        one matmul per chunk shared by all decisions; used by the exact solver.
        """
        x, masks, d = _check_one_state(self, features, masks, decisions)
        masks = self._effective_mask(masks)
        F = self.n_features
        W0 = self.weights[0]
        out = np.empty((masks.shape[0], d.size))
        chunk = 32768
        if not self.hidden:
            Wd = W0[d]  # (k, 2F+1)
            A = x[:, None] * Wd[:, :F].T + Wd[:, F:2 * F].T
            for start in range(0, masks.shape[0], chunk):
                out[start:start + chunk] = masks[start:start + chunk] @ A + Wd[:, 2 * F]
            return out
        # (x ⊙ m) W_x + m W_m = m (diag(x) W_x + W_m)
        A = x[:, None] * W0[:F] + W0[F:2 * F]
        for start in range(0, masks.shape[0], chunk):
            base = masks[start:start + chunk].astype(float) @ A + self.biases[0]
            for j, a in enumerate(d):
                z = base + W0[2 * F + a]
                for layer in range(1, len(self.weights)):
                    h = np.maximum(z, 0.0)
                    z = h @ self.weights[layer]
                    if layer < len(self.weights) - 1:
                        z = z + self.biases[layer]
                out[start:start + chunk, j] = z[:, 0]
        return out

    def _score_grid(self, x, masks, d) -> np.ndarray:
        """:func:`score_grid` for a non-ideal judge with hidden layers: ``(S, K, D)``."""
        F = self.n_features
        w0 = self.weights[0]
        per_feature = x[:, :, None] * w0[None, :F] + w0[None, F:2 * F]           # (S, F, H)
        z_mask = np.matmul(masks.astype(float)[None], per_feature)               # (S, K, H)
        z = z_mask[:, :, None, :] + (w0[2 * F + d] + self.biases[0])            # (S, K, D, H)
        np.maximum(z, 0.0, out=z)
        z = z @ self.weights[1]
        for layer in range(2, len(self.weights)):
            z = np.maximum(z + self.biases[layer - 1], 0.0) @ self.weights[layer]
        return z[..., 0]

    # ------------------------------------------------------------------ training
    def _check_pairs(self, features, winners, losers):
        features = check_array("features", features, ndim=2)
        if features.shape[1] != self.n_features:
            raise InvalidInstanceError(f"features: expected {self.n_features} columns, found {features.shape[1]}",
                                       argument="features")
        n = features.shape[0]
        out = [check_index_array(name, d, shape=(n,), high=self.n_decisions,
                                 what="integer decisions (one per row of features)")
               for name, d in (("winners", winners), ("losers", losers))]
        if n and np.any(out[0] == out[1]):
            i = int(np.flatnonzero(out[0] == out[1])[0])
            raise InvalidInstanceError(f"losers: expected a decision different from the winner, found both "
                                       f"{out[0][i]} at index {i}", argument="losers")
        return features, out[0], out[1]

    def fit(self, features, winners, losers, *, epochs: int = 20, batch_size: int = 256,
            learning_rate: float = 5e-3, weight_decay: float = 0.0, validation=None, seed=None):
        """Train on preference triples ``(features[i], winners[i] ≻ losers[i])`` by minibatch Adam.

        Each sample gets a fresh uniformly random evidence mask of ``n_evidence`` features in every epoch
        (full masks for an ideal judge); the same mask is shown for the winner and the loser.

        Parameters
        ----------
        features : array_like, shape (n, F)
        winners, losers : array_like of int, shape (n,)
        epochs, batch_size : int
        learning_rate : float
            Adam step size (betas 0.9, 0.999; eps 1e-8).
        weight_decay : float
            L2 penalty coefficient on the weight matrices.
        validation : tuple (features, winners, losers), optional
            Held-out pairs; accuracy on them (with random masks of ``n_evidence``, drawn once) is recorded
            after every epoch in ``history.validation_accuracy``.
        seed : int or Generator
            Seeds the minibatch order and evidence masks.

        Returns
        -------
        self
        """
        features, winners, losers = self._check_pairs(features, winners, losers)
        epochs = check_integer("epochs", epochs, minimum=1)
        batch_size = check_integer("batch_size", batch_size, minimum=1)
        learning_rate = check_positive("learning_rate", learning_rate)
        weight_decay = check_nonnegative("weight_decay", weight_decay)
        if features.shape[0] == 0:
            raise InvalidInstanceError("features: expected at least one preference pair, found 0",
                                       argument="features")
        rng = as_generator(seed)
        val_masks = None
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 3:
                raise InvalidInstanceError("validation: expected a tuple (features, winners, losers), found "
                                           f"{type(validation).__name__}", argument="validation")
            vx, vw, vl = self._check_pairs(*validation)
            val_masks = random_evidence_masks(vx.shape[0], self.n_features, self.n_evidence, seed=rng)
        opt = Adam(self.weights + self.biases, learning_rate)
        n = features.shape[0]
        losses, accs = [], []
        for _ in range(epochs):
            order = rng.permutation(n)
            masks = random_evidence_masks(n, self.n_features, self.n_evidence, seed=rng)
            masks = self._effective_mask(masks)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                b = idx.size
                x = np.concatenate([features[idx], features[idx]])
                m = np.concatenate([masks[idx], masks[idx]])
                d = np.concatenate([winners[idx], losers[idx]])
                s, acts = self._forward(x, m, d, keep=True)
                margin = s[:b] - s[b:]
                # loss = softplus(-margin); d loss / d margin = -sigmoid(-margin)
                total += float(np.sum(np.logaddexp(0.0, -margin)))
                g_margin = -0.5 * (1.0 - np.tanh(margin / 2.0)) / b
                grad_out = np.concatenate([g_margin, -g_margin])
                gw, gb = self._backward(acts, d, grad_out)
                if weight_decay:
                    gw = [g + weight_decay * w for g, w in zip(gw, self.weights)]
                opt.descend(gw + gb)
            losses.append(total / n)
            if val_masks is not None:
                accs.append(judge_accuracy(self, vx, vw, vl, val_masks))
        self.history = TrainingHistory(tuple(losses), tuple(accs))
        return self

    def accuracy(self, features, winners, losers, *, masks=None, n_evidence: int | None = None,
                 seed=None) -> float:
        """Fraction of pairs ordered correctly (a tie counts 1/2).

        With ``masks`` given, the judge sees exactly that evidence (e.g. the debaters' evidence); otherwise
        random masks of ``n_evidence`` features (default: the judge's own ``n_evidence``) drawn from ``seed``.
        """
        features, winners, losers = self._check_pairs(features, winners, losers)
        L = self.n_evidence if n_evidence is None else check_integer("n_evidence", n_evidence, minimum=0,
                                                                     maximum=self.n_features)
        if masks is None:
            masks = random_evidence_masks(features.shape[0], self.n_features, L, seed=seed)
        else:
            as_generator(seed)  # validated even when unused
        return judge_accuracy(self, features, winners, losers, masks)

    def __repr__(self) -> str:
        return (f"BradleyTerryJudge(n_features={self.n_features}, n_decisions={self.n_decisions}, "
                f"n_evidence={self.n_evidence}, hidden={self.hidden}, ideal={self.ideal})")
