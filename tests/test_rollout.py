"""The one episode loop, :func:`mechsim.rollout.rollout`, against hand-written loops."""

import gymnasium
import numpy as np
import pytest

import mechsim  # noqa: F401  (registers the environments)
from mechsim.errors import InvalidInstanceError
from mechsim.rollout import RolloutStats, rollout


class Counter(gymnasium.Env):
    """Observation t, reward t + 1, truncation after ``horizon`` steps; records the reset seeds."""

    def __init__(self, horizon=4):
        self.observation_space = gymnasium.spaces.Discrete(100)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.horizon = horizon
        self.seeds = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seeds.append(seed)
        self.t = 0
        return 0, {"start": True}

    def step(self, action):
        self.t += 1
        return self.t, float(self.t), False, self.t >= self.horizon, {"action": action}


def test_lengths_returns_and_callback_arguments():
    env = Counter(horizon=3)
    calls = []
    stats = rollout(env, lambda e, obs: obs % 2, 2, seeds=5,
                    on_step=lambda t, obs, a, r, info: calls.append((t, obs, a, r, info["action"])))
    assert isinstance(stats, RolloutStats)
    assert stats.lengths.tolist() == [3, 3] and stats.returns.tolist() == [6.0, 6.0] and stats.n_steps == 6
    assert env.seeds == [5, 6] and stats.seeds.tolist() == [5, 6]
    # The observation is the one the action was chosen at; t restarts at 0 with each episode.
    assert calls[:3] == [(0, 0, 0, 1.0, 0), (1, 1, 1, 2.0, 1), (2, 2, 0, 3.0, 0)] and calls[3][0] == 0


def test_max_steps_caps_episodes_and_choose_sees_the_env_as_passed():
    env = Counter(horizon=10)
    seen = []
    stats = rollout(env, lambda e, obs: seen.append(e) or 0, 3, max_steps=4)
    assert stats.lengths.tolist() == [4, 4, 4]
    assert all(e is env for e in seen)
    assert env.seeds == [None] * 3 and stats.seeds.tolist() == [-1, -1, -1]


def test_generator_seeds_interleave_with_the_policy_draws():
    """A Generator seed source draws each episode's seed when the episode starts, like a hand-written loop."""
    env = gymnasium.make("CartPole-v1")

    def play(rng):
        return rollout(env, lambda e, obs: int(rng.random() < 0.5), 4, seeds=rng)

    stats = play(np.random.default_rng(3))
    rng = np.random.default_rng(3)
    seeds, lengths = [], []
    for _ in range(4):
        seed = int(rng.integers(2**31 - 1))
        seeds.append(seed)
        env.reset(seed=seed)
        n, done = 0, False
        while not done:
            *_, terminated, truncated, _ = env.step(int(rng.random() < 0.5))
            n += 1
            done = terminated or truncated
        lengths.append(n)
    assert stats.seeds.tolist() == seeds and stats.lengths.tolist() == lengths
    np.testing.assert_array_equal(play(np.random.default_rng(3)).lengths, stats.lengths)


def test_sequence_seeds_and_options():
    env = Counter()
    rollout(env, lambda e, o: 0, 3, seeds=[7, 1, 7], options={"x": 1})
    assert env.seeds == [7, 1, 7]
    assert rollout(env, lambda e, o: 0, 0).lengths.shape == (0,)


@pytest.mark.parametrize("kwargs, argument", [
    ({"n_episodes": -1}, "n_episodes"), ({"max_steps": 0}, "max_steps"), ({"seeds": [1, 2]}, "seeds"),
    ({"seeds": "abc"}, "seeds"), ({"seeds": 1.5}, "seeds"),
])
def test_errors_name_the_argument(kwargs, argument):
    args = {"n_episodes": 3, **kwargs}
    with pytest.raises(InvalidInstanceError, match=argument):
        rollout(Counter(), lambda e, o: 0, args.pop("n_episodes"), **args)
