r"""Learned sepsis debaters: the fixed judges they argue before, their training runs and the shipped bundles.

The neural debaters of :mod:`mechsim.learners.neural_debaters` are trained here on the ICU-Sepsis patient
states (:func:`mechsim.debate.icu_sepsis.load_icu_sepsis`; 713 states, 44 centroid features, 25 decisions)
through :class:`mechsim.envs.debate_training.DebateTrainingEnv`:

- **Judge.**  For evidence budget L, :func:`debate_judge` trains the Bradley–Terry judge of
  :func:`mechsim.debate.icu_sepsis.train_sepsis_judge` with a fixed seed (:data:`JUDGE_SEEDS`) and fixed size
  (:data:`JUDGE_SIZE`), so that debaters trained once stay valid: every bundle records the judge's
  fingerprint (scores on fixed probe inputs) and :func:`cached_debaters` checks it.
- **Decisions.**  The honest debater argues the clinician's most probable action :math:`b(s)`; the wrong
  decision is drawn per episode from the *contested* alternatives (those whose one-reveal debate against
  :math:`b(s)` is won by whoever reveals first, so that evidence decides), each weighted ``CONTESTED_WEIGHT``
  times, and every other action once (the λ sweep debates every action against :math:`b(s)`).
- **Split.**  :func:`patient_split` splits the 713 patient states into training and held-out states with a
  fixed seed; debaters are trained on the training states only.

Run ``python -m mechsim.scenarios.sepsis_debaters [--L 4 6] [--full]`` (needs the ``rl`` extra) to retrain the
bundles shipped in ``mechsim/debate/data/debaters/`` (default size: the size the scenario uses; ``--full``: the
paper-size run, written to ``--out-dir``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import platform
import sys
import time
from pathlib import Path

import numpy as np

import mechsim.debate
from mechsim.debate.icu_sepsis import N_PATIENT_STATES, baseline_actions, load_icu_sepsis, train_sepsis_judge
from mechsim.envs.debate_training import DebateTrainingEnv
from mechsim.errors import MechsimError
from mechsim.learners.debaters import GreedyDebater
from mechsim.learners.distilled_debaters import distill_minimax_debater
from mechsim.learners.exact_debaters import MinimaxPoolDebater
from mechsim.learners.neural_debaters import (
    DebaterBundleError,
    JudgeFingerprintError,
    RLExtraMissingError,
    check_judge_fingerprint,
    judge_fingerprint,
    load_debater_bundle,
    save_debater_bundle,
    split_states,
    train_neural_debaters,
)
from mechsim.solvers.debate import debate_win_table

__all__ = ["JUDGE_SEEDS", "JUDGE_SIZE", "N_HELD_OUT", "SPLIT_SEED", "TRAINING", "CachedDebatersError",
           "debate_judge", "contested_alternatives", "patient_split", "wrong_candidates", "train_bundle",
           "bundle_path", "cached_debaters"]

#: Judge seeds per evidence budget L (fixed: shipped debaters were trained against these judges).
JUDGE_SEEDS = {2: 20_240_402, 4: 20_240_404, 6: 20_240_406}
#: Judge training size (clinician episodes, epochs); ~1 s per judge.
JUDGE_SIZE = {"n_episodes": 2000, "epochs": 10}
#: Held-out patient states (of 713) and the split's seed.
N_HELD_OUT = 250
SPLIT_SEED = 16
CONTESTED_WEIGHT = 6
#: The shipped bundles (package data of mechsim.debate).
DATA_DIR = Path(mechsim.debate.__file__).resolve().parent / "data" / "debaters"
CACHE_DIR = Path.home() / ".cache" / "mechsim" / "debaters" / "default"

#: Training runs by scale and L: regime -> keyword arguments of train_neural_debaters.
_COMMON = {"n_envs": 8, "net_arch": (128, 128), "learning_rate": 1e-3, "ent_coef": 0.003, "n_steps": 256,
           "batch_size": 512, "n_epochs": 8}
TRAINING = {
    "default": {
        4: {"isolated": {"total_steps": 40_000},
            "self_play": {"total_steps": 120_000, "refresh_steps": 20_000},
            "maxmin": {"total_steps": 320_000, "phase_steps": 20_000, "greedy_opponent": True}},
        6: {"maxmin": {"total_steps": 200_000, "phase_steps": 20_000, "greedy_opponent": True}},
    },
    "full": {
        L: {"isolated": {"total_steps": 300_000, "net_arch": (256, 256)},
            "self_play": {"total_steps": 1_000_000, "refresh_steps": 50_000, "net_arch": (256, 256)},
            "maxmin": {"total_steps": 2_000_000, "phase_steps": 50_000, "greedy_opponent": True,
                       "net_arch": (256, 256)}}
        for L in (4, 6)
    },
}
#: Distillation of the exact minimax reveals (:func:`mechsim.learners.distilled_debaters.distill_minimax_debater`),
#: on the training states' contested alternatives; not a PPO run, so none of ``_COMMON`` applies.
_DISTILLED = {"n_rollouts": 16, "explore": 0.35, "epochs": 20, "weight_decay": 0.01, "net_arch": (128, 128),
              "judge_inputs": True}
TRAINING["default"][4]["distilled"] = dict(_DISTILLED)
TRAINING["full"][4]["distilled"] = {**_DISTILLED, "n_rollouts": 48, "epochs": 30, "net_arch": (256, 256)}


class CachedDebatersError(MechsimError, RuntimeError):
    """The shipped debaters do not fit the judge and cannot be retrained here (no ``rl`` extra)."""


def debate_judge(mdp, n_evidence: int):
    """The fixed-seed judge for evidence budget L that the debaters of that L are trained against."""
    L = int(n_evidence)
    seed = JUDGE_SEEDS.get(L, 20_240_400 + L)
    return train_sepsis_judge(mdp, L, seed=seed, **JUDGE_SIZE)


def contested_alternatives(judge, mdp, base) -> np.ndarray:
    """``(713, D)`` bool: actions whose one-reveal debate against ``b(s)`` the first mover wins either way."""
    v = debate_win_table(judge, mdp.features[:N_PATIENT_STATES], base[:N_PATIENT_STATES], 1,
                         n_decisions=mdp.n_actions).values_by_first_mover
    contested = v[:, :, 0] > v[:, :, 1]
    contested[np.arange(N_PATIENT_STATES), base[:N_PATIENT_STATES]] = False
    return contested


def patient_split() -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) patient state indices: :data:`N_HELD_OUT` held out, seed :data:`SPLIT_SEED`."""
    return split_states(N_PATIENT_STATES, N_HELD_OUT, seed=SPLIT_SEED)


