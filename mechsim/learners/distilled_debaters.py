r"""A neural argumentator distilled from exact minimax play.

On a pool of training states with baselines :math:`b_i` and wrong decisions :math:`W_i`, the exact minimax
debater (:class:`mechsim.learners.exact_debaters.MinimaxPoolDebater`) knows, at every position (revealed set
:math:`R`, first mover), the set of optimal reveals for the debater arguing :math:`b_i`,

.. math::  O(R) = \operatorname*{arg\,min}_{f \notin R} V(R \cup \{f\})

(values for the side arguing the wrong decision).  :func:`distill_minimax_debater` collects positions from
games on the pool (both sides play an optimal reveal, or with probability ``explore`` a uniformly random one,
so that positions off the optimal line are seen too; both first movers alternately) and fits the masked
softmax policy :math:`\pi_\theta` of an MLP on :func:`mechsim.learners.neural_debaters.debate_observation`
by minimising the negative log-probability of playing *some* optimal reveal,

.. math::  \ell(\theta) = -\frac1N \sum_{n} \log \sum_{f \in O(R_n)} \pi_\theta(f \mid o_n),

with AdamW (torch, the ``rl`` extra).  The result is an :class:`~mechsim.learners.neural_debaters.MLPDebater`
that runs in numpy like the PPO-trained ones and is evaluated the same way (exact best-response confuser on
held-out states).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mechsim.debate._checks import describe
from mechsim.errors import InvalidInstanceError
from mechsim.learners.exact_debaters import MinimaxPoolDebater
from mechsim.learners.neural_debaters import MLPDebater, RLExtraMissingError, debate_observation
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_integer,
    check_layer_widths,
    check_nonnegative,
    check_positive,
)

__all__ = ["DistillationResult", "distill_minimax_debater"]


@dataclass(frozen=True)
class DistillationResult:
    """What :func:`distill_minimax_debater` returns.

    Attributes
    ----------
    debater : MLPDebater
        The distilled argumentator (sampling; ``with_deterministic()`` for argmax play).
    positions : int
        Labelled positions fitted.
    losses : tuple of float
        Mean loss per epoch.
    seconds : float
        Wall-clock time (tables, positions and fitting).
    """

    debater: MLPDebater
    positions: int
    losses: tuple[float, ...]
    seconds: float


def _positions(minimax: MinimaxPoolDebater, wrong, n_rollouts: int, explore: float, rng):
    """Positions where the baseline's debater moves, with the boolean set of its optimal reveals."""
    F, L = minimax.n_features, minimax.n_evidence
    states, revealed, others, optimal = [], [], [], []
    for i, candidates in enumerate(wrong):
        table = minimax.table(i)
        for w in candidates:
            for rep in range(n_rollouts):
                baseline_first = rep % 2 == 0
                # table convention: debater 0 argues w, debater 1 the baseline; first_mover 1 = baseline first
                fm = 1 if baseline_first else 0
                rev = np.zeros(F, dtype=bool)
                for k in range(L):
                    vals = table.child_values([int(w)], [fm], rev[None])[0]
                    baseline_moves = (k % 2 == 0) == baseline_first
                    best = np.nanmin(vals) if baseline_moves else np.nanmax(vals)
                    good = vals == best
                    if baseline_moves:
                        states.append(i)
                        revealed.append(rev.copy())
                        others.append(int(w))
                        optimal.append(good)
                    choices = np.flatnonzero(~rev) if rng.random() < explore else np.flatnonzero(good)
                    rev[int(rng.choice(choices))] = True
    return (np.asarray(states, dtype=np.int64), np.asarray(revealed), np.asarray(others, dtype=np.int64),
            np.asarray(optimal))


