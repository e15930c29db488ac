"""Committees: rankings and cultures, rules and the registry, scores, bias, constraints, manipulation,
smoothness, PrefLib files, exact selection (:mod:`mechsim.solvers.committee`, ``committee_family``,
``committee_smoothness``) and the ``mechsim/Committee-v0`` environment.

Group labels are integers (an integral float such as ``1.0`` is the label 1; ``0.5`` is refused), of any
sign: ``negative`` is not a bad kind for ``groups``.  Result dataclasses (``Committee``, ``Manipulation``,
``SmoothnessEstimate``, ...) are outputs, not entry points.
"""

import functools
import tempfile
from pathlib import Path

import numpy as np

from fuzz.entry import ARRAY, COUNT, MODEL, NUMBER, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim import committees as C
from mechsim.committees.bias import ImplicitBias, SwapBias
from mechsim.envs.committee import CommitteeParallelEnv
from mechsim.solvers.committee import best_committee, greedy_committee
from mechsim.solvers.committee_family import best_committee_family
from mechsim.solvers.committee_smoothness import constraint_family, rankings_needed

#: A profile: negative or non-integral item indices are as wrong as NaN; its size is free.
PROFILE = (*SIZING_ARRAY, "negative", "fraction")
#: Group labels, one per item (any integers; non-integral labels are refused, never truncated).
LABELS = (*ARRAY, "fraction")
#: A committee (item indices; its size is free).
MEMBERS = ("none", "type", "nan", "inf", "negative", "fraction", "ndim", "dtype", "empty")
#: Voter weights: optional, one per ranking, non-negative.
WEIGHTS = ("type", "nan", "inf", "negative", "shape", "ndim", "dtype", "empty")
LABEL = ("none", "type", "nan", "inf", "negative", "fraction")   # one group label that must exist
BOOL = ("type",)

_R = C.sample_rankings("mallows", 6, 6, seed=1, phi=0.6)          # (6 voters, 6 items)
_R8 = C.sample_rankings("impartial", 5, 8, seed=2)                 # 8! > max_reports: sampled reports
_GROUPS = np.array([0, 0, 0, 1, 1, 1])
_BOUNDS = {1: (1, 2)}
_W = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 3.0])
_UTIL = np.random.default_rng(0).random((6, 6))


#: A PrefLib profile with ties and incomplete orders (4 voters over 4 items).
_PROFILE = C.PreflibProfile.from_orders([[2, (0, 1)], [1, 0], [3, 2, 1, 0]], 4, weights=[2, 1, 1])


@functools.lru_cache(maxsize=2)
def _preflib_file(data_type: str = "soc") -> str:
    folder = Path(tempfile.mkdtemp(prefix="mechsim-fuzz-"))
    if data_type == "soc":
        return str(C.write_preflib(folder / "profile.soc", _R))
    return str(C.write_preflib(folder / f"profile.{data_type}", _PROFILE))


class _Held:
    """Hides a GroupBounds from test_fuzz_inputs, which reads ``value.size`` (GroupBounds.size is an array)."""

    def __init__(self, gb):
        self.gb = gb


def _in_temp(path):
    """A file name inside a fresh temporary folder (anything else is passed on, to be refused)."""
    return Path(tempfile.mkdtemp(prefix="mechsim-fuzz-")) / path if isinstance(path, str) else path


def _register(**kwargs):
    """``register_rule`` then ``unregister_rule``, so that a valid call can be repeated."""
    name = C.register_rule(**kwargs)
    C.rules.unregister_rule(kwargs["name"])
    return name


def _env(**kwargs):
    env = CommitteeParallelEnv(**kwargs)
    env.reset(seed=0)
    return env


def _step(action):
    env = _env(n_voters=4, n_items=6, k=3)
    return env.step({"voter_0": action})


def _step_actions(actions):
    env = _env(n_voters=4, n_items=6, k=3)
    return env.step(actions)


