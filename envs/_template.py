"""The one layout of mechsim's environments (PettingZoo's classic module convention).

Every PettingZoo module of :mod:`mechsim.envs` exposes the three names PettingZoo's own environments do
(Terry et al., "PettingZoo: Gym for multi-agent reinforcement learning", NeurIPS 2021), so that the official
checkers, ``pettingzoo.make`` and RL libraries find them in the same place:

``raw_env``
    The AEC class: the native class of a turn-based game, or, for a parallel-first environment,
    :func:`aec_view` of its Parallel class (PettingZoo's ``parallel_to_aec`` without the wrappers).
``env(**kwargs)``
    ``raw_env(**kwargs)`` wrapped as PettingZoo's classic environments are (:func:`classic_env`):
    ``AssertOutOfBoundsWrapper`` where actions are discrete indices, then ``OrderEnforcingWrapper``.
``parallel_env(**kwargs)``
    The native Parallel class (:func:`parallel_factory`).  Turn-based games, where one agent acts per step,
    have none, as PettingZoo's classic board games have none: a parallel view would ask the idle agent for an
    action and ignore it.

Each environment class lists :class:`EnvTemplate` before ``ParallelEnv``/``AECEnv`` and follows the same
conventions:

- ``metadata`` has ``name`` (``"<name>_v<N>"``), ``render_modes``, ``is_parallelizable`` and, where
  rendering exists, ``render_fps`` (:data:`METADATA_KEYS`);
- spaces are built once in ``__init__`` and handed to :meth:`EnvTemplate._set_spaces`;
  ``observation_space(agent)`` and ``action_space(agent)`` return the same object on every call, as
  PettingZoo requires.  (``functools.lru_cache`` on the methods would do the same, but its cache lives on
  the class and keeps every environment ever built alive.)
- ``render_mode`` goes through :func:`check_render_mode`, the one check shared with the Gymnasium
  environments;
- ``reset(seed=...)`` seeds through :meth:`EnvTemplate._reseed`: a seed makes a fresh generator, no seed
  continues the current stream (a fresh unseeded one on the first reset);
- rendering is text: :meth:`EnvTemplate.render` returns ``_render_text()`` in ``"ansi"`` mode, prints it in
  ``"human"`` mode (where the environment also renders after every step) and draws it as an RGB frame
  (:func:`text_frame`) in ``"rgb_array"`` mode, the mode Stable-Baselines3's ``make_vec_env`` asks for.

A new environment copies one of :mod:`mechsim.envs.hiring` (parallel-first) or :mod:`mechsim.envs.debate`
(turn-based) and adds one line to :mod:`mechsim._registration`; ``tests/test_env_contract.py`` then runs the
official checkers on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from mechsim.errors import InvalidInstanceError
from mechsim.validation import as_generator

__all__ = ["METADATA_KEYS", "EnvTemplate", "aec_view", "check_render_mode", "classic_env", "parallel_factory",
           "text_frame"]

#: Keys every PettingZoo environment's ``metadata`` has (``render_fps`` only where ``render_modes`` is not empty).
METADATA_KEYS = ("name", "render_modes", "is_parallelizable", "render_fps")


def check_render_mode(render_mode: str | None, metadata: Mapping[str, Any]) -> str | None:
    """Return ``render_mode`` after checking that the environment offers it.

    As Gymnasium's ``make`` does, an unknown mode is a warning, not an error: the environment is built without
    rendering (``render_mode`` None, which Gymnasium's checkers require of an unsupported mode), so RL
    libraries that pass a mode to every environment still get a working one.

    Parameters
    ----------
    render_mode : str or None
        The requested mode; ``None`` (no rendering) is always accepted.
    metadata : mapping
        The environment's metadata; its ``"render_modes"`` lists the modes offered.

    Raises
    ------
    InvalidInstanceError
        (a ``ValueError``) if ``render_mode`` is neither ``None`` nor a string.
    """
    modes = list(metadata.get("render_modes", ()))
    if render_mode is None or render_mode in modes:
        return render_mode
    if not isinstance(render_mode, str):
        raise InvalidInstanceError(f"render_mode: expected None or one of {modes}, found {render_mode!r}",
                                   argument="render_mode")
    gymnasium.logger.warn(f"render_mode: {render_mode!r} is not one of this environment's modes {modes}; "
                          "rendering is off")
    return None


def text_frame(text: str, *, width: int | None = None) -> np.ndarray:
    """Draw ``text`` (monospace, black on white) as an ``(H, W, 3)`` uint8 RGB frame.

    The frame's size follows the text (about 7 x 14 pixels a character, ``width`` pixels wide if given), so
    that video recorders of Gymnasium and Stable-Baselines3 get a picture of what ``"ansi"`` mode prints.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lines = str(text).splitlines() or [""]
    cols = max(len(line) for line in lines)
    dpi = 100
    w = width or max(64, 7 * cols + 16)
    h = max(32, 14 * len(lines) + 16)
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor="white")
    fig.text(8 / w, 1 - 8 / h, "\n".join(lines), family="monospace", fontsize=8.5, va="top", ha="left")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class EnvTemplate:
    """What mechsim's PettingZoo environments share: cached spaces, the render dispatch and seeding.

    Subclasses list it before ``ParallelEnv`` or ``AECEnv``, set ``metadata``, call
    :meth:`_set_spaces` in ``__init__`` and set ``self.render_mode = check_render_mode(render_mode,
    self.metadata)``, call :meth:`_reseed` in ``reset`` and implement ``_render_text()``.
    """

    metadata: ClassVar[dict[str, Any]]
    render_mode: str | None = None
    #: The episode generator; None until the first reset.
    _rng: np.random.Generator | None = None

    # ------------------------------------------------------------------------------------ spaces
    def _set_spaces(self, observation_spaces: Mapping, action_spaces: Mapping) -> None:
        """Keep the per-agent spaces built in ``__init__``; the accessors return these very objects."""
        self._observation_spaces = dict(observation_spaces)
        self._action_spaces = dict(action_spaces)

    def observation_space(self, agent):
        return self._observation_spaces[agent]

    def action_space(self, agent):
        return self._action_spaces[agent]

    # ----------------------------------------------------------------------------------- seeding
    def _reseed(self, seed) -> bool:
        """Make ``self._rng`` from ``seed`` if one is given or none exists yet; return whether it did.

        An unseeded reset continues the current stream, so that ``reset(seed=s)`` followed by unseeded
        resets replays the same sequence of episodes.
        """
        if seed is None and self._rng is not None:
            return False
        self._rng = as_generator(seed)
        return True

    # --------------------------------------------------------------------------------- stepping
    def _finish_parallel_step(self, agents, done: bool, observations, rewards, infos):
        """The tail of a parallel ``step``: nobody terminates, everybody truncates when ``done`` (which also
        empties ``self.agents``), a ``"human"`` render; returns the five dicts of the Parallel API."""
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, done)
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    # --------------------------------------------------------------------------------- rendering
    def _render_text(self) -> str:  # pragma: no cover - every environment overrides it
        raise NotImplementedError

    def render(self):
        """The state as text in ``"ansi"`` mode, printed in ``"human"`` mode, an RGB frame in ``"rgb_array"``."""
        if self.render_mode is None:
            gymnasium.logger.warn("You are calling render method without specifying any render mode.")
            return None
        text = self._render_text()
        if self.render_mode == "human":
            print(text)
            return None
        if self.render_mode == "rgb_array":
            return text_frame(text)
        return text

    def close(self):
        pass


