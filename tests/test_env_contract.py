"""The official checkers on every registered environment, driven by :mod:`mechsim._registration`.

Every id of ``GYMNASIUM_ENVS`` goes through ``gymnasium.utils.env_checker.check_env`` (on the unwrapped
environment, as Gymnasium recommends) and a ``gymnasium.make`` reset/step; every id and kind of
``PETTINGZOO_ENVS`` through ``api_test`` (AEC), ``parallel_api_test`` (parallel), ``seed_test`` /
``parallel_seed_test``, ``max_cycles_test`` where the environment takes ``max_cycles``, ``render_test`` where
it renders, and the module layout of :mod:`mechsim.envs._template`.  Environments are built through the
registries (``gymnasium.make`` / ``pettingzoo.make``) with ``CHECK_KWARGS``, so adding one registry line is
enough to get a new environment checked.

The checkers' advice comes as ``UserWarning``; it fails the test here, except the advice listed in
:data:`ALLOWED_ADVICE`, which does not fit mechsim's environments on purpose.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pickle
import re
import types
import warnings

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo import ParallelEnv
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
)
from pettingzoo.utils import parallel_to_aec

import mechsim  # noqa: F401  (registers the environments)
from mechsim._registration import CHECK_KWARGS, GYMNASIUM_ENVS, PETTINGZOO_ENVS
from mechsim.envs._template import METADATA_KEYS, EnvTemplate, check_render_mode, text_frame
from mechsim.errors import InvalidInstanceError

#: Checker advice that mechsim's environments do not follow on purpose (regular expressions).
ALLOWED_ADVICE = (
    # MultiDiscrete actions (hiring) and Dict observations carrying an action mask (debate) are the right spaces.
    r"(Observation|Action) space for each agent probably should be gymnasium.spaces.box or gymnasium.spaces.discrete",
    # PettingZoo's action-mask convention: {"observation": ..., "action_mask": ...}.
    r"Observation is not a NumPy array",
    # A bidder observes one number, its value (Auction-v0's default): a one-element Box is the right space.
    r"Observation is a single number",
    # A legitimate observation (hiring: effort step, recommended effort 0).
    r"Observation numpy array is all zeros",
    # Agents in different roles have different spaces (principal and agent, debater and judge).
    r"The class of observation spaces is different between two agents",
    r"Agents have different (observation|action) space sizes",
)

API_CYCLES = 200
SEED_CYCLES = 50

GYM_IDS = list(GYMNASIUM_ENVS)
PZ_CASES = [(env_id, kind) for env_id, (entry_points, _) in PETTINGZOO_ENVS.items() for kind in entry_points]
PZ_IDS = list(PETTINGZOO_ENVS)


@contextlib.contextmanager
def checker_advice_fails():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for advice in ALLOWED_ADVICE:
            warnings.filterwarnings("ignore", message=f".*{advice}", category=UserWarning)
        yield


def make_pz(kind: str, env_id: str, **kwargs):
    return pettingzoo.make(kind, env_id, **{**CHECK_KWARGS.get(env_id, {}), **kwargs})


def kinds(env_id: str) -> dict[str, str]:
    return PETTINGZOO_ENVS[env_id][0]


def make_aec(env_id: str, **kwargs):
    """The AEC environment of ``env_id``: registered, or the AEC view of the registered parallel one."""
    if "aec" in kinds(env_id):
        return make_pz("aec", env_id, **kwargs)
    return parallel_to_aec(make_pz("parallel", env_id, **kwargs))


def takes_max_cycles(env_id: str) -> bool:
    module, attr = next(iter(kinds(env_id).values())).split(":")
    return "max_cycles" in inspect.signature(getattr(importlib.import_module(module), attr)).parameters


# ------------------------------------------------------------------------------------------------- Gymnasium
@pytest.mark.parametrize("env_id", GYM_IDS)
def test_gymnasium_check_env(env_id):
    env = gymnasium.make(env_id, **CHECK_KWARGS.get(env_id, {}))
    with checker_advice_fails():
        check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and isinstance(info, dict)
    env.action_space.seed(0)
    for _ in range(5):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and np.isfinite(reward)
        if terminated or truncated:
            obs, info = env.reset()
    env.close()


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_gymnasium_metadata_and_render_mode_check(env_id):
    cls = gymnasium.envs.registration.load_env_creator(gymnasium.spec(env_id).entry_point)
    assert {"render_modes", "render_fps"} <= set(cls.metadata)
    # An unknown mode is a warning, as in Gymnasium: the env is built and render() returns None.
    with pytest.warns(UserWarning, match="no-such-mode"):
        env = gymnasium.make(env_id, render_mode="no-such-mode", **CHECK_KWARGS.get(env_id, {}))
    env.reset(seed=0)
    assert env.unwrapped.render_mode is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert env.render() is None
    with pytest.raises(InvalidInstanceError, match="render_mode"):
        cls(render_mode=3, **CHECK_KWARGS.get(env_id, {}))


# ------------------------------------------------------------------------------------------------ PettingZoo
@pytest.mark.parametrize("env_id, kind", PZ_CASES)
def test_pettingzoo_api(env_id, kind):
    env = make_pz(kind, env_id)
    with checker_advice_fails():
        if kind == "aec":
            api_test(env, num_cycles=API_CYCLES)
        else:
            parallel_api_test(env, num_cycles=API_CYCLES)


@pytest.mark.parametrize("env_id, kind", PZ_CASES)
def test_pettingzoo_seed(env_id, kind):
    with checker_advice_fails():
        if kind == "aec":
            seed_test(lambda: make_pz("aec", env_id), num_cycles=SEED_CYCLES)
        else:
            parallel_seed_test(lambda: make_pz("parallel", env_id), num_cycles=SEED_CYCLES)


@pytest.mark.parametrize("env_id", PZ_IDS)
def test_pettingzoo_max_cycles(env_id):
    if not takes_max_cycles(env_id):
        pytest.skip(f"{env_id} takes no max_cycles")
    if "parallel" not in kinds(env_id):
        pytest.skip(f"{env_id} has no parallel kind, which max_cycles_test needs")
    # max_cycles_test reads env() and parallel_env() off a module; these are the registry's.
    module = types.SimpleNamespace(env=lambda **kw: make_aec(env_id, **kw),
                                   parallel_env=lambda **kw: make_pz("parallel", env_id, **kw))
    with checker_advice_fails():
        max_cycles_test(module)


@pytest.mark.parametrize("env_id", PZ_IDS)
def test_pettingzoo_render(env_id):
    modes = make_aec(env_id).metadata.get("render_modes", [])
    if not modes:
        pytest.skip(f"{env_id} does not render")
    with checker_advice_fails():
        render_test(lambda render_mode=None: make_aec(env_id, render_mode=render_mode))


@pytest.mark.parametrize("env_id, kind", PZ_CASES)
def test_pettingzoo_template(env_id, kind):
    """The layout of :mod:`mechsim.envs._template`: module names, metadata, cached spaces, render-mode check."""
    module = importlib.import_module(kinds(env_id)[kind].split(":")[0])
    assert callable(module.env) and isinstance(module.raw_env, type)
    assert hasattr(module, "parallel_env") == ("parallel" in kinds(env_id))
    env = make_pz(kind, env_id)
    meta = env.metadata
    assert set(METADATA_KEYS) - {"render_fps"} <= set(meta)
    assert "render_fps" in meta or not meta["render_modes"]
    assert re.fullmatch(r"[a-z_]+_v\d+", meta["name"])
    # Turn-based games are AEC only; parallel-first environments are parallelizable.
    assert bool(meta["is_parallelizable"]) == ("parallel" in kinds(env_id))
    env.reset(seed=0)
    for agent in env.possible_agents:
        assert re.fullmatch(r"[a-z]+_\d+", agent)
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
    with pytest.warns(UserWarning, match="no-such-mode"):
        quiet = make_pz(kind, env_id, render_mode="no-such-mode")
    quiet.reset(seed=0)
    assert quiet.unwrapped.render_mode is None
    with pytest.raises(InvalidInstanceError, match="render_mode"):
        make_pz(kind, env_id, render_mode=3)


# -------------------------------------------------------------------------------------- the template itself
class _BadlyNamedAgents(EnvTemplate, ParallelEnv):
    """A toy parallel environment that breaks one convention the checkers only warn about: agent names."""

    metadata = {"name": "toy_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, render_mode=None):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self.possible_agents = ["alice", "bob"]
        self.agents = []
        self._set_spaces(dict.fromkeys(self.possible_agents, gymnasium.spaces.Box(0, 1, (2,), np.float32)),
                         dict.fromkeys(self.possible_agents, gymnasium.spaces.Discrete(2)))

    def reset(self, seed=None, options=None):
        self._reseed(seed)
        self.agents = list(self.possible_agents)
        return {a: np.ones(2, np.float32) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        obs = {a: self._rng.random(2).astype(np.float32) for a in self.agents}
        done = dict.fromkeys(self.agents, True)
        rewards = dict.fromkeys(self.agents, 0.0)
        infos = {a: {} for a in self.agents}
        self.agents = []
        return obs, rewards, done, dict(done), infos


def test_checker_advice_fails_the_contract():
    with pytest.warns(UserWarning, match="<descriptor>_<number>"):
        api_test(parallel_to_aec(_BadlyNamedAgents()), num_cycles=5)  # passes with a warning only ...
    with pytest.raises(UserWarning, match="<descriptor>_<number>"), checker_advice_fails():
        api_test(parallel_to_aec(_BadlyNamedAgents()), num_cycles=5)  # ... which the contract turns into a failure


def test_check_render_mode():
    meta = {"render_modes": ["human", "ansi"]}
    assert check_render_mode(None, meta) is None and check_render_mode("ansi", meta) == "ansi"
    assert check_render_mode(None, {}) is None
    with pytest.warns(UserWarning, match=r"'rgb_array' is not one of this environment's modes"):
        assert check_render_mode("rgb_array", meta) is None
    with pytest.raises(InvalidInstanceError, match=r"render_mode: expected None or one of \['human', 'ansi'\], "
                                                   r"found 7") as err:
        check_render_mode(7, meta)
    assert err.value.argument == "render_mode" and isinstance(err.value, ValueError)


def test_text_frame_is_an_rgb_picture_of_the_text():
    frame = text_frame("agent_0: effort 1\nagent_1: effort 0")
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.min() < 100 and frame.max() == 255          # dark glyphs on a white page
    assert text_frame("a\nb\nc\nd").shape[0] > text_frame("a").shape[0]


def test_reseed_makes_a_generator_only_when_seeded_or_missing():
    env = _BadlyNamedAgents()
    assert env._rng is None
    assert env._reseed(None) and env._rng is not None
    first = env._rng
    assert not env._reseed(None) and env._rng is first  # unseeded resets continue the stream
    assert env._reseed(3) and env._rng.random() == np.random.default_rng(3).random()


def test_factories_look_like_module_functions():
    from mechsim.envs import debate, hiring

    assert hiring.env.__module__ == "mechsim.envs.hiring" and hiring.env.__qualname__ == "env"
    assert pickle.loads(pickle.dumps(hiring.parallel_env)) is hiring.parallel_env
    assert pickle.loads(pickle.dumps(hiring.raw_env)) is hiring.raw_env
    assert "max_cycles" in inspect.signature(hiring.env).parameters
    assert "n_evidence" in inspect.signature(debate.env).parameters
    assert hiring.raw_env.metadata["is_parallelizable"] and issubclass(hiring.raw_env, pettingzoo.AECEnv)
    e = hiring.env(max_cycles=4)
    assert isinstance(e.unwrapped, hiring.HiringParallelEnv) and isinstance(e.env, hiring.raw_env)
    assert isinstance(debate.env().env, pettingzoo.utils.wrappers.AssertOutOfBoundsWrapper)


def test_render_modes_of_the_template(capsys):
    from mechsim.envs import committee

    env = committee.parallel_env(render_mode="human")
    env.reset(seed=0)
    env.step({a: env.truthful_action(a) for a in env.agents})
    assert "committee [" in capsys.readouterr().out  # human mode prints after every step
    env = committee.parallel_env()
    with pytest.warns(UserWarning, match="without specifying any render mode"):
        assert env.render() is None