def distill_minimax_debater(minimax: MinimaxPoolDebater, wrong, *, n_rollouts: int = 16, explore: float = 0.35,
                            epochs: int = 20, net_arch: tuple[int, ...] = (128, 128), judge_inputs: bool = True,
                            learning_rate: float = 1e-3, weight_decay: float = 0.01, batch_size: int = 256,
                            seed=0, threads: int = 1, name: str = "distilled") -> DistillationResult:
    """Fit an MLP argumentator to the exact minimax reveals on a state pool (module docstring).

    Parameters
    ----------
    minimax : MinimaxPoolDebater
        The exact debater on the training pool (its tables are computed as positions are drawn).
    wrong : sequence of int arrays, one per pool state
        The wrong decisions debated against each state's baseline (empty: the state is skipped).
    n_rollouts : int
        Games per (state, wrong decision), alternating the first mover.
    explore : float in [0, 1]
        Probability of a uniformly random reveal instead of an optimal one, at every move of either side.
    epochs, net_arch, learning_rate, weight_decay, batch_size :
        The fit (tanh hidden layers, AdamW).
    judge_inputs : bool
        Observe the judge's verdict one reveal ahead for every feature (the debater then reads the judge).
    seed : int or Generator
    threads : int
        torch intra-op threads.
    """
    if not isinstance(minimax, MinimaxPoolDebater):
        raise InvalidInstanceError(f"minimax: expected a MinimaxPoolDebater, found {describe(minimax)}",
                                   argument="minimax")
    S = len(minimax.baseline)
    if not hasattr(wrong, "__len__") or isinstance(wrong, (str, bytes)) or len(wrong) != S:
        raise InvalidInstanceError(f"wrong: expected {S} arrays of wrong decisions (one per pool state), found "
                                   f"{describe(wrong)}", argument="wrong")
    cleaned = []
    for i, w in enumerate(wrong):
        w = np.atleast_1d(np.asarray(w))
        if w.size and (w.dtype.kind not in "iu" or w.ndim != 1 or np.any(w < 0)
                       or np.any(w >= minimax.n_decisions) or np.any(w == minimax.baseline[i])):
            raise InvalidInstanceError(f"wrong: expected decisions in [0, {minimax.n_decisions}) other than the "
                                       f"baseline for state {i}, found {w.tolist()}", argument="wrong")
        cleaned.append(w.astype(np.int64))
    if not any(w.size for w in cleaned):
        raise InvalidInstanceError("wrong: expected at least one wrong decision, found none", argument="wrong")
    n_rollouts = check_integer("n_rollouts", n_rollouts, minimum=1)
    F, D, L = minimax.n_features, minimax.n_decisions, minimax.n_evidence
    n_positions = sum(w.size for w in cleaned) * n_rollouts * ((L + 1) // 2)
    # per position: observation (float32, up to 3F + 2D + L), revealed and optimal masks, indices
    check_allocation("n_rollouts", float(n_positions) * (4 * (3 * F + 2 * D + L) + 2 * F + 16),
                     f"{n_positions} labelled positions")
    explore = check_nonnegative("explore", explore)
    if explore > 1:
        raise InvalidInstanceError(f"explore: expected a probability in [0, 1], found {explore!r}", argument="explore")
    epochs = check_integer("epochs", epochs, minimum=1)
    batch_size = check_integer("batch_size", batch_size, minimum=1)
    threads = check_integer("threads", threads, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    weight_decay = check_nonnegative("weight_decay", weight_decay)
    net_arch = check_layer_widths("net_arch", net_arch)
    if not isinstance(judge_inputs, (bool, np.bool_)):
        raise InvalidInstanceError(f"judge_inputs: expected a bool, found {describe(judge_inputs)}",
                                   argument="judge_inputs")
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised in the core venv only
        raise RLExtraMissingError("distilling a debater needs torch: install the `rl` extra "
                                  f"(pip install 'mechsim[rl]'); import failed with: {exc}") from exc

    start = time.perf_counter()
    rng = as_generator(seed)
    states, revealed, others, optimal = _positions(minimax, cleaned, n_rollouts, explore, rng)
    judge = minimax.judge if judge_inputs else None
    x = minimax._states[states]
    obs = debate_observation(x, revealed, minimax.baseline[states], others, D, L, judge)

    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(int(rng.integers(2**31 - 1)))
        layers, width = [], obs.shape[1]
        for w in net_arch:
            layers += [torch.nn.Linear(width, w), torch.nn.Tanh()]
            width = w
        layers.append(torch.nn.Linear(width, F))
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
        o, legal, good = torch.as_tensor(obs), torch.as_tensor(~revealed), torch.as_tensor(optimal)
        n = o.shape[0]
        order = np.random.default_rng(int(rng.integers(2**31 - 1)))
        losses = []
        for _ in range(epochs):
            total = 0.0
            perm = torch.as_tensor(order.permutation(n))
            for lo in range(0, n, batch_size):
                idx = perm[lo:lo + batch_size]
                z = net(o[idx]).masked_fill(~legal[idx], -1e9)
                loss = (torch.logsumexp(z, 1) - torch.logsumexp(z.masked_fill(~good[idx], -1e9), 1)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * idx.numel()
            losses.append(total / n)
    finally:
        torch.set_num_threads(old_threads)
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    debater = MLPDebater(tuple(m.weight.detach().numpy().T.astype(np.float64) for m in linear),
                         tuple(m.bias.detach().numpy().astype(np.float64) for m in linear), F, D, L, "tanh", False,
                         name, judge, bool(judge_inputs))
    return DistillationResult(debater, int(n), tuple(losses), time.perf_counter() - start)
