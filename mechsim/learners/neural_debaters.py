r"""Neural debaters: MLP policies over "which feature to reveal next", trained by MaskablePPO, run in numpy.

A debater arguing :math:`a_{own}` against :math:`a_{other}` in state :math:`x \in \mathbb{R}^F` with revealed set
:math:`R` (:math:`k = |R| < L` reveals made) observes

.. math::  o = \bigl[x,\ 1_R,\ e_{a_{own}},\ e_{a_{other}},\ e_k\bigr] \in \mathbb{R}^{2F + 2D + L}

(:func:`debate_observation`; :math:`e` are one-hot vectors).  In the alternating game the mover at level
:math:`k` moved first iff :math:`k` is even, so :math:`e_k` also says who opened.  The policy is the masked
softmax of an MLP,

.. math::  \pi(f \mid o) = \frac{1[f \notin R]\, e^{z_f(o)}}{\sum_{g \notin R} e^{z_g(o)}}, \qquad
           z(o) = W_m\, \sigma(\dots \sigma(W_1 o + b_1) \dots) + b_m ,

exactly the action distribution of sb3-contrib's ``MaskablePPO`` ``MlpPolicy`` (``net_arch`` hidden layers,
``tanh`` activations, masked logits).  :class:`MLPDebater` evaluates it in numpy (no torch at inference) in
the :class:`mechsim.learners.debaters.BaseDebater` format ``batch_probabilities(features, revealed, own,
other)``, so the exact solvers (:func:`mechsim.solvers.debate.best_response`, ``policy_value``) accept it.

Training (:func:`train_neural_debaters`, needs the ``rl`` extra; torch and sb3 are imported inside it) follows
Sukovic & Radanovic (ICLR 2024), who train all their debaters with PPO:

- ``"isolated"``: the learner makes all L reveals for the honest decision, no opponent;
- ``"self_play"``: the learner plays a random side against a frozen copy of itself, refreshed every
  ``refresh_steps`` learner steps;
- ``"maxmin"``: an *argumentator* (honest decision) and a *confuser* (a wrong decision) are trained in
  alternating phases of ``phase_steps`` steps, each against the other's latest frozen policy (optionally
  mixed with fixed opponents, e.g. a greedy debater, as a curriculum).

The environments come from a caller-supplied factory ``make_env(role, opponents, seed)`` (this layer does not
import :mod:`mechsim.envs`; :class:`mechsim.envs.debate_training.DebateTrainingEnv` is the standard one) whose
envs expose ``action_masks()`` and ``set_opponents(opponents)``.

Trained debaters are saved as a small ``.npz`` bundle (:func:`save_debater_bundle`, atomic) holding the
weights, metadata (how they were made) and a *judge fingerprint* (:func:`judge_fingerprint`: the judge's
scores on fixed probe inputs), so that a user of cached debaters can check they were trained against the
same judge (:func:`check_judge_fingerprint`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mechsim.debate._checks import check_index_array, check_judge, check_judge_size, describe
from mechsim.errors import InvalidInstanceError, MechsimError
from mechsim.learners.debaters import (
    ArguingFor,
    BaseDebater,
    RandomDebater,
    _batch_margins_after,
    _MemoJudge,
    _MemoPolicy,
)
from mechsim.solvers.debate import best_response, leaf_outcomes, policy_value, solve_debate
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_choice,
    check_integer,
    check_layer_widths,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "RLExtraMissingError",
    "DebaterBundleError",
    "JudgeFingerprintError",
    "debate_observation",
    "observation_size",
    "judge_margin_inputs",
    "MLPDebater",
    "NeuralTrainingResult",
    "train_neural_debaters",
    "DebaterBundle",
    "save_debater_bundle",
    "load_debater_bundle",
    "judge_fingerprint",
    "check_judge_fingerprint",
    "BUNDLE_FORMAT",
    "split_states",
    "bootstrap_ci",
    "learned_debate_outcomes",
    "HeldOutEvaluation",
    "evaluate_held_out",
]

#: Version tag of the ``.npz`` bundle layout written by :func:`save_debater_bundle`.
BUNDLE_FORMAT = "mechsim-debaters-1"
_ACTIVATIONS = ("tanh", "relu")


class RLExtraMissingError(MechsimError, ImportError):
    """torch / stable-baselines3 / sb3-contrib are not installed (``pip install 'mechsim[rl]'``)."""


class DebaterBundleError(InvalidInstanceError):
    """A debater bundle file is missing, unreadable or damaged (wrong keys, shapes, non-finite weights)."""


class JudgeFingerprintError(InvalidInstanceError):
    """The judge differs from the one a bundle's debaters were trained against."""


def _import_rl():
    try:
        import torch
        from sb3_contrib import MaskablePPO
        from stable_baselines3.common.vec_env import DummyVecEnv
    except ImportError as exc:  # pragma: no cover - exercised in the core venv only
        raise RLExtraMissingError(
            "training neural debaters needs torch, stable-baselines3 and sb3-contrib: install the `rl` extra "
            f"(pip install 'mechsim[rl]'); import failed with: {exc}") from exc
    return torch, MaskablePPO, DummyVecEnv


# ------------------------------------------------------------------------------------------ observation
def observation_size(n_features: int, n_decisions: int, n_evidence: int, judge_inputs: bool = False) -> int:
    """Length ``2F + 2D + L`` of :func:`debate_observation` (``3F + 2D + L`` with judge inputs)."""
    return (3 if judge_inputs else 2) * n_features + 2 * n_decisions + n_evidence