def wrong_candidates(contested, base, states, n_decisions: int) -> list[np.ndarray]:
    """Per state, the wrong decisions drawn in training: contested ones ``CONTESTED_WEIGHT`` times, others once."""
    out = []
    for s in states:
        others = np.setdiff1d(np.arange(n_decisions), [base[s]])
        out.append(np.concatenate([np.repeat(np.flatnonzero(contested[s]), CONTESTED_WEIGHT), others]))
    return out


def bundle_path(n_evidence: int, directory=None) -> Path:
    return Path(directory or DATA_DIR) / f"sepsis_L{int(n_evidence)}.npz"


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "torch", "stable-baselines3", "sb3-contrib", "gymnasium"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def train_bundle(n_evidence: int, *, scale: str = "default", regimes=None, seed: int = 0, out_dir=None,
                 command: str | None = None, mdp=None, extend: bool = False) -> tuple[Path, dict]:
    """Train the debaters of one L (needs the ``rl`` extra) and save them as a bundle; returns (path, metadata).

    ``extend=True`` keeps the debaters (and their training records) of an existing bundle at the same path,
    trained against the same judge, and adds or replaces only ``regimes``.
    """
    L = int(n_evidence)
    mdp = load_icu_sepsis() if mdp is None else mdp
    base = baseline_actions(mdp)
    judge = debate_judge(mdp, L)
    contested = contested_alternatives(judge, mdp, base)
    train, held_out = patient_split()
    wrong = wrong_candidates(contested, base, train, mdp.n_actions)
    x = mdp.features[train]
    greedy = GreedyDebater(judge)
    plan = TRAINING[scale][L]
    regimes = tuple(regimes or plan)

    def make_env(role, opponents, env_seed):
        return DebateTrainingEnv(judge, x, base[train], wrong, L, role, opponents, n_decisions=mdp.n_actions,
                                 judge_inputs=judge_inputs, seed=env_seed)

    debaters, runs, previous = {}, {}, None
    if extend and bundle_path(L, out_dir).is_file():
        # Add regimes to an existing bundle of the same judge, keeping its debaters and their records.
        old = load_debater_bundle(bundle_path(L, out_dir), judge=judge)
        check_judge_fingerprint(old, judge)
        debaters.update(old.debaters)
        runs.update(old.metadata.get("runs", {}))
        previous = {key: v for key, v in old.metadata.items() if key != "runs"}
    minimax = None
    for k, regime in enumerate(regimes):
        if regime == "distilled":
            kwargs = dict(plan[regime])
            minimax = minimax or MinimaxPoolDebater(judge, x, base[train], L, n_decisions=mdp.n_actions)
            pairs = [np.flatnonzero(contested[s]) for s in train]
            res = distill_minimax_debater(minimax, pairs, seed=seed + 101 * k, **kwargs)
            debaters[regime] = res.debater
            runs[regime] = {"positions": res.positions, "seconds": round(res.seconds, 1),
                            "losses": [round(v, 4) for v in res.losses],
                            "hyperparameters": {k2: (list(v) if isinstance(v, tuple) else v)
                                                for k2, v in kwargs.items()}}
            continue
        kwargs = {**_COMMON, **plan[regime]}
        extra = (greedy,) if kwargs.pop("greedy_opponent", False) else ()
        copies = int(kwargs.pop("minimax_opponent", 0))
        if copies:
            # The exact minimax debater on the training states, drawn `copies` times as often as the greedy one.
            minimax = minimax or MinimaxPoolDebater(judge, x, base[train], L, n_decisions=mdp.n_actions)
            extra = extra + (minimax,) * copies
        judge_inputs = kwargs.pop("judge_inputs", False)
        res = train_neural_debaters(make_env, regime, n_features=x.shape[1], n_decisions=mdp.n_actions,
                                    n_evidence=L, extra_opponents=extra, seed=seed + 101 * k,
                                    judge=judge if judge_inputs else None, **kwargs)
        debaters[regime] = res.debater
        if res.confuser is not None:
            debaters[regime + "_confuser"] = res.confuser
        hyper = {k2: (list(v) if isinstance(v, tuple) else v) for k2, v in kwargs.items()}
        runs[regime] = {"steps": res.steps, "seconds": round(res.seconds, 1),
                        "mean_rewards": [round(r, 4) for r in res.mean_rewards],
                        "hyperparameters": {**hyper, "greedy_opponent": greedy in extra, "minimax_opponent": copies,
                                            "judge_inputs": judge_inputs}}
    fp = judge_fingerprint(judge, mdp.features.shape[1], mdp.n_actions)
    meta = {"n_evidence": L, "scale": scale, "seed": seed, "judge": {"seed": JUDGE_SEEDS.get(L), **JUDGE_SIZE},
            "split": {"seed": SPLIT_SEED, "n_held_out": N_HELD_OUT, "n_train": int(train.size)},
            "contested_weight": CONTESTED_WEIGHT, "runs": runs, "versions": _versions(),
            "command": command or f"python -m mechsim.scenarios.sepsis_debaters --L {L}"
                                  + (" --full" if scale == "full" else ""),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "loadavg": _loadavg()}
    if previous is not None:
        meta["extends"] = previous  # how the kept debaters were made
    # float16 weights: the shipped bundles stay a few hundred KB; the stored (rounded) debaters are the ones used.
    path = save_debater_bundle(bundle_path(L, out_dir), debaters, judge_fingerprint=fp, metadata=meta,
                               weights_dtype="float16")
    return path, meta