ENTRIES = [
    # ---------------------------------------------------------------------------------------- rankings
    Entry("check_rankings", C.check_rankings, lambda: {"rankings": _R, "n_items": 6},
          {"rankings": PROFILE, "n_items": COUNT[1:]}),
    *[Entry(f"sample_rankings[{culture}]", C.sample_rankings,
            lambda culture=culture: {"culture": culture, "n_voters": 4, "n_items": 5, "seed": 0},
            {"culture": ("none", "type"), "n_voters": COUNT, "n_items": COUNT, "seed": SEED},
            names={"n_voters": ("n_voters * n_items",), "n_items": ("n_voters * n_items",)})
      for culture in C.CULTURES],
    Entry("sample_rankings[mallows phi]", C.sample_rankings,
          lambda: {"culture": "mallows", "n_voters": 4, "n_items": 5, "seed": 0, "phi": 0.3},
          {"phi": POSITIVE}),
    Entry("sample_rankings[norm_mallows norm_phi]", C.sample_rankings,
          lambda: {"culture": "norm_mallows", "n_voters": 4, "n_items": 5, "seed": 0, "norm_phi": 0.3},
          {"norm_phi": POSITIVE}),
    Entry("sample_rankings[urn alpha]", C.sample_rankings,
          lambda: {"culture": "urn", "n_voters": 4, "n_items": 5, "seed": 0, "alpha": 0.3},
          {"alpha": POSITIVE}),
    Entry("sample_rankings[plackett_luce alphas]", C.sample_rankings,
          lambda: {"culture": "plackett_luce", "n_voters": 4, "n_items": 5, "seed": 0,
                   "alphas": np.array([5.0, 4.0, 3.0, 2.0, 1.0])},
          {"alphas": (*ARRAY[1:], "negative")}),   # None: the default weights
    Entry("merge_rankings", C.merge_rankings, lambda: {"rankings": _R, "weights": _W},
          {"rankings": PROFILE, "weights": WEIGHTS}),
    Entry("positions", C.positions, lambda: {"rankings": _R}, {"rankings": PROFILE}),
    Entry("random_groups", C.random_groups, lambda: {"n_items": 6, "n_disadvantaged": 2, "seed": 0},
          {"n_items": COUNT, "n_disadvantaged": COUNT[1:], "seed": SEED}),
    # ------------------------------------------------------------------------------------------- rules
    Entry("CommitteeScoringRule", C.CommitteeScoringRule,
          lambda: {"positional": np.array([3.0, 2.0, 1.0, 0.0]), "owa": np.array([1.0, 0.5]), "name": "custom"},
          {"positional": SIZING_ARRAY, "owa": SIZING_ARRAY, "name": ("none", "type")}),
    Entry("CommitteeScoringRule.gamma", lambda m: C.k_borda().gamma(m), lambda: {"m": 5}, {"m": COUNT}),
    Entry("CommitteeScoringRule.owa_vector", lambda k: C.harmonic_borda().owa_vector(k), lambda: {"k": 3},
          {"k": COUNT}),
    *[Entry(f"{fn.__name__}", fn, lambda: {"l": 2}, {"l": COUNT[:-1]})
      for fn in (C.bloc, C.approval_cc, C.approval_pav)],
    Entry("rule_from_name", C.rule_from_name, lambda: {"name": "harmonic-borda"},
          {"name": ("none", "type")}, names={"name": ("rule",)}),
    Entry("register_rule", _register,
          lambda: {"name": "fuzz-rule", "constructor": C.k_borda, "description": "a fuzzed rule",
                   "aliases": ("fuzz-alias",), "example": "fuzz-rule", "parametrised": False},
          {"name": ("none", "type"), "constructor": ("type",), "description": ("type",),
           "aliases": ("none", "type"), "example": ("type",), "parametrised": BOOL}),
    # ------------------------------------------------------------------------------------------ scores
    Entry("committee_score", C.committee_score,
          lambda: {"rankings": _R, "members": np.array([0, 3]), "rule": C.borda_cc(), "weights": _W},
          {"rankings": PROFILE, "members": MEMBERS, "rule": MODEL, "weights": WEIGHTS}),
    Entry("committee_scores", C.committee_scores,
          lambda: {"rankings": _R, "committees": np.array([[0, 3], [1, 2]]), "rule": "k-borda", "weights": _W},
          {"rankings": PROFILE, "committees": tuple(k for k in MEMBERS if k != "empty"), "rule": MODEL,
           "weights": WEIGHTS}),
    Entry("singleton_scores", C.singleton_scores,
          lambda: {"rankings": _R, "rule": "borda-cc", "weights": _W, "k": 2},
          {"rankings": PROFILE, "rule": MODEL, "weights": WEIGHTS, "k": COUNT[1:]}),
    Entry("voter_scores", C.voter_scores,
          lambda: {"rankings": _R, "members": np.array([1, 4]), "rule": "harmonic-borda"},
          {"rankings": PROFILE, "members": MEMBERS, "rule": MODEL}),
    # -------------------------------------------------------------------------------------------- bias
    Entry("swap_bias", C.swap_bias,
          lambda: {"rankings": _R, "groups": _GROUPS, "disadvantaged": 1, "fraction": 0.5, "phi": 0.5,
                   "stale": False, "seed": 0},
          {"rankings": PROFILE, "groups": LABELS, "disadvantaged": LABEL, "fraction": POSITIVE,
           "phi": POSITIVE, "stale": BOOL, "seed": SEED}),
    Entry("swap_bias_path", C.swap_bias_path,
          lambda: {"rankings": _R, "groups": _GROUPS, "disadvantaged": 1, "fractions": np.array([0.2, 0.6]),
                   "seed": 0},
          {"rankings": PROFILE, "groups": LABELS, "fractions": ("none", "type", "nan", "inf", "negative", "ndim",
                                                              "dtype")}),
    Entry("SwapBias", SwapBias, lambda: {"fraction": 0.5, "phi": 0.5, "stale": True},
          {"fraction": POSITIVE, "phi": POSITIVE, "stale": BOOL}),
    Entry("implicit_bias", C.implicit_bias,
          lambda: {"utilities": _UTIL, "groups": _GROUPS, "disadvantaged": 1, "beta": 0.5},
          {"utilities": (*SIZING_ARRAY, "negative"), "groups": LABELS, "disadvantaged": LABEL, "beta": POSITIVE}),
    Entry("ImplicitBias", ImplicitBias, lambda: {"beta": 0.5, "noise": 1.0}, {"beta": POSITIVE, "noise": POSITIVE}),
    Entry("rank_utilities", C.rank_utilities, lambda: {"utilities": _UTIL}, {"utilities": SIZING_ARRAY}),
    # ------------------------------------------------------------------------------------- constraints
    Entry("check_group_bounds", C.check_group_bounds,
          lambda: {"groups": _GROUPS, "bounds": _BOUNDS, "n_items": 6, "k": 3},
          {"groups": LABELS[1:], "bounds": ("type",), "n_items": COUNT, "k": COUNT}),
    Entry("two_group_bounds", C.two_group_bounds, lambda: {"groups": _GROUPS, "disadvantaged": 1, "l": 1, "k": 3},
          {"groups": tuple(k for k in LABELS if k != "shape"), "disadvantaged": LABEL, "l": COUNT, "k": COUNT}),
    Entry("feasible_committees", lambda m, k, gb: C.feasible_committees(m, k, gb.gb if isinstance(gb, _Held) else gb),
          lambda: {"m": 6, "k": 3, "gb": _Held(C.check_group_bounds(_GROUPS, _BOUNDS, 6, 3))},
          {"m": COUNT, "k": COUNT, "gb": ("type",)}),
    # ------------------------------------------------------------------------------------ manipulation
    Entry("find_manipulation", C.find_manipulation,
          lambda: {"rankings": _R8, "k": 2, "rule": "k-borda", "weights": np.ones(5), "voters": [0, 2],
                   "max_reports": 60, "seed": 0},
          {"rankings": PROFILE, "k": COUNT, "rule": MODEL, "weights": WEIGHTS,
           # a huge max_reports is valid here (8! reports are tried exhaustively); refusal: test_committees_guards
           "voters": ("type", "nan", "inf", "negative", "fraction", "ndim", "dtype"), "max_reports": COUNT[:-1],
           "seed": SEED}),
    Entry("find_manipulation[groups]", C.find_manipulation,
          lambda: {"rankings": _R, "k": 2, "rule": "borda-cc", "groups": _GROUPS, "bounds": {1: (1, 1)}},
          {"groups": LABELS[1:], "bounds": ("type",)}),
    Entry("manipulation_frequency", C.manipulation_frequency,
          lambda: {"rule": "k-borda", "culture": "impartial", "n_voters": 3, "n_items": 4, "k": 2, "profiles": 2,
                   "seed": 0, "with_groups": True, "max_reports": 30},
          {"rule": MODEL, "culture": ("none", "type"), "n_voters": COUNT, "n_items": COUNT, "k": COUNT,
           "profiles": COUNT[:-1], "seed": SEED, "with_groups": BOOL, "max_reports": COUNT[:-1]},
          names={"n_voters": ("n_voters * n_items",), "n_items": ("n_voters * n_items",)}),
    # -------------------------------------------------------------------------------------- smoothness
    Entry("estimate_smoothness", C.estimate_smoothness,
          lambda: {"rule": "borda-cc", "culture": "impartial", "bias": SwapBias(0.5), "n_items": 6, "n_voters": 4,
                   "draws": 2, "seed": 0, "betas": np.array([0.5, 1.0]), "disadvantaged_share": 0.5},
          {"rule": MODEL, "culture": ("none", "type"), "bias": MODEL, "n_items": COUNT, "n_voters": COUNT,
           "draws": COUNT, "seed": SEED, "betas": ("type", "nan", "inf", "negative", "ndim", "dtype"),
           "disadvantaged_share": POSITIVE},
          names={"n_voters": ("n_voters * n_items",), "n_items": ("n_voters * n_items",)}),
    # ----------------------------------------------------------------------------------------- PrefLib
    Entry("read_preflib", C.read_preflib, lambda: {"path": _preflib_file(), "incomplete": "error"},
          {"path": ("none", "type"), "incomplete": ("none", "type")}),
    Entry("read_preflib[ties]", C.read_preflib,
          lambda: {"path": _preflib_file("toi"), "incomplete": "bottom", "ties": "index"},
          {"ties": ("none", "type")}),
    Entry("PreflibProfile", C.PreflibProfile,
          lambda: {"rankings": _R, "weights": _W, "names": list("abcdef"), "data_type": "soc", "title": "t",
                   "completed": np.zeros(6, dtype=bool)},
          {"rankings": PROFILE, "weights": WEIGHTS, "names": ("type",), "data_type": ("none", "type"),
           "title": ("none", "type"), "completed": ("type", "shape", "ndim", "dtype", "empty")}),
    Entry("PreflibProfile.from_orders", C.PreflibProfile.from_orders,
          lambda: {"orders": [[2, (0, 1)], [1, 0], [3, 2, 1, 0]], "n_items": 4, "weights": np.array([2.0, 1.0, 1.0]),
                   "incomplete": "bottom", "ties": "index"},
          # orders (ragged nested sequences, which bad_values cannot vary): tests/test_committees_guards.py
          {"n_items": COUNT[:-1], "weights": WEIGHTS, "incomplete": ("none", "type"),
           "ties": ("none", "type")}),
    Entry("write_preflib[profile]", lambda path, rankings: C.write_preflib(_in_temp(path), rankings),
          lambda: {"path": "out.toi", "rankings": _PROFILE}, {"path": ("none", "type"), "rankings": ("type",)}),
    Entry("write_preflib", lambda path, rankings, weights, names, title: C.write_preflib(
              _in_temp(path), rankings, weights, names, title),
          lambda: {"path": "out.soc", "rankings": _R, "weights": np.arange(1.0, 7.0), "names": list("abcdef"),
                   "title": "t"},
          {"rankings": PROFILE, "weights": WEIGHTS, "names": ("type",), "title": ("type",)}),
    # --------------------------------------------------------------------------------- exact selection
    Entry("best_committee", best_committee,
          lambda: {"rankings": _R, "k": 3, "rule": "borda-cc", "groups": _GROUPS, "bounds": _BOUNDS,
                   "weights": _W, "method": "ilp", "time_limit": 30.0},
          {"rankings": PROFILE, "k": COUNT, "rule": MODEL, "groups": LABELS[1:], "bounds": ("type",),
           "weights": WEIGHTS, "method": ("none", "type"), "time_limit": POSITIVE[1:]}),
    Entry("best_committee[auto]", best_committee,
          lambda: {"rankings": _R, "k": 3, "rule": "k-borda", "groups": _GROUPS, "bounds": _BOUNDS,
                   "time_limit": 5.0},
          {"groups": LABELS[1:], "time_limit": POSITIVE[1:]}),
    Entry("greedy_committee", greedy_committee,
          lambda: {"rankings": _R, "k": 3, "rule": "harmonic-borda", "groups": _GROUPS, "bounds": _BOUNDS,
                   "weights": _W},
          {"rankings": PROFILE, "k": COUNT, "rule": MODEL, "groups": LABELS[1:], "bounds": ("type",),
           "weights": WEIGHTS}),
    Entry("best_committee_family", best_committee_family,
          lambda: {"rankings": _R, "k": 3, "rule": "harmonic-borda", "groups": _GROUPS,
                   "bounds_list": [{1: (1, 1)}, {1: (2, 2)}, None], "weights": _W, "time_limit": 30.0},
          {"rankings": PROFILE, "k": COUNT, "rule": MODEL, "groups": LABELS, "bounds_list": ("none", "type"),
           "weights": WEIGHTS, "time_limit": POSITIVE[1:]}),
    Entry("constraint_family", constraint_family,
          lambda: {"latent": _R, "biased": C.swap_bias(_R, _GROUPS, 1, 0.5, seed=0), "groups": _GROUPS,
                   "disadvantaged": 1, "k": 3, "rule": "borda-cc", "ls": np.array([0, 1, 2]), "latent_opt": None},
          {"latent": PROFILE, "biased": (*PROFILE, "shape"), "groups": LABELS, "disadvantaged": LABEL,
           "k": COUNT, "rule": MODEL, "ls": ("type", "nan", "inf", "negative", "fraction", "ndim", "dtype",
                                              "empty")}),
    Entry("constraint_family[latent_opt]", constraint_family,
          lambda: {"latent": _R, "biased": _R, "groups": _GROUPS, "disadvantaged": 1, "k": 3, "rule": "k-borda",
                   "latent_opt": 40.0},
          {"latent_opt": NUMBER[1:]}),
    Entry("rankings_needed", rankings_needed,
          lambda: {"rule": "k-borda", "culture": "mallows", "bias": SwapBias(0.5), "target": 0.9, "n_items": 6,
                   "k": 2, "n_grid": np.array([3, 5]), "draws": 2, "seed": 0, "disadvantaged_share": 0.5},
          {"rule": MODEL, "culture": ("none", "type"), "bias": MODEL, "target": POSITIVE, "n_items": COUNT,
           "k": COUNT, "n_grid": ("type", "nan", "inf", "negative", "fraction", "ndim", "dtype"),
           "draws": COUNT, "seed": SEED, "disadvantaged_share": POSITIVE},
          names={"n_grid": ("n_voters * n_items",), "n_items": ("n_voters * n_items",)}),
    # ------------------------------------------------------------------------------------- environment
    Entry("Committee-v0", CommitteeParallelEnv,
          lambda: {"n_voters": 4, "n_items": 6, "k": 3, "rule": "borda-cc", "culture": "mallows",
                   "culture_params": {"phi": 0.5}, "groups": "random", "bounds": {1: (1, None)}, "max_cycles": 2,
                   "render_mode": "ansi"},
          {"n_voters": COUNT[1:], "n_items": COUNT[1:], "k": COUNT, "rule": MODEL, "culture": ("type",),
           "culture_params": ("type",), "groups": ("type",), "bounds": ("type",), "max_cycles": COUNT[:-1],
           "render_mode": ("type",)}),
    Entry("Committee-v0[groups]", CommitteeParallelEnv,
          lambda: {"n_voters": 4, "n_items": 6, "k": 3, "groups": _GROUPS, "bounds": {1: (1, 2)}},
          {"groups": LABELS[1:]}),
    Entry("Committee-v0[rankings]", CommitteeParallelEnv,
          lambda: {"rankings": _R, "k": 3, "groups": None, "max_cycles": 2},
          {"rankings": PROFILE[1:]}),      # None: sample from the culture
    Entry("Committee-v0[PrefLib rankings]", CommitteeParallelEnv,
          lambda: {"rankings": _PROFILE, "n_voters": 4, "n_items": 4, "k": 2},
          {"n_voters": COUNT[1:], "n_items": COUNT[1:]}),
    Entry("Committee-v0.step", _step, lambda: {"action": np.linspace(1.0, -1.0, 6).astype(np.float32)},
          {"action": ("type", "nan", "inf", "shape", "ndim", "dtype", "empty")}),
    Entry("Committee-v0.step[actions]", _step_actions, lambda: {"actions": {"voter_1": np.zeros(6, np.float32)}},
          {"actions": ("none", "type")}),
]