def judge_margin_inputs(judge, features, revealed, own, other) -> np.ndarray:
    r"""``(n, F)``: :math:`\tanh(J(a_{own} \mid x_{R \cup f}) - J(a_{other} \mid x_{R \cup f}))`, 0 on revealed ``f``.

    The judge's verdict one reveal ahead, the optional extra observation block of a debater that may query
    the judge (as the greedy debater does).
    """
    m = _batch_margins_after(judge, np.asarray(features, dtype=float), np.asarray(revealed, dtype=bool),
                             np.asarray(own), np.asarray(other))
    return np.where(np.isfinite(m), np.tanh(np.where(np.isfinite(m), m, 0.0)), 0.0)


def debate_observation(features, revealed, own, other, n_decisions: int, n_evidence: int, judge=None
                       ) -> np.ndarray:
    """Observations ``(n, 2F + 2D + L)`` float32: ``[x, revealed, one-hot own, one-hot other, one-hot |R|]``.

    ``features`` and ``revealed`` are ``(n, F)``, ``own`` / ``other`` ``(n,)``; every row must have fewer than
    ``n_evidence`` features revealed (the debater is asked to move).  With a ``judge``, the
    :func:`judge_margin_inputs` block is appended (length ``3F + 2D + L``).
    """
    x = np.asarray(features, dtype=np.float32)
    r = np.asarray(revealed, dtype=bool)
    n, F = r.shape
    own = np.asarray(own, dtype=np.int64).reshape(n)
    other = np.asarray(other, dtype=np.int64).reshape(n)
    k = r.sum(axis=1)
    if n and (k.max() >= n_evidence):
        raise InvalidInstanceError(f"revealed: expected fewer than n_evidence = {n_evidence} revealed features in "
                                   f"every row (the debater moves), found a row with {int(k.max())}",
                                   argument="revealed")
    D = n_decisions
    obs = np.zeros((n, 2 * F + 2 * D + n_evidence), dtype=np.float32)
    obs[:, :F] = x
    obs[:, F:2 * F] = r
    rows = np.arange(n)
    obs[rows, 2 * F + own] = 1.0
    obs[rows, 2 * F + D + other] = 1.0
    obs[rows, 2 * F + 2 * D + k] = 1.0
    if judge is None:
        return obs
    return np.concatenate([obs, judge_margin_inputs(judge, features, r, own, other).astype(np.float32)], axis=1)