def _loadavg() -> str | None:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:  # pragma: no cover - not Linux
        return None


def cached_debaters(judge, n_evidence: int, *, path=None, retrain: bool = True, deterministic: bool = True,
                    mdp=None):
    """The shipped (or ``path``) debaters for L, checked against ``judge``; returns (bundle, note).

    On a fingerprint mismatch (or a missing / damaged bundle) the debaters are retrained at default size if
    the ``rl`` extra is installed and ``retrain`` (into :data:`CACHE_DIR`, or next to an explicit ``path``;
    the note says so); otherwise :class:`CachedDebatersError` says why.
    """
    L = int(n_evidence)
    explicit = path is not None
    path = bundle_path(L) if path is None else Path(path)
    problem = None
    try:
        bundle = load_debater_bundle(path, deterministic=deterministic, judge=judge)
        gap = check_judge_fingerprint(bundle, judge)
        return bundle, f"cached bundle {path.name} (judge fingerprint matches, max gap {gap:.1e})"
    except (DebaterBundleError, JudgeFingerprintError) as exc:
        problem = str(exc)
    cached = bundle_path(L, CACHE_DIR)
    if not explicit and cached.is_file():  # retrained here before
        try:
            bundle = load_debater_bundle(cached, deterministic=deterministic, judge=judge)
            check_judge_fingerprint(bundle, judge)
            return bundle, f"bundle retrained earlier at default size, {cached} (shipped one unusable: {problem})"
        except (DebaterBundleError, JudgeFingerprintError):
            pass
    if not retrain:
        raise CachedDebatersError(f"cached debaters for L = {L} unusable ({problem}); retraining disabled")
    if any(importlib.util.find_spec(m) is None for m in ("torch", "stable_baselines3", "sb3_contrib")):
        raise CachedDebatersError(f"cached debaters for L = {L} unusable ({problem}), and retraining needs the `rl` "
                                  "extra (pip install 'mechsim[rl]')")
    # Retrained debaters go next to an explicit path, else to the user's cache (the package may be read-only).
    out = path.parent if explicit else CACHE_DIR
    new_path, _ = train_bundle(L, out_dir=out, mdp=mdp)
    bundle = load_debater_bundle(new_path, deterministic=deterministic, judge=judge)
    check_judge_fingerprint(bundle, judge)
    return bundle, f"retrained at default size ({problem})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the learned sepsis debaters (needs the rl extra).")
    parser.add_argument("--L", type=int, nargs="+", default=[4, 6])
    parser.add_argument("--full", action="store_true", help="paper-size networks and steps")
    parser.add_argument("--regimes", nargs="+", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--extend", action="store_true", help="add --regimes to the existing bundle")
    args = parser.parse_args(argv)
    cmd = "python -m mechsim.scenarios.sepsis_debaters " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        for L in args.L:
            path, meta = train_bundle(L, scale="full" if args.full else "default", regimes=args.regimes,
                                      seed=args.seed, out_dir=args.out_dir, command=cmd.strip(),
                                      extend=args.extend)
            secs = {k: v["seconds"] for k, v in meta["runs"].items()}
            print(f"L={L}: {path} ({path.stat().st_size / 1024:.0f} KB), seconds per regime {secs}")
    except RLExtraMissingError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
