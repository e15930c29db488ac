r"""Incentive constraints of a scoring rule paid on one agent's own report, as sparse linear rows.

One agent has efforts :math:`k' \in \{0, \dots, |B|-1\}`, signals :math:`s` and states :math:`\theta`; at
effort :math:`k'` its (signal, state) law is :math:`q^{k'}(s, \theta) = \mu(\theta) P(s \mid k', \theta)`.
It is paid :math:`g(\hat s, \theta) \in [0, M]` on its report :math:`\hat s` and the state.  Exerting
:math:`k'` and reporting through a map :math:`\omega` earns :math:`\sum_{s,\theta} q^{k'}(s,\theta)
g(\omega(s),\theta)`, and the best map earns :math:`W^{k'}(g) = \sum_s \max_{s'} \sum_\theta
q^{k'}(s,\theta) g(s',\theta)`.  With one auxiliary :math:`z[k', s] \ge \max_{s'} \sum_\theta
q^{k'}(s,\theta) g(s',\theta)` per deviation and signal (the z-trick, which turns the maximum over
:math:`|S|^{|S|}` maps into :math:`|S|^2` rows), exerting :math:`k` and reporting truthfully beats every
:math:`(k', \omega)` by a margin :math:`\iota` when

.. math::

    \sum_{s,\theta} q^{k}(s,\theta)\, g(s,\theta) - \sum_s z[k', s] - \iota
        &\ge c(k) - c(k') && \text{(effort row of deviation } k'), \\
    z[k', s] - \sum_\theta q^{k'}(s,\theta)\, g(s',\theta) &\ge 0 \quad \forall s, s'
        && \text{(misreport rows)},

and, at the recommended effort itself, every single misreport :math:`s \to t` loses :math:`\iota` when

.. math::  \sum_\theta q^{k}(s,\theta)\, \big[g(s,\theta) - g(t,\theta)\big] - \iota \ge 0
           \quad \forall s \ne t \qquad \text{(truthful rows)}.

The rows are linear in :math:`(g, z, \iota)` and, read with the costs as unknowns, in :math:`c` too.  This
module writes their left-hand sides once, as row blocks ``(cols, vals)`` (2-D integer and float arrays, one
row of entries per constraint) over caller-chosen columns, for the three LPs built from them: the
minimum-payment and max-margin (inducing) scoring-rule LPs of :mod:`mechsim.solvers.hiring_lp`
(:func:`~mechsim.solvers.hiring_lp.min_payment`, :func:`~mechsim.solvers.hiring_lp.inducing_scoring_rules`)
and the LP that draws inducible costs in :meth:`mechsim.hiring.HiringInstance.random`.  Inducing rules are
the scoring rules of Assumption 1 of Cacciamani, Castiglioni and Gatti, "Online Information Acquisition:
Hiring Multiple Agents" (ICLR 2024).

:func:`csr_from_blocks` stacks row blocks into one ``scipy.sparse.csr_array`` without a Python loop over
scalars; :mod:`mechsim.solvers.hiring_lp` assembles its correlated LP with it as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["csr_from_blocks", "deviation_rows", "truthful_rows"]


def csr_from_blocks(blocks, n_cols: int) -> sp.csr_array:
    """Stack row blocks ``(cols, vals)`` into a CSR matrix with ``n_cols`` columns.

    Parameters
    ----------
    blocks : iterable of (ndarray, ndarray)
        Each a pair of 2-D arrays of equal shape ``(n_rows, n_entries)``: row ``r`` of the block has entry
        ``vals[r, j]`` in column ``cols[r, j]``.  Blocks are stacked in order.
    n_cols : int

    Returns
    -------
    scipy.sparse.csr_array
        Exact zeros are dropped (they carry no information, and HiGHS warns about them).
    """
    counts, cols, vals = [], [], []
    for c, v in blocks:
        keep = v != 0
        counts.append(keep.sum(axis=1))
        cols.append(c[keep])
        vals.append(v[keep])
    counts = np.concatenate(counts)
    indptr = np.zeros(counts.size + 1, dtype=np.int32)
    np.cumsum(counts, out=indptr[1:])
    return sp.csr_array(
        (np.concatenate(vals), np.concatenate(cols).astype(np.int32), indptr),
        shape=(counts.size, n_cols),
    )


def deviation_rows(q: np.ndarray, k: int, deviations: Sequence[int], g_cols: np.ndarray, z_cols: np.ndarray,
                   iota_col: int | None = None) -> list[tuple[tuple, tuple]]:
    r"""Left-hand sides of the effort and misreport rows of effort ``k`` against each deviation.

    Parameters
    ----------
    q : ndarray, shape ``(n_efforts, n_signals, n_states)``
        :math:`q^{k'}(s, \theta)` for every effort :math:`k'`.
    k : int
        The recommended effort.
    deviations : sequence of int
        The efforts :math:`k'` to write rows for (``k`` itself gives the aggregate truthfulness row).
    g_cols : ndarray of int, shape ``(n_signals, n_states)``
        Column of :math:`g(s, \theta)`.
    z_cols : ndarray of int, shape ``(len(deviations), n_signals)``
        Column of :math:`z[k', s]` for the ``d``-th deviation.
    iota_col : int, optional
        Column of the margin :math:`\iota` (entry -1 in every effort row); without it there is none.

    Returns
    -------
    list of (effort, misreport)
        One pair per deviation, in order: ``effort`` is a 1-row block
        :math:`\sum q^k g - \sum_s z[k', s] \,(- \iota)`; ``misreport`` holds :math:`|S|^2` rows
        :math:`z[k', s] - \sum_\theta q^{k'}(s,\theta) g(s',\theta)`, ordered ``(s, s')`` in C order.
        The right-hand sides (costs, margins) are the caller's.
    """
    S, T = g_cols.shape
    truth = q[k].ravel()
    tail_cols = [[iota_col]] if iota_col is not None else []
    tail_vals = [[-1.0]] if iota_col is not None else []
    zc_shape, gc = (S, S, 1), np.broadcast_to(g_cols[None, :, :], (S, S, T))
    out = []
    for d, p in enumerate(deviations):
        z = z_cols[d]
        effort = (np.concatenate([g_cols.ravel(), z] + tail_cols)[None],
                  np.concatenate([truth, -np.ones(S)] + tail_vals)[None])
        # z[k', s] - sum_theta q^{k'}(s, theta) g(s', theta) >= 0, one row per (s, s')
        zc = np.broadcast_to(z[:, None, None], zc_shape)
        gv = np.broadcast_to(-q[p][:, None, :], (S, S, T))
        misreport = (np.concatenate([zc, gc], axis=2).reshape(S * S, -1),
                     np.concatenate([np.ones(zc_shape), gv], axis=2).reshape(S * S, -1))
        out.append((effort, misreport))
    return out


def truthful_rows(q_k: np.ndarray, g_cols: np.ndarray, iota_col: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Left-hand sides :math:`\sum_\theta q^k(s,\theta)[g(s,\theta) - g(t,\theta)] - \iota` for ``s != t``.

    Parameters
    ----------
    q_k : ndarray, shape ``(n_signals, n_states)``
        :math:`q^k(s, \theta)` at the recommended effort.
    g_cols : ndarray of int, shape ``(n_signals, n_states)``
    iota_col : int

    Returns
    -------
    (cols, vals)
        A block of :math:`|S|(|S|-1)` rows, ordered ``(s, t)`` in C order over the off-diagonal pairs.
    """
    S = g_cols.shape[0]
    s_, t_ = np.nonzero(~np.eye(S, dtype=bool))
    cols = np.concatenate([g_cols[s_], g_cols[t_], np.full((s_.size, 1), iota_col)], axis=1)
    vals = np.concatenate([q_k[s_], -q_k[s_], -np.ones((s_.size, 1))], axis=1)
    return cols, vals