# ------------------------------------------------------------------------------------------ inference
@dataclass(frozen=True, eq=False)
class MLPDebater(BaseDebater):
    """A numpy MLP debater: masked softmax over unrevealed features of an MLP of :func:`debate_observation`.

    Parameters
    ----------
    weights : tuple of ndarray
        Layer matrices ``(in, out)``: the first has ``in = 2F + 2D + L``, the last ``out = F``.
    biases : tuple of ndarray
        One vector per layer.
    n_features, n_decisions, n_evidence : int
        F, D and the L the debater was trained for.
    activation : {"tanh", "relu"}
        Hidden-layer activation (sb3's default ``MlpPolicy`` uses tanh).
    deterministic : bool
        Reveal the most probable feature (lowest index on ties) instead of sampling: sb3's
        ``predict(deterministic=True)``.
    """

    weights: tuple
    biases: tuple
    n_features: int
    n_decisions: int
    n_evidence: int
    activation: str = "tanh"
    deterministic: bool = False
    name: str = field(default="", compare=False)
    judge: object = field(default=None, compare=False)
    judge_inputs: bool = False

    def __post_init__(self):
        F = check_integer("n_features", self.n_features, minimum=1)
        D = check_integer("n_decisions", self.n_decisions, minimum=2)
        L = check_integer("n_evidence", self.n_evidence, minimum=1, maximum=F)
        check_choice("activation", self.activation, _ACTIVATIONS)
        if not isinstance(self.deterministic, (bool, np.bool_)):
            raise InvalidInstanceError(f"deterministic: expected a bool, found {describe(self.deterministic)}",
                                       argument="deterministic")
        ws = tuple(np.asarray(w, dtype=np.float64) for w in self.weights)
        bs = tuple(np.asarray(b, dtype=np.float64) for b in self.biases)
        if not ws or len(ws) != len(bs):
            raise InvalidInstanceError(f"weights: expected a non-empty tuple of layer matrices with one bias per "
                                       f"layer, found {len(ws)} matrices and {len(bs)} biases", argument="weights")
        if not isinstance(self.judge_inputs, (bool, np.bool_)):
            raise InvalidInstanceError(f"judge_inputs: expected a bool, found {describe(self.judge_inputs)}",
                                       argument="judge_inputs")
        if self.judge_inputs:
            if self.judge is None:
                raise InvalidInstanceError("judge: expected the judge (this debater reads the judge's margins), "
                                           "found None", argument="judge")
            check_judge("judge", self.judge)
        width = observation_size(F, D, L, bool(self.judge_inputs))
        for i, (w, b) in enumerate(zip(ws, bs)):
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                why = (" (the observation length from n_features, n_decisions, n_evidence" +
                       (" and judge_inputs)" if self.judge_inputs else ")")) if i == 0 else ""
                raise InvalidInstanceError(f"weights: expected layer {i} of shape ({width}, m){why} with a bias of "
                                           f"shape (m,), found {w.shape} and {b.shape}", argument="weights")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise InvalidInstanceError(f"weights: expected finite weights, found non-finite values in layer {i}",
                                           argument="weights")
            width = w.shape[1]
        if width != F:
            raise InvalidInstanceError(f"weights: expected the last layer to output {F} logits (one per feature, "
                                       f"n_features), found {width}", argument="weights")
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "biases", bs)

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(w.shape[1] for w in self.weights[:-1])

    def with_deterministic(self, deterministic: bool = True) -> MLPDebater:
        """The same network, revealing its most probable feature (``True``) or sampling (``False``)."""
        return MLPDebater(self.weights, self.biases, self.n_features, self.n_decisions, self.n_evidence,
                          self.activation, bool(deterministic), self.name, self.judge, self.judge_inputs)

    def with_judge(self, judge) -> MLPDebater:
        """The same network reading ``judge``'s margins (for a debater with ``judge_inputs``)."""
        return MLPDebater(self.weights, self.biases, self.n_features, self.n_decisions, self.n_evidence,
                          self.activation, self.deterministic, self.name, judge, self.judge_inputs)

    def logits(self, features, revealed, own, other) -> np.ndarray:
        """Raw logits ``(n, F)`` (before masking) for batched queries."""
        x = np.asarray(features, dtype=np.float64)
        r = np.asarray(revealed, dtype=bool)
        n = r.shape[0]
        own = np.asarray(own, dtype=np.int64).reshape(n)
        other = np.asarray(other, dtype=np.int64).reshape(n)
        # Observation layout checks (and the error for a finished game) as in debate_observation.
        k = r.sum(axis=1)
        if n and k.max() >= self.n_evidence:
            raise InvalidInstanceError(f"revealed: expected fewer than n_evidence = {self.n_evidence} revealed "
                                       f"features in every row (the debater moves), found a row with {int(k.max())}",
                                       argument="revealed")
        F, D = self.n_features, self.n_decisions
        # float32 like the torch policy (and twice as fast: exact solvers query ~10^4 revealed sets at once).
        ws, bs = self._float32
        w0 = ws[0]
        # The first layer on the observation [x, r, e_own, e_other, e_k] without building it: the one-hot
        # blocks are row lookups.
        z = (x.astype(np.float32) @ w0[:F] + r.astype(np.float32) @ w0[F:2 * F] + w0[2 * F + own]
             + w0[2 * F + D + other] + w0[2 * F + 2 * D + k] + bs[0])
        if self.judge_inputs:
            base = 2 * F + 2 * D + self.n_evidence
            z = z + judge_margin_inputs(self.judge, x, r, own, other).astype(np.float32) @ w0[base:base + F]
        act = np.tanh if self.activation == "tanh" else (lambda v: np.maximum(v, np.float32(0.0)))
        for w, b in zip(ws[1:], bs[1:]):
            z = act(z) @ w + b
        return z.astype(np.float64)

    @property
    def _float32(self):
        cached = self.__dict__.get("_f32")
        if cached is None:
            cached = (tuple(w.astype(np.float32) for w in self.weights),
                      tuple(b.astype(np.float32) for b in self.biases))
            object.__setattr__(self, "_f32", cached)
        return cached

    def batch_probabilities(self, features, revealed, own, other) -> np.ndarray:
        revealed = np.asarray(revealed, dtype=bool)
        z = np.where(revealed, -np.inf, self.logits(features, revealed, own, other))
        if self.deterministic:
            out = np.zeros(z.shape)
            out[np.arange(z.shape[0]), np.argmax(z, axis=1)] = 1.0
            return out
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    @classmethod
    def from_sb3(cls, model, n_features: int, n_decisions: int, n_evidence: int, *, deterministic: bool = False,
                 name: str = "", judge=None) -> MLPDebater:
        """Copy the policy network of a trained sb3 / sb3-contrib ``MlpPolicy`` model (needs torch)."""
        _import_rl()
        import torch

        policy = getattr(model, "policy", model)
        ws, bs, acts = [], [], set()
        for mod in policy.mlp_extractor.policy_net:
            if isinstance(mod, torch.nn.Linear):
                ws.append(mod.weight.detach().cpu().numpy().T.copy())
                bs.append(mod.bias.detach().cpu().numpy().copy())
            elif isinstance(mod, torch.nn.Tanh):
                acts.add("tanh")
            elif isinstance(mod, torch.nn.ReLU):
                acts.add("relu")
            else:
                raise InvalidInstanceError(f"model: expected a policy net of Linear and Tanh/ReLU layers, found "
                                           f"{type(mod).__name__}", argument="model")
        if len(acts) > 1:
            raise InvalidInstanceError(f"model: expected one activation, found {sorted(acts)}", argument="model")
        ws.append(policy.action_net.weight.detach().cpu().numpy().T.copy())
        bs.append(policy.action_net.bias.detach().cpu().numpy().copy())
        return cls(tuple(ws), tuple(bs), n_features, n_decisions, n_evidence, acts.pop() if acts else "tanh",
                   deterministic, name, judge, judge is not None)


