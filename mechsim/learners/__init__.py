r"""Learners: algorithms that act over time.

This package is layer 3 of mechsim: it may call the domain models (layer 1) and the exact solvers (layer
2).  Its first family is the no-regret learners: Hedge, EXP3, regret matching and explore-then-commit.

Setting.  In round :math:`t = 1, \dots, T` a learner picks a distribution :math:`p_t` over :math:`K` actions,
the environment reveals a loss vector :math:`\ell_t \in [0, 1]^K` (full information) or only the loss
:math:`\ell_{t, a_t}` of the sampled action :math:`a_t \sim p_t` (bandit feedback), and the learner's
(expected-loss) regret against the best fixed action in hindsight is

.. math::

    R_T = \sum_{t=1}^T \langle p_t, \ell_t \rangle - \min_{i} \sum_{t=1}^T \ell_{t, i}.

Learners and the guarantees implemented here (each has a ``*_regret_bound`` function):

``Hedge`` (exponential weights, full information)
    :math:`p_{t, i} \propto \exp(-\eta_t L_{t-1, i})` with :math:`L_{t-1}` the cumulative loss.  With the
    horizon known, :math:`\eta = \sqrt{8 \ln K / T}` and :math:`R_T \le \sqrt{T \ln K / 2}` for *every*
    loss sequence; with an explicit fixed rate :math:`R_T \le \ln K / \eta + \eta T / 8`; without a horizon
    the anytime schedule :math:`\eta_t = \sqrt{8 \ln K / t}` gives
    :math:`R_T \le \sqrt{2 T \ln K} + \sqrt{\ln K / 8}` (Cesa-Bianchi and Lugosi 2006, Thms 2.2-2.3).
``Exp3`` (bandit feedback)
    The same exponential weights on importance-weighted loss estimates
    :math:`\tilde\ell_{t, i} = \ell_{t, i} \mathbf 1\{a_t = i\} / p_{t, i}` (unbiased).  Rate
    :math:`\eta = \sqrt{2 \ln K / (T K)}` with a known horizon, pseudo-regret
    :math:`\max_i \mathbb E[\sum_t \ell_{t, a_t} - \ell_{t, i}] \le \sqrt{2 T K \ln K}` against an oblivious
    adversary; anytime :math:`\eta_t = \sqrt{\ln K / (t K)}` gives :math:`2 \sqrt{T K \ln K}` (Bubeck and
    Cesa-Bianchi 2012, Thm 3.1).
``RegretMatching`` (repeated games, utilities)
    Play :math:`\sigma_t \propto (R_{t-1})_+`, the positive part of the cumulative regrets
    :math:`R_{t, i} = \sum_{s \le t} u_{s, i} - \langle \sigma_s, u_s \rangle` (uniform if none is positive).
    Blackwell approachability gives :math:`\max_i R_{T, i} \le \Delta \sqrt{K T}` for utilities in an interval
    of width :math:`\Delta` (Hart and Mas-Colell 2000).  ``plus=True`` is regret matching+ (regrets floored
    at zero after every update), same bound.  In two-player zero-sum self-play the average strategies
    converge to a Nash equilibrium: :func:`regret_matching_self_play` reports the exploitability.
``ExploreThenCommit`` (stochastic bandits, rewards)
    Pull every arm :math:`m` times round-robin, then commit to the arm with the best empirical mean.  The
    default :math:`m = \lceil (T/K)^{2/3} (\ln T)^{1/3} \rceil` balances exploration cost :math:`mK` against
    the commit error: by Hoeffding, with probability :math:`\ge 1 - 2K/T^2` every empirical mean is within
    :math:`\varepsilon = \sqrt{\ln T / m}` of its mean, so the pseudo-regret is at most
    :math:`m(K-1) + 2(T - mK)\varepsilon + 2K/T = O(T^{2/3} K^{1/3} (\ln T)^{1/3})`
    (Lattimore and Szepesvari 2020, ch. 6).

Every learner has a per-round interface (``probabilities``, ``act``, ``update``) and a batch method ``run``
that processes a whole ``(T, K)`` matrix.  ``Hedge.run`` is vectorised (cumulative sums, row-wise softmax, in
memory-bounded chunks); EXP3 and regret matching are inherently sequential, so ``run`` is a tight loop over
plain Python floats (numpy for more than :data:`SMALL_K` actions) with pre-drawn uniforms;
``ExploreThenCommit.run`` is vectorised and :func:`simulate_explore_then_commit` simulates a Bernoulli bandit
in aggregate (binomial draws), in O(K) for any horizon.  For the same seed ``run`` reproduces the per-round
interface exactly (same actions, same floating-point numbers).

Example
-------
>>> import numpy as np
>>> from mechsim.learners import Hedge, hedge_regret_bound
>>> losses = np.random.default_rng(0).random((10_000, 5))
>>> trace = Hedge(5, horizon=10_000, seed=0).run(losses)
>>> bool(trace.regret()[-1] <= hedge_regret_bound(10_000, 5))
True
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "_core": ["LearnerTrace", "SMALL_K"],
    "bounds": ["hedge_regret_bound", "exp3_regret_bound", "regret_matching_regret_bound", "etc_regret_bound",
               "etc_exploration_length"],
    "experts": ["Hedge"],
    "bandits": ["Exp3", "ExploreThenCommit", "EtcSimulation", "simulate_explore_then_commit"],
    "regret_matching": ["RegretMatching", "exploitability", "SelfPlayResult", "regret_matching_self_play"],
    "dynamics": ["NoRegretDynamics", "play_no_regret", "DYNAMICS_LEARNERS"],
    "bidding": ["BiddingDynamics", "learn_to_bid", "bid_utilities", "BIDDING_LEARNERS", "DEFAULT_VALUE_BINS",
                "TRAILING_FRACTION"],
    "multipliers": ["PIDController", "GradientMultiplier", "PIDMultiplier"],
    "policies": ["SoftmaxPolicy", "EpisodeBatch", "collect_episodes", "featurizer", "fit_linear_critic",
                 "policy_gradient_step"],
    "lagrangian": ["TabularLearnerResult", "SampleLearnerResult", "averaged_occupancy_policy", "lagrangian_tabular",
                   "pid_lagrangian_tabular", "lagrangian_sample", "pid_lagrangian_sample"],
    "tscac": ["TSCACResult", "TSCACSampleResult", "tscac_tabular", "tscac_sample", "tscac_target"],
    "debaters": ["BaseDebater", "RandomDebater", "GreedyDebater", "BeamDebater", "IsolatedDebater",
                 "PolicyGradientDebater", "ArguingFor", "TrainingResult", "train_debater", "DebateRecords",
                 "play_debates", "greedy_debate_values", "RobustnessReport", "measure_robustness"],
    "exact_debaters": ["MinimaxPoolDebater"],
    "distilled_debaters": ["DistillationResult", "distill_minimax_debater"],
    "debate_tables": ["LearnedDebateTable", "learned_win_table", "ArgmaxDebater", "TableAgreement",
                      "compare_tables"],
    "hiring_online": ["simulate_online", "OnlineResult", "empirical_bernstein_width", "learnable_instances"],
    "hiring_agents": ["independent_exp3_agents", "AgentLearningResult", "reporting_plans"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.learners", _EXPORTS, globals())