def _keyword_signature(cls: type) -> inspect.Signature:
    """The signature of ``cls(...)`` with every parameter keyword-only, as the factories take them."""
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
              else p for p in inspect.signature(cls).parameters.values()]
    return inspect.Signature(params)


def _named(obj, name: str, module: str, doc: str):
    # Named as if defined in the environment's module: pickle, Sphinx and tracebacks find them there.
    obj.__name__ = obj.__qualname__ = name
    obj.__module__ = module
    obj.__doc__ = doc
    return obj


def aec_view(parallel_cls: type) -> type:
    """PettingZoo's ``raw_env`` of a parallel-first environment: the AEC class viewing ``parallel_cls``.

    Instances are ``parallel_to_aec_wrapper(parallel_cls(**kwargs))``: the agents act in turn and the
    parallel step resolves once every live agent has acted.

    Parameters
    ----------
    parallel_cls : type
        The native ``ParallelEnv`` class.
    """

    class raw_env(parallel_to_aec_wrapper):  # noqa: N801 - PettingZoo's module convention
        metadata: ClassVar[dict[str, Any]] = {**parallel_cls.metadata, "is_parallelizable": True}

        def __init__(self, *args, **kwargs):
            super().__init__(parallel_cls(*args, **kwargs))

    raw_env.__init__.__signature__ = inspect.signature(parallel_cls.__init__)
    return _named(raw_env, "raw_env", parallel_cls.__module__,
                  f"AEC view of :class:`{parallel_cls.__name__}` (agents act in turn, then the parallel step "
                  f"resolves); takes the arguments of :class:`{parallel_cls.__name__}`.")


def classic_env(raw_env_cls: type, *, assert_out_of_bounds: bool = False) -> Callable:
    """PettingZoo's ``env()``: ``raw_env_cls(**kwargs)`` wrapped as the classic environments are.

    Parameters
    ----------
    raw_env_cls : type
        The AEC class (``raw_env``).
    assert_out_of_bounds : bool, default False
        Add ``AssertOutOfBoundsWrapper`` first (for discrete actions, as PettingZoo's classic games do).
    """

    def env(**kwargs):
        e = raw_env_cls(**kwargs)
        if assert_out_of_bounds:
            e = wrappers.AssertOutOfBoundsWrapper(e)
        return wrappers.OrderEnforcingWrapper(e)

    extra = "``AssertOutOfBoundsWrapper`` and " if assert_out_of_bounds else ""
    env.__signature__ = _keyword_signature(raw_env_cls)
    return _named(env, "env", raw_env_cls.__module__,
                  f"The AEC environment: ``raw_env(**kwargs)`` wrapped in {extra}``OrderEnforcingWrapper``.")


def parallel_factory(parallel_cls: type) -> Callable:
    """PettingZoo's ``parallel_env()`` of a parallel-first environment: ``parallel_cls(**kwargs)``."""

    def parallel_env(**kwargs):
        return parallel_cls(**kwargs)

    parallel_env.__signature__ = _keyword_signature(parallel_cls)
    return _named(parallel_env, "parallel_env", parallel_cls.__module__,
                  f"The Parallel environment: :class:`{parallel_cls.__name__}` with these keyword arguments.")