# ------------------------------------------------------------------------------------------ training
@dataclass(frozen=True)
class NeuralTrainingResult:
    """What :func:`train_neural_debaters` returns.

    Attributes
    ----------
    debater : MLPDebater
        The argumentator (isolated / self-play learner / max-min argumentator), sampling (not deterministic).
    confuser : MLPDebater or None
        The max-min confuser.
    regime : str
    steps : int
        Learner environment steps in total (both max-min learners together).
    seconds : float
        Wall-clock training time.
    mean_rewards : tuple of float
        Mean terminal reward of the (last) learner's episodes per phase / refresh period.
    """

    debater: MLPDebater
    confuser: MLPDebater | None
    regime: str
    steps: int
    seconds: float
    mean_rewards: tuple[float, ...]


def _episode_rewards(model) -> float:
    buf = getattr(model, "ep_info_buffer", None) or []
    vals = [info["r"] for info in buf if "r" in info]
    return float(np.mean(vals)) if vals else float("nan")


def train_neural_debaters(make_env: Callable, regime: str, *, n_features: int, n_decisions: int, n_evidence: int,
                          total_steps: int = 100_000, n_envs: int = 8, net_arch: tuple[int, ...] = (64, 64),
                          phase_steps: int = 8192, refresh_steps: int = 8192, extra_opponents: tuple = (),
                          learning_rate: float = 1e-3, ent_coef: float = 0.01, n_steps: int = 256,
                          batch_size: int = 512, n_epochs: int = 8, judge=None, seed=0, threads: int = 1
                          ) -> NeuralTrainingResult:
    """Train neural debaters with sb3-contrib ``MaskablePPO`` in one of the paper's three regimes.

    Parameters
    ----------
    make_env : callable ``(role, opponents, seed) -> gymnasium.Env``
        ``role`` is ``"isolated"`` (the learner makes all reveals for the honest decision), ``"argue"`` (the
        learner argues the honest decision against ``opponents``), ``"confuse"`` (the learner argues the wrong
        decision) or ``"either"`` (a random side each episode); ``opponents`` is a tuple of debaters (one is
        drawn per episode) or ``()``.  The env must expose ``action_masks()`` and ``set_opponents(tuple)``.
    regime : {"isolated", "self_play", "maxmin"}
    n_features, n_decisions, n_evidence : int
        F, D, L of the game (the observation is :func:`debate_observation`).
    total_steps : int
        Learner steps (for ``"maxmin"`` split between argumentator and confuser).
    n_envs : int
        Environments per learner (``DummyVecEnv``).
    net_arch : tuple of int
        Hidden layers of the policy and of the (separate) value network.
    phase_steps : int
        ``"maxmin"``: steps per alternation phase (confuser first).
    refresh_steps : int
        ``"self_play"``: steps between refreshes of the frozen copy.
    extra_opponents : tuple of debaters
        Fixed opponents mixed into the learned ones (``"self_play"`` and ``"maxmin"``; both max-min learners
        meet them), one drawn uniformly per episode.
    learning_rate, ent_coef, n_steps, batch_size, n_epochs :
        ``MaskablePPO`` hyper-parameters (``gamma = 1``: only the terminal judge outcome is rewarded).
    judge : Judge, optional
        Given when the envs' observations carry :func:`judge_margin_inputs`; the returned debaters read it.
    seed : int
    threads : int
        torch intra-op threads during training.
    """
    regime = check_choice("regime", regime, ("isolated", "self_play", "maxmin"))
    if not callable(make_env):
        raise InvalidInstanceError(f"make_env: expected a callable (role, opponents, seed) -> env, found "
                                   f"{describe(make_env)}", argument="make_env")
    F = check_integer("n_features", n_features, minimum=1)
    D = check_integer("n_decisions", n_decisions, minimum=2)
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
    total_steps = check_integer("total_steps", total_steps, minimum=1)
    n_envs = check_integer("n_envs", n_envs, minimum=1)
    phase_steps = check_integer("phase_steps", phase_steps, minimum=1)
    refresh_steps = check_integer("refresh_steps", refresh_steps, minimum=1)
    n_steps = check_integer("n_steps", n_steps, minimum=1)
    batch_size = check_integer("batch_size", batch_size, minimum=1)
    n_epochs = check_integer("n_epochs", n_epochs, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    ent_coef = check_nonnegative("ent_coef", ent_coef)
    net_arch = check_layer_widths("net_arch", net_arch)
    for opp in extra_opponents:
        if not callable(getattr(opp, "batch_probabilities", None)):
            raise InvalidInstanceError(f"extra_opponents: expected debaters (objects with batch_probabilities()), "
                                       f"found {describe(opp)}", argument="extra_opponents")
    base_seed = int(as_generator(seed).integers(2**31 - 1)) if not isinstance(seed, (int, np.integer)) else int(seed)

    torch, MaskablePPO, DummyVecEnv = _import_rl()
    from stable_baselines3.common.monitor import Monitor

    old_threads = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    t0 = time.perf_counter()
    try:
        def vec(role, opponents, offset):
            def factory(i):
                def make():
                    return Monitor(make_env(role, tuple(opponents), base_seed * 1000 + offset + i))
                return make
            return DummyVecEnv([factory(i) for i in range(n_envs)])

        def model(env, offset):
            return MaskablePPO("MlpPolicy", env, n_steps=n_steps, batch_size=batch_size, n_epochs=n_epochs,
                               learning_rate=learning_rate, gamma=1.0, gae_lambda=1.0, ent_coef=ent_coef,
                               seed=base_seed + offset, verbose=0, device="cpu",
                               policy_kwargs={"net_arch": {"pi": list(net_arch), "vf": list(net_arch)}})

        def snapshot(m, name):
            return MLPDebater.from_sb3(m, F, D, L, name=name, judge=judge)

        rewards = []
        extra = tuple(extra_opponents)
        if regime == "isolated":
            learner = model(vec("isolated", (), 0), 0)
            learner.learn(total_steps)
            rewards.append(_episode_rewards(learner))
            return NeuralTrainingResult(snapshot(learner, "isolated"), None, regime, total_steps,
                                        time.perf_counter() - t0, tuple(rewards))
        # Envs start against a uniform debater until the first snapshot of the learned opponent replaces it.
        start = extra or (RandomDebater(),)
        if regime == "self_play":
            env = vec("either", start, 0)
            learner = model(env, 0)
            frozen = snapshot(learner, "self_play")
            env.env_method("set_opponents", (frozen,) + extra)
            done = 0
            while done < total_steps:
                chunk = min(refresh_steps, total_steps - done)
                learner.learn(chunk, reset_num_timesteps=False)
                done += chunk
                rewards.append(_episode_rewards(learner))
                frozen = snapshot(learner, "self_play")
                env.env_method("set_opponents", (frozen,) + extra)
            return NeuralTrainingResult(frozen, None, regime, total_steps, time.perf_counter() - t0,
                                        tuple(rewards))
        arg_env = vec("argue", start, 0)
        conf_env = vec("confuse", start, 500)
        arg = model(arg_env, 0)
        conf = model(conf_env, 1)
        arg_np, conf_np = snapshot(arg, "maxmin"), snapshot(conf, "maxmin_confuser")
        arg_env.env_method("set_opponents", (conf_np,) + extra)
        conf_env.env_method("set_opponents", (arg_np,) + extra)
        done, phase = 0, 0
        while done < total_steps:
            chunk = min(phase_steps, total_steps - done)
            if phase % 2 == 0:
                conf.learn(chunk, reset_num_timesteps=False)
                conf_np = snapshot(conf, "maxmin_confuser")
                arg_env.env_method("set_opponents", (conf_np,) + extra)
                rewards.append(-_episode_rewards(conf))
            else:
                arg.learn(chunk, reset_num_timesteps=False)
                arg_np = snapshot(arg, "maxmin")
                conf_env.env_method("set_opponents", (arg_np,) + extra)
                rewards.append(_episode_rewards(arg))
            done += chunk
            phase += 1
        return NeuralTrainingResult(arg_np, conf_np, regime, total_steps, time.perf_counter() - t0, tuple(rewards))
    finally:
        torch.set_num_threads(old_threads)


# ------------------------------------------------------------------------------------------ bundles
def judge_fingerprint(judge, n_features: int, n_decisions: int, *, n_probes: int = 64, seed: int = 12345) -> np.ndarray:
    """The judge's scores ``(n_probes,)`` on fixed seeded probe inputs (standard normal features, random masks)."""
    check_judge("judge", judge)
    F = check_integer("n_features", n_features, minimum=1)
    D = check_integer("n_decisions", n_decisions, minimum=1)
    n = check_integer("n_probes", n_probes, minimum=1)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, F))
    mask = rng.random((n, F)) < 0.5
    d = np.arange(n) % D
    return np.asarray(judge.score(x, mask, d), dtype=float)


