"""Stable-Baselines3's ``VecEnv`` view of a Gymnasium vector env (such as the native recommender vector envs).

Stable-Baselines3 (2.x) trains on its own ``VecEnv`` API and cannot take a ``gymnasium.vector.VectorEnv``
(it would wrap it in a ``DummyVecEnv`` as if it were one environment).  :func:`sb3_vec_env` adapts one:

- SB3 resets a finished sub-env in the same step and hands its last observation over in
  ``info["terminal_observation"]``; Gymnasium 1.x vector envs reset on the next step (``NEXT_STEP``) or leave
  it to the caller (``DISABLED``).  The adapter resets the finished sub-envs at once with
  ``reset(options={"reset_mask": done})`` (continuing each sub-env's random stream, no new seed), so the
  vector env never sees a next-step autoreset and the learner gets SB3's semantics exactly: over
  :class:`~mechsim.envs.recommender_vector.RecommenderVectorEnv` it reproduces SB3's ``DummyVecEnv`` over
  the single env seed by seed.
- Gymnasium's dict of info arrays (with ``"_key"`` masks) becomes SB3's list of per-sub-env info dicts (the
  costs stay where a constrained learner reads them: ``infos[i]["cost"]``, ``infos[i]["costs"]``, ...), with
  ``"TimeLimit.truncated"`` set as ``DummyVecEnv`` sets it.
- ``seed(s)`` (SB3) seeds sub-env ``i`` with ``s + i`` at the next ``reset()``, as ``DummyVecEnv`` does.

Stable-Baselines3 is imported when the adapter is built, never by importing this module (it is in the ``rl``
extra).  Wrap the result in SB3's ``VecMonitor`` for episode statistics (``Monitor`` wraps single envs only)
and in ``VecNormalize`` as usual.
"""

from __future__ import annotations

import functools

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode

from mechsim.errors import InvalidInstanceError

__all__ = ["sb3_vec_env"]


def sb3_vec_env(env: gymnasium.vector.VectorEnv):
    """Stable-Baselines3 ``VecEnv`` over the Gymnasium vector env ``env`` (see the module docstring).

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        With next-step or disabled autoreset and support for ``reset(options={"reset_mask": ...})`` (mechsim's
        native vector envs, Gymnasium's ``SyncVectorEnv`` and ``AsyncVectorEnv``).

    Returns
    -------
    stable_baselines3.common.vec_env.VecEnv

    Examples
    --------
    >>> import gymnasium, mechsim                                             # doctest: +SKIP
    >>> from stable_baselines3 import PPO                                     # doctest: +SKIP
    >>> from mechsim.envs.sb3_vector import sb3_vec_env                       # doctest: +SKIP
    >>> vec = sb3_vec_env(gymnasium.make_vec("mechsim/Recommender-v0", num_envs=64))  # doctest: +SKIP
    >>> PPO("MlpPolicy", vec).learn(10_000)                                   # doctest: +SKIP
    """
    if not isinstance(env, gymnasium.vector.VectorEnv):
        raise InvalidInstanceError(f"env: expected a gymnasium.vector.VectorEnv, found {type(env).__name__}",
                                   argument="env")
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED):
        raise InvalidInstanceError(f"env: expected a vector env with next-step or disabled autoreset, found {mode}",
                                   argument="env")
    try:
        from stable_baselines3.common.vec_env import VecEnv
    except ImportError as err:  # pragma: no cover - the rl extra is missing
        raise ImportError("sb3_vec_env needs Stable-Baselines3: pip install 'mechsim[rl]'") from err
    return _adapter_class(VecEnv)(env)


def _split_info(info: dict, n: int) -> list[dict]:
    """Gymnasium's vector info (arrays with ``"_key"`` masks) as one dict per sub-env."""
    out: list[dict] = [{} for _ in range(n)]
    for key, value in info.items():
        if key.startswith("_") and key[1:] in info:
            continue
        mask = info.get("_" + key)
        if isinstance(value, dict):
            for i, sub in enumerate(_split_info(value, n)):
                if mask is None or mask[i]:
                    out[i][key] = sub
            continue
        for i in range(n):
            if mask is None or mask[i]:
                item = value[i]
                out[i][key] = item.item() if isinstance(item, np.generic) else item.copy() \
                    if isinstance(item, np.ndarray) else item
    return out


def _replace_rows(obs, new, rows: np.ndarray):
    if isinstance(obs, dict):
        return {key: _replace_rows(obs[key], new[key], rows) for key in obs}
    obs = np.array(obs, copy=True)
    obs[rows] = new[rows]
    return obs


def _rows(obs, i: int):
    if isinstance(obs, dict):
        return {key: _rows(obs[key], i) for key in obs}
    return np.array(obs[i], copy=True)


@functools.cache
def _adapter_class(vec_env_base: type) -> type:
    """The adapter class, built on first use so that SB3 is imported only then."""

    class GymnasiumVectorToSB3(vec_env_base):
        """SB3 ``VecEnv`` over a Gymnasium vector env (see :func:`sb3_vec_env`)."""

        def __init__(self, venv: gymnasium.vector.VectorEnv):
            self.venv = venv
            self._actions = None
            super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)

        def reset(self):
            seed = None if all(s is None for s in self._seeds) else list(self._seeds)
            options = self._options[0] if self._options and self._options[0] else None
            obs, info = self.venv.reset(seed=seed, options=options)
            self.reset_infos = _split_info(info, self.num_envs)
            self._reset_seeds()
            self._reset_options()
            return obs

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self):
            obs, reward, terminated, truncated, info = self.venv.step(self._actions)
            done = np.asarray(terminated) | np.asarray(truncated)
            infos = _split_info(info, self.num_envs)
            for i, item in enumerate(infos):
                item["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            if done.any():
                rows = np.flatnonzero(done)
                for i in rows.tolist():
                    infos[i]["terminal_observation"] = _rows(obs, i)
                new_obs, reset_info = self.venv.reset(options={"reset_mask": done.copy()})
                obs = _replace_rows(obs, new_obs, done)
                reset_infos = _split_info(reset_info, self.num_envs)
                for i in rows.tolist():
                    self.reset_infos[i] = reset_infos[i]
            return obs, np.asarray(reward, dtype=np.float32), done, infos

        def close(self) -> None:
            self.venv.close()

        def get_attr(self, attr_name: str, indices=None) -> list:
            value = getattr(self.venv, attr_name)
            return [value for _ in self._get_indices(indices)]

        def set_attr(self, attr_name: str, value, indices=None) -> None:
            setattr(self.venv, attr_name, value)  # one object holds every sub-env

        def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
            result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
            return [result for _ in self._get_indices(indices)]

        def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
            return [False for _ in self._get_indices(indices)]

        def get_images(self):
            frames = self.venv.render() if self.render_mode == "rgb_array" else None
            return list(frames) if frames is not None else [None for _ in range(self.num_envs)]

    return GymnasiumVectorToSB3