@dataclass(frozen=True)
class DebaterBundle:
    """Trained debaters with the fingerprint of their judge and how they were made.

    Attributes
    ----------
    debaters : dict of str -> MLPDebater
    judge_fingerprint : ndarray
        :func:`judge_fingerprint` of the judge they were trained against.
    metadata : dict
        JSON-serialisable: command, seeds, steps, wall-clock, library versions, ...
    """

    debaters: dict
    judge_fingerprint: np.ndarray
    metadata: dict


def check_judge_fingerprint(bundle: DebaterBundle, judge, *, tol: float = 1e-6) -> float:
    """Largest absolute difference between ``judge``'s fingerprint and the bundle's; raise if above ``tol``.

    Raises
    ------
    JudgeFingerprintError
        The judge differs (the cached debaters were trained against another judge).
    """
    if not isinstance(bundle, DebaterBundle):
        raise InvalidInstanceError(f"bundle: expected a DebaterBundle, found {describe(bundle)}", argument="bundle")
    tol = float(tol)
    ref = bundle.judge_fingerprint
    meta = bundle.metadata
    F, D = int(meta["n_features"]), int(meta["n_decisions"])
    got = judge_fingerprint(judge, F, D, n_probes=ref.size, seed=int(meta.get("fingerprint_seed", 12345)))
    gap = float(np.max(np.abs(got - ref)))
    if not gap <= tol:
        raise JudgeFingerprintError(f"judge: expected the judge the bundle's debaters were trained against "
                                    f"(fingerprint within {tol:g}), found scores differing by up to {gap:.3g}",
                                    argument="judge")
    return gap


def save_debater_bundle(path, debaters: Mapping, *, judge_fingerprint: np.ndarray, metadata: Mapping | None = None,
                        weights_dtype: str = "float32") -> Path:
    """Write debaters, judge fingerprint and metadata to ``path`` (compressed ``.npz``).

    ``weights_dtype`` (``"float32"`` or ``"float16"``, half the size) is the storage precision of the weights;
    the loaded debaters are the stored ones.  The file is written to a temporary name in the same folder and
    renamed, so a reader never sees a partial bundle.  Returns the path.
    """
    dtype = np.dtype(check_choice("weights_dtype", weights_dtype, ("float32", "float16")))
    if not isinstance(debaters, Mapping) or not debaters:
        raise InvalidInstanceError(f"debaters: expected a non-empty dict name -> MLPDebater, found "
                                   f"{describe(debaters)}", argument="debaters")
    fp = np.asarray(judge_fingerprint, dtype=float)
    if fp.ndim != 1 or fp.size == 0 or not np.all(np.isfinite(fp)):
        raise InvalidInstanceError("judge_fingerprint: expected a non-empty finite vector",
                                   argument="judge_fingerprint")
    arrays = {"fingerprint": fp}
    info = {}
    shapes = set()
    for name, deb in debaters.items():
        if not isinstance(deb, MLPDebater) or not isinstance(name, str) or "/" in name or not name:
            raise InvalidInstanceError(f"debaters: expected names without '/' mapping to MLPDebater, found "
                                       f"{name!r}: {describe(deb)}", argument="debaters")
        shapes.add((deb.n_features, deb.n_decisions))
        info[name] = {"layers": len(deb.weights), "activation": deb.activation, "n_evidence": deb.n_evidence,
                      "judge_inputs": bool(deb.judge_inputs)}
        for i, (w, b) in enumerate(zip(deb.weights, deb.biases)):
            arrays[f"{name}/w{i}"] = w.astype(dtype)
            arrays[f"{name}/b{i}"] = b.astype(dtype)
    if len(shapes) != 1:
        raise InvalidInstanceError(f"debaters: expected one (n_features, n_decisions) for all, found {sorted(shapes)}",
                                   argument="debaters")
    (F, D), = shapes
    meta = dict(metadata or {})
    meta.update(format=BUNDLE_FORMAT, debaters=info, n_features=F, n_decisions=D)
    arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a bundle is a readable data file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_debater_bundle(path, *, deterministic: bool = False, judge=None) -> DebaterBundle:
    """Read a bundle written by :func:`save_debater_bundle`, validating it.

    Parameters
    ----------
    path : str or Path
    deterministic : bool
        Make the loaded debaters reveal their most probable feature instead of sampling.
    judge : Judge, optional
        Needed by debaters trained with :func:`judge_margin_inputs` (check it first with
        :func:`check_judge_fingerprint`).

    Raises
    ------
    DebaterBundleError
        Missing or unreadable file, unknown format, missing arrays, wrong shapes or non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise DebaterBundleError(f"path: expected a debater bundle file, found nothing at {path}", argument="path")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile / numpy errors on damaged files
        raise DebaterBundleError(f"path: expected a readable .npz debater bundle, found a damaged file {path} "
                                 f"({type(exc).__name__}: {exc})", argument="path") from exc
    try:
        meta = json.loads(str(arrays["metadata"][()]))
        if meta.get("format") != BUNDLE_FORMAT:
            raise DebaterBundleError(f"path: expected bundle format {BUNDLE_FORMAT!r}, found {meta.get('format')!r}",
                                     argument="path")
        fp = np.asarray(arrays["fingerprint"], dtype=float)
        F, D = int(meta["n_features"]), int(meta["n_decisions"])
        debaters = {}
        for name, info in meta["debaters"].items():
            layers = int(info["layers"])
            ws = tuple(arrays[f"{name}/w{i}"] for i in range(layers))
            bs = tuple(arrays[f"{name}/b{i}"] for i in range(layers))
            needs_judge = bool(info.get("judge_inputs", False))
            if needs_judge and judge is None:
                raise InvalidInstanceError(f"judge: expected the judge (debater {name!r} of {path} reads the "
                                           "judge's margins), found None", argument="judge")
            debaters[name] = MLPDebater(ws, bs, F, D, int(info["n_evidence"]), info["activation"],
                                        bool(deterministic), name, judge if needs_judge else None, needs_judge)
    except DebaterBundleError:
        raise
    except (KeyError, ValueError, TypeError, InvalidInstanceError, json.JSONDecodeError) as exc:
        if isinstance(exc, InvalidInstanceError) and exc.argument == "judge":
            raise
        raise DebaterBundleError(f"path: expected a complete debater bundle, found a damaged one at {path} "
                                 f"({type(exc).__name__}: {exc})", argument="path") from exc
    if fp.ndim != 1 or fp.size == 0 or not np.all(np.isfinite(fp)):
        raise DebaterBundleError(f"path: expected a finite judge fingerprint vector, found shape {fp.shape} in "
                                 f"{path}", argument="path")
    return DebaterBundle(debaters, fp, meta)


# ------------------------------------------------------------------------------------------ evaluation
def split_states(n_states: int, n_held_out: int, *, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n_states)`` into sorted (training, held-out) index arrays."""
    n = check_integer("n_states", n_states, minimum=2)
    k = check_integer("n_held_out", n_held_out, minimum=1, maximum=n - 1)
    check_allocation("n_states", 16.0 * n, f"a permutation of {n} states")
    perm = as_generator(seed).permutation(n)
    return np.sort(perm[k:]), np.sort(perm[:k])


def bootstrap_ci(values, *, level: float = 0.95, n_boot: int = 2000, seed=0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampling the entries with replacement)."""
    v = check_array("values", values, ndim=1)
    if v.size == 0:
        raise InvalidInstanceError("values: expected at least one value, found none", argument="values")
    level = check_positive("level", level)
    if not level < 1:
        raise InvalidInstanceError(f"level: expected a number in (0, 1), found {level!r}", argument="level")
    n_boot = check_integer("n_boot", n_boot, minimum=1)
    rng = as_generator(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 256):  # chunked: n_boot x n indices at once can be large
        stop = min(n_boot, start + 256)
        means[start:stop] = v[rng.integers(0, v.size, size=(stop - start, v.size))].mean(axis=1)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [a, 1.0 - a])
    return float(lo), float(hi)


def learned_debate_outcomes(judge, features, own, other, debaters, n_evidence: int, *, seed=0) -> np.ndarray:
    """Outcomes ``(n, 2)`` for ``own`` of batched debates ``own`` vs ``other``, per first mover (column 0: own first).

    ``debaters = (debater arguing own, debater arguing other)``; each row is played once (batched, one
    ``batch_probabilities`` call per reveal).  Deterministic debaters (e.g. ``MLPDebater(deterministic=True)``)
    make the outcomes exact; sampling ones draw with ``seed``.  The game is feasible at any L (no tree), which
    is how learned debaters stand in for the exact value where C(F, L) is too large.
    """
    check_judge("judge", judge)
    x = check_array("features", features, ndim=2)
    n, F = x.shape
    if n == 0:
        raise InvalidInstanceError("features: expected at least one state, found 0 rows", argument="features")
    check_judge_size(judge, F)
    high = getattr(judge, "n_decisions", None)
    own = check_index_array("own", own, shape=(n,), high=high, what="integer decisions (one per row)")
    other = check_index_array("other", other, shape=(n,), high=high, what="integer decisions (one per row)")
    if not isinstance(debaters, (tuple, list)) or len(debaters) != 2 or not all(
            callable(getattr(d, "batch_probabilities", None)) for d in debaters):
        raise InvalidInstanceError(f"debaters: expected a pair of debaters (objects with batch_probabilities()), "
                                   f"found {describe(debaters)}", argument="debaters")
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
    rng = as_generator(seed)
    out = np.zeros((n, 2))
    rows = np.arange(n)
    for fm in (0, 1):
        revealed = np.zeros((n, F), dtype=bool)
        for k in range(L):
            side = (k + fm) % 2  # 0: the debater arguing own moves
            a, b = (own, other) if side == 0 else (other, own)
            p = np.asarray(debaters[side].batch_probabilities(x, revealed, a, b), dtype=float)
            p = np.where(revealed, 0.0, np.clip(p, 0.0, None))
            cum = np.cumsum(p, axis=1)
            f = (cum <= rng.random(n)[:, None] * cum[:, -1:]).sum(axis=1)
            f = np.minimum(f, F - 1)
            bad = revealed[rows, f]
            f[bad] = np.argmax(p[bad], axis=1)
            revealed[rows, f] = True
        s = np.asarray(judge.score(np.concatenate([x, x]), np.concatenate([revealed, revealed]),
                                   np.concatenate([own, other])), dtype=float)
        out[:, fm] = np.sign(s[:n] - s[n:])
    return out


def _is_deterministic(debater) -> bool:
    inner = getattr(debater, "debater", debater)  # through _MemoPolicy
    return isinstance(inner, MLPDebater) and inner.deterministic


@dataclass(frozen=True)
class HeldOutEvaluation:
    """Per-state judge accuracies (tie = 1/2) on held-out states, computed exactly.

    Attributes
    ----------
    states : ndarray of int
        Indices of the evaluated states (into the caller's pool).
    random_evidence : ndarray
        Accuracy with a uniformly random evidence set of size L (exact mean over all C(F, L) sets).
    minimax : ndarray
        Both sides exact minimax (random first mover): the best any debater can guarantee.
    alone, vs_exact, vs_learned : dict of str -> ndarray
        Per debater: all L reveals by the debater for the correct decision; its half against the exact
        best-response confuser; its half against its learned confuser (if one was given; random first mover).
    """

    states: np.ndarray
    random_evidence: np.ndarray
    minimax: np.ndarray
    alone: dict
    vs_exact: dict
    vs_learned: dict

    def summary(self, *, level: float = 0.95, n_boot: int = 2000, seed=0) -> list[dict]:
        """One row per debater: means and percentile-bootstrap intervals over states (paired resamples)."""
        rng_seed = int(as_generator(seed).integers(2**31 - 1)) if not isinstance(seed, (int, np.integer)) else int(seed)
        rows = []

        def stat(v, off):
            lo, hi = bootstrap_ci(v, level=level, n_boot=n_boot, seed=rng_seed + off)
            return float(np.mean(v)), lo, hi

        mm = stat(self.minimax, 0)
        rnd = stat(self.random_evidence, 1)
        for j, name in enumerate(self.alone):
            row = {"debater": name, "states": int(self.states.size),
                   "random_evidence": rnd, "alone": stat(self.alone[name], 2 + 3 * j),
                   "vs_exact_confuser": stat(self.vs_exact[name], 3 + 3 * j),
                   "vs_learned_confuser": (stat(self.vs_learned[name], 4 + 3 * j) if name in self.vs_learned
                                           else None),
                   "minimax": mm}
            # Ratio to the minimax ceiling with a paired bootstrap (same resampled states in both means).
            r = np.random.default_rng(rng_seed + 1000 + j)
            idx = r.integers(0, self.states.size, size=(n_boot, self.states.size))
            ratios = self.vs_exact[name][idx].mean(axis=1) / np.maximum(self.minimax[idx].mean(axis=1), 1e-12)
            a = (1 - level) / 2
            row["vs_exact_over_minimax"] = (float(np.mean(self.vs_exact[name]) / max(np.mean(self.minimax), 1e-12)),
                                            float(np.quantile(ratios, a)), float(np.quantile(ratios, 1 - a)))
            rows.append(row)
        return rows


def evaluate_held_out(judge, features, correct, wrong, debaters: Mapping, n_evidence: int, *,
                      confusers: Mapping | None = None, states=None) -> HeldOutEvaluation:
    """Exact judge accuracies of debaters on states with a correct and a wrong decision each.

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (n, F)
        The evaluated (held-out) states.
    correct, wrong : array_like of int, shape (n,)
        The honest debater's decision and the confuser's (different in every row).
    debaters : dict of str -> debater
    n_evidence : int
        L (exact solves: keep C(F, L) small, e.g. L = 4 on 44 features).
    confusers : dict of str -> debater, optional
        Learned confusers by debater name (evaluated against that debater, ``policy_value``).
    states : array_like of int, optional
        Labels of the rows, stored in the result (default ``arange(n)``).
    """
    check_judge("judge", judge)
    x = check_array("features", features, ndim=2)
    n, F = x.shape
    if n == 0:
        raise InvalidInstanceError("features: expected at least one state, found 0 rows", argument="features")
    check_judge_size(judge, F)
    high = getattr(judge, "n_decisions", None)
    correct = check_index_array("correct", correct, shape=(n,), high=high, what="integer decisions (one per row)")
    wrong = check_index_array("wrong", wrong, shape=(n,), high=high, what="integer decisions (one per row)")
    if np.any(correct == wrong):
        raise InvalidInstanceError("wrong: expected a decision different from correct in every row", argument="wrong")
    if not isinstance(debaters, Mapping) or not debaters:
        raise InvalidInstanceError(f"debaters: expected a non-empty dict name -> debater, found {describe(debaters)}",
                                   argument="debaters")
    if confusers is not None and not isinstance(confusers, Mapping):
        raise InvalidInstanceError(f"confusers: expected a dict name -> debater or None, found {describe(confusers)}",
                                   argument="confusers")
    confusers = dict(confusers or {})
    for group, name in ((debaters, "debaters"), (confusers, "confusers")):
        for key, d in group.items():
            if not callable(getattr(d, "batch_probabilities", None)):
                raise InvalidInstanceError(f"{name}: expected debaters (objects with batch_probabilities()), found "
                                           f"{key!r}: {describe(d)}", argument=name)
    unknown = set(confusers) - set(debaters)
    if unknown:
        raise InvalidInstanceError(f"confusers: expected keys among the debaters' names, found {sorted(unknown)}",
                                   argument="confusers")
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
    labels = np.arange(n) if states is None else check_index_array("states", states, shape=(n,))
    memo_judge = _MemoJudge(judge, size=16)

    def shared(d):
        # Debaters reading the judge query the same candidate sets at every state: share one judge cache.
        if isinstance(d, MLPDebater) and d.judge_inputs and d.judge is judge:
            d = d.with_judge(memo_judge)
        return _MemoPolicy(d)

    deb = {k: shared(v) for k, v in debaters.items()}
    conf = {k: shared(v) for k, v in confusers.items()}
    rnd, mm = np.zeros(n), np.zeros(n)
    alone = {k: np.zeros(n) for k in deb}
    vs = {k: np.zeros(n) for k in deb}
    vl = {k: np.zeros(n) for k in conf}
    for i in range(n):
        pair = (int(correct[i]), int(wrong[i]))
        rnd[i] = (1.0 + float(np.mean(leaf_outcomes(memo_judge, x[i], pair, L)))) / 2.0
        mm[i] = (1.0 + solve_debate(memo_judge, x[i], pair, L).value) / 2.0
        for k, d in deb.items():
            solo = ArguingFor(d, *pair)
            if _is_deterministic(d):
                # One line of play: exact for a deterministic policy, and no tree to back up.
                u = learned_debate_outcomes(judge, x[i:i + 1], [pair[0]], [pair[1]], (solo, solo), L)[0, 0]
            else:
                u = policy_value(memo_judge, x[i], pair, L, (solo, solo), first_mover=0)
            alone[k][i] = (1.0 + u) / 2.0
            vs[k][i] = (1.0 + best_response(memo_judge, x[i], pair, L, d, responder=1).value) / 2.0
            if k in conf:
                if _is_deterministic(d) and _is_deterministic(conf[k]):
                    u = learned_debate_outcomes(judge, x[i:i + 1], [pair[0]], [pair[1]], (d, conf[k]), L)[0].mean()
                else:
                    u = policy_value(memo_judge, x[i], pair, L, (d, conf[k]))
                vl[k][i] = (1.0 + u) / 2.0
    return HeldOutEvaluation(labels, rnd, mm, alone, vs, vl)
