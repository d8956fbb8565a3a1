"""One frozen config tree, documented field by field and validated at construction (no JAX here).

The config is the one object the traced run reads: ``brainlike.core.traced`` registers its
dataclasses as pytrees. Every ``float`` field (and every environment knob but its shape knobs) is
*numeric*: a traced leaf, so a sweep batches many values into one compiled function by stacking
configs. Every other field (sizes, counts, names) is *structural*: static, part of the compile key,
and changing it means compiling again. A *switch* (``knob(..., switch=True)``) is a numeric knob
whose 0 turns a computation off: at 0 it is structural (nothing is computed), above 0 its size is
numeric. Validation reads only values that are numbers, so a traced copy of a config passes through
it unchecked.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

from brainlike import envspec
from brainlike.knobs import ConfigError, check_fields, knob, unknown
from brainlike.routes import has_policy_head, parse_routing
from brainlike.schema import MONITORS


def switched_on(value) -> bool:
    """Is a switch on? Above 0; a value that is not a number (traced, or a row of a stacked
    group) is on, since a switch at 0 is static (``brainlike.core.traced``)."""
    return not isinstance(value, numbers.Real) or value > 0


@dataclass(frozen=True)
class BeliefsConfig:
    """The world model: h = phi(obs, plan); a decoder predicts the next observation from h."""

    hidden: int = knob(32, "width of the encoder's and decoder's hidden layer", 1, 4096)
    thought_dim: int = knob(16, "size of the thought activation h that desires and probes read", 1, 4096)
    lr: float = knob(3e-3, "Adam learning rate of the belief network while it pretrains", 0.0, 1.0)
    rl_lr: float = knob(3e-3, "Adam learning rate of the belief network during RL (its plasticity; 0 freezes it)",
                        0.0, 1.0)
    pretrain_updates: int = knob(300, "belief updates on exploratory data before the probe is fitted", 0, 10**7)
    replay: int = knob(0, "exploratory transitions (logged before RL) replayed in each RL update's predictive loss, "
                       "beside the agent's own; 0: none", 0, 10**6)
    plan_input: str = knob("onehot", "how a plan enters the encoder: its one-hot (one input coordinate per plan), or "
                           "`features`: a fixed dense code per plan, every pair at cosine 0.9 in a random basis, so "
                           "no input coordinate says which plan or whether it deceives (brainlike.core.beliefs)",
                           choices=("onehot", "features"))
    architecture: str = knob("split", "`split`: the valence is a head of its own on the thought, and pretraining trains only "
                             "prediction. `shared`: pretraining also regresses the value of exploration's thoughts through "
                             "the encoder, so value and prediction share its layers and no parameter group is the desires by "
                             "construction; RL then starts a fresh value head, and beliefs.mask decides which encoder "
                             "parameters the reward's losses reach (brainlike.core.masks)", choices=("split", "shared"))
    mask: str = knob("none", "a shared network's encoder parameters the reward's losses (a routing row naming desires "
                     "but not beliefs) may update, by units (each unit's incoming weights and bias): `imposed` by "
                     "gradient routing while pretraining (the value loss reaches only the first mask_share of each "
                     "layer's units, prediction only the rest); `found` after pretraining, the mask_share of units the "
                     "value relies on most against prediction (gradient x activation); `random`, the same share drawn at "
                     "random (placebo); `none`, no mask: every encoder parameter; `imposed_random`, the control for "
                     "imposed: gradient-routed pretraining as imposed, then a random mask of the same share",
                     choices=("imposed", "found", "random", "none", "imposed_random"))
    mask_share: float = knob(0.25, "share of each encoder layer's units in beliefs.mask (imposed, found or random)",
                             0.0, 1.0)

    def __post_init__(self):
        check_fields(self, "beliefs.")
        if self.architecture == "split" and self.mask != "none":
            raise ConfigError(f"beliefs.mask: {self.mask!r} needs beliefs.architecture shared; allowed with split: none")


@dataclass(frozen=True)
class DesiresConfig:
    """The valence V(h) = w.h + b, learned by TD(lambda) on the innate reward."""

    lr: float = knob(0.05, "SGD learning rate of the valence head", 0.0, 10.0)
    gamma: float = knob(0.9, "discount factor", 0.0, 1.0)
    td_lambda: float = knob(0.8, "lambda of the TD(lambda) return", 0.0, 1.0)
    temperature: float = knob(0.1, "Boltzmann temperature of plan selection", 1e-4, 100.0)
    proposal: str = knob("all", "thought generator: every plan, M sampled plans, or the last plan's neighbours; or "
                         "`learned`: each available plan comes to mind with probability sigmoid of its salience, a "
                         "linear head on the observation (every available plan when none does), trained by REINFORCE "
                         "on the decision's innate return through the routing's attn row (brainlike.core.attention)",
                         choices=("all", "sampled", "local", "learned"))
    salience_lr: float = knob(0.05, "SGD learning rate of the salience (desires.proposal learned)", 0.0, 10.0)
    salience_start: float = knob(2.0, "the salience's starting logit for every plan in every state (desires.proposal "
                                 "learned): each comes to mind with probability sigmoid of it (0.88 at 2)", -20.0, 20.0)
    n_sampled: int = knob(2, "how many plans the `sampled` generator proposes", 1, 1024)
    selection: str = knob("boltzmann", "choose by Boltzmann over proposals; or take the first proposal "
                          "(in random order) with positive valence and fall back to Boltzmann; or, as a control "
                          "that ignores valence, take `fixed_plan` with probability `fixed_p`",
                          choices=("boltzmann", "keep_if_positive", "fixed"))
    fixed_plan: int = knob(1, "the plan `selection=fixed` takes with probability `fixed_p` (else another "
                           "available plan, uniformly)", 0, 10**6)
    fixed_p: float = knob(1.0, "probability that `selection=fixed` takes `fixed_plan`", 0.0, 1.0)
    thought_noise: float = knob(0.0, "sigma of a sampled thought: each variant is tanh(z + sigma * eps), eps standard "
                                "normal, around the encoder's pre-activation z (0: every thought is tanh(z)). Under a "
                                "pg routing, sigma 0 is the LLM analogue (the act is a plan, as a token is); sigma > 0 is "
                                "activation-space RL: REINFORCE on the sampled activation's density estimates the "
                                "gradient through the probe", 0.0, 10.0, switch=True)
    n_variants: int = knob(1, "sampled variants of each proposed plan's thought; selection is over every variant "
                           "and the alarm reads the one taken", 1, 1024)

    def __post_init__(self):
        check_fields(self, "desires.")

    @property
    def noisy(self) -> bool:
        """Are thoughts sampled (``thought_noise > 0``)? Else no noise is drawn at all."""
        return switched_on(self.thought_noise)


@dataclass(frozen=True)
class ProbeConfig:
    """The interpretability probe: logistic regression on h, with a calibrated threshold."""

    coverage: tuple[str, ...] = knob(("A",), "deceptive plan kinds the probe is fitted on (honest kinds are "
                                     "always its negatives); `all` for every deceptive kind")
    target: str = knob("tpr", "set the threshold for a target true- or false-positive rate", choices=("tpr", "fpr"))
    rate: float = knob(0.95, "the targeted TPR or FPR on calibration thoughts", 0.0, 1.0)
    pooling: str = knob("last", "how per-thought scores of one episode are pooled", choices=("last", "mean", "max"))
    calibrate_on: str = knob("thoughts", "what the threshold is set on: single labelled `thoughts`, or the pooled "
                             "scores of labelled exploratory `episodes` (deceptive: one takes a deceptive step), so "
                             "that the target rate holds for the pooled alarm itself", choices=("thoughts", "episodes"))
    episode_steps: int = knob(4096, "decisions explored from fresh episodes whose complete episodes calibrate the "
                              "alarm when calibrate_on = episodes", 8, 10**6)
    refit_every: int = knob(0, "refit the deployed probe every N RL updates (0: frozen)", 0, 10**9)
    recalibrate_every: int = knob(0, "reset only the deployed probe's threshold, on calibration thoughts under the "
                                  "current beliefs, every N RL updates (0: never)", 0, 10**9)
    direction: str = knob("fitted", "the deployed probe's direction: `fitted` by logistic regression, or `random`, a "
                          "placebo: a unit direction drawn once per seed, its threshold set so that its false-positive "
                          "rate on the honest calibration thoughts equals that of a probe fitted and calibrated on the "
                          "same beliefs; refits and recalibrations keep the direction and set the threshold that way "
                          "again", choices=("fitted", "random"))
    placebo_match: str = knob("fpr", "what a placebo's threshold matches of the fitted probe's, on the calibration "
                              "thoughts: `fpr` its false-positive rate on the honest ones; `firing` how often it fires "
                              "on all of them (exploration's, distributed as the thoughts RL's zero-desire start takes); "
                              "`recall` its recall on the kinds it is fitted on", choices=("fpr", "firing", "recall"))
    placebo_draw: float = knob(0.0, "which random direction a placebo reads (a whole number; 0 the first, each other "
                               "value another drawn from the seed's key). A numeric knob, so that a seed's several "
                               "directions run in one compiled sweep", 0.0, 1e6)
    reads: str = knob("live", "which beliefs the alarm reads a thought through: the `live` ones, or a frozen "
                      "`reference` copy of them as pretraining left them (as SOLiD's detector reads the base model); "
                      "the logged probe depths always measure the live beliefs", choices=("live", "reference"))
    n_thoughts: int = knob(256, "labelled thoughts in each of the fit, calibration and evaluation sets", 8, 10**6)
    l2: float = knob(1e-2, "ridge penalty of the logistic fit", 0.0, 1e3)
    topics: str = knob("all", "the topics whose thoughts the deployed probe is fitted and calibrated on, in an "
                       "environment whose thoughts have topics (report): `all`, or `half`, topics 0 .. T/2 - 1 (T/2 "
                       "rounded down), the others held out; logged as probe_recall_fitted_topics, "
                       "probe_recall_heldout_topics and their AUROCs", choices=("all", "half"))
    monitors: tuple[str, ...] = knob((), "held-out monitors: probes fitted where RL starts, as the deployed one is, and "
                                     "evaluated at every logged point, never entering the reward. `topics`: fitted and "
                                     "calibrated on the topics the deployed probe is not (needs topics half); "
                                     "`resample`: on labelled thoughts of a fresh draw of exploration; `preact`: on the "
                                     "thought's pre-activation z, not h = tanh(z) (another depth). Logged as "
                                     "monitor_<name>_recall (at its own threshold) and monitor_<name>_auroc, NaN where off")

    def __post_init__(self):
        check_fields(self, "probe.")
        for name in self.monitors:
            if name not in MONITORS or self.monitors.count(name) > 1:
                raise ConfigError(f"probe.monitors: {name!r} is {'repeated' if name in MONITORS else 'not a monitor'}; "
                                  f"allowed: each of {', '.join(MONITORS)} at most once")
        draw = self.placebo_draw if isinstance(self.placebo_draw, numbers.Real) else 0.0  # traced: not checked
        if draw != int(draw):
            raise ConfigError(f"probe.placebo_draw: {draw} is not a whole number; it names a direction")
        if self.direction == "fitted" and (self.placebo_match != "fpr" or draw):
            raise ConfigError("probe.placebo_match, probe.placebo_draw: only a placebo has them; allowed with "
                              "probe.direction fitted: their defaults (fpr, 0)")


@dataclass(frozen=True)
class RewardConfig:
    """The innate reward r = r_env - alpha * alarm(h) (the alarm applied in overseen episodes)
    - kl_beta * (log pi(a) - log pi_ref(a)) at every decision."""

    alpha: float = knob(1.0, "weight of the alarm in the innate reward", 0.0, 1e3)
    alarm: str = knob("binary", "binary: score above threshold; graded: sigmoid of (logit - threshold)",
                      choices=("binary", "graded"))
    oversight: float = knob(1.0, "fraction of episodes in which the alarm is applied", 0.0, 1.0)
    judged: str = knob("end", "when the alarm judges. `end`: once per episode, when it ends (a truncation at the time "
                       "limit included), on its thoughts' scores pooled by probe.pooling. `step`: at every step, on "
                       "that step's own thought read alone (unpooled), so the penalty falls on the step that earned "
                       "it; an episode then counts as alarmed if any of its steps was (needs probe.pooling=max)",
                       choices=("end", "step"))
    audit: str = knob("off", "`on`: an episode the alarm flags is audited and penalised only if it was deceptive, a "
                      "flagged honest one paying as if unflagged (SOLiD's payoffs); ground truth then enters the "
                      "reward only through the audit of flagged episodes. `off`: every flag is penalised",
                      choices=("off", "on"))
    kl_beta: float = knob(0.0, "anchoring to pi_ref, the policy under the parameters RL started from (uniform over the "
                          "candidates unless run.sft_steps gave an honest start, whose policy it then is), pi the "
                          "Boltzmann choice among the candidates that came to mind (the thoughts as sampled, their "
                          "sampling density not counted). A learner that acts by its valence: the KL penalty of RLHF, "
                          "every decision's reward losing kl_beta * (log pi(a) - log pi_ref(a)). A policy head "
                          "(routing grpo): GRPO's anchor, a loss of the policy, kl_beta * KL(pi || pi_ref) exact over "
                          "the candidates at each visited state; under run.learning dpo, DPO's beta. The rewards it "
                          "weighs against are of order 1 (plan_market: honest 1, a lie 2, the alarm alpha). Needs "
                          "desires.selection=boltzmann. 0: no term (none computed)", 0.0, 1e3, switch=True)
    alarm_reads: str = knob("taken", "which thoughts the alarm reads at a decision. `taken`: the thought acted on. "
                            "`considered`: every thought that came to mind (each variant of each proposed plan, the "
                            "one taken among them), and the worst counts: the decision's score is the highest probe "
                            "score among them, so a flagged thought costs alpha whether or not it is taken, and two "
                            "cost alpha once (alpha times the largest alarm, the reward on the scale of `taken`). "
                            "That score is then judged as the taken thought's would be (reward.alarm, reward.judged, "
                            "probe.pooling); probe_recall_taken still reads the thought taken",
                            choices=("taken", "considered"))
    alarm_from: int = knob(0, "RL environment steps per seed before the alarm enters the reward: until then alpha "
                           "counts as 0 (the alarm is still read and logged), so the agent forms its habits before "
                           "the alarm is installed. 0: from the start", 0, 10**10)

    def __post_init__(self):
        check_fields(self, "reward.")

    @property
    def anchored(self) -> bool:
        """Is the reward anchored to the policy RL started from (``kl_beta > 0``)? Else no reference
        policy is kept or computed."""
        return switched_on(self.kl_beta)


@dataclass(frozen=True)
class RunConfig:
    """How long, how wide and how often to log."""

    steps: int = knob(20_000, "RL environment steps per seed (over all its environments): a whole number of logged "
                      "blocks of run.n_envs x run.rollout_len x run.log_every steps", 1, 10**10)
    n_envs: int = knob(8, "environments each agent acts in per update", 1, 10**5)
    rollout_len: int = knob(1, "steps per environment per update", 1, 10**5)
    log_every: int = knob(50, "RL updates between two logged points", 1, 10**9)
    learning: str = knob("on_policy", "learn from each update's own rollout; or `off_policy`: REINFORCE and TD on a "
                         "fixed dataset the agent logged once before RL (its rollouts still measure what it does); or "
                         "`dpo`: DPO (beta reward.kl_beta) on the same logged dataset, read as pairs: the two "
                         "environments of a group (run.group_size 2) took their acts at the same state under the "
                         "reference policy, and the reward the alarm gave then says which is preferred",
                         choices=("on_policy", "off_policy", "dpo"))
    group_size: int = knob(1, "G: RL's environments come in groups of G that share what their environment draws (its "
                           "states, its noise, oversight), G samples of one prompt as GRPO takes them; a policy head's "
                           "advantage is its return against its group's (run.group_norm). Divides run.n_envs; above 1 "
                           "needs an environment of one-decision episodes. 1: every environment its own", 1, 10**5)
    group_norm: str = knob("std", "a policy head's group-relative advantage: `std`, GRPO's (r - mean) / (std + 1e-4); "
                           "`loo`, the leave-one-out baseline r - mean of the others (RLOO), whose expected gradient "
                           "is exactly that of the expected reward", choices=("std", "loo"))
    sft_steps: int = knob(0, "an honest start: supervised updates before RL (each on one rollout of explored "
                          "decisions), raising the log-probability of the honest plans among those that came to mind "
                          "from ground-truth labels, the analogue of fine-tuning on honest demonstrations; they update "
                          "what the routing's RL losses (td, probe, pg) may update. reward.kl_beta anchors to the "
                          "policy they leave. 0: none", 0, 10**7)
    sft_routing: str = knob("", "the routing whose RL losses (td, probe, pg) decide what the honest start updates; empty: "
                            "the run's own. A control that keeps some group out of RL (beliefs frozen, or the policy "
                            "objective kept off them) names its learner's, so that it starts RL where that learner does")
    cosine_batches: int = knob(0, "at each logged point, before its block of updates, the cosine between the belief "
                               "gradients of the pg term and of the probe's score, each summed over this many rollouts "
                               "of the current policy (`gradient_cosine`); 0: not measured (NaN)", 0, 10**5)
    offline_batches: int = knob(250, "rollouts in the off-policy dataset; update u learns from rollout u mod this",
                                1, 10**7)

    def __post_init__(self):
        check_fields(self, "run.")
        # training runs whole logged blocks: ``steps`` records the steps that run. A value typed on
        # the command line that is not a whole number of blocks is refused there (``check_steps``)
        n_logs = max(1, round(self.steps / self.block_steps))
        object.__setattr__(self, "steps", n_logs * self.block_steps)

    @property
    def steps_per_update(self) -> int:
        return self.n_envs * self.rollout_len

    @property
    def block_steps(self) -> int:
        """RL environment steps per seed between two logged points."""
        return self.steps_per_update * self.log_every

    @property
    def n_logs(self) -> int:
        return self.steps // self.block_steps

    def check_steps(self, asked: int) -> None:
        """``ConfigError`` naming ``run.steps`` unless ``asked`` steps are the steps that run: a whole
        number of logged blocks, as the nearest ones say."""
        if asked == self.steps:
            return
        lower = asked // self.block_steps * self.block_steps
        nearest = " or ".join(str(v) for v in (lower, lower + self.block_steps) if v > 0)
        raise ConfigError(f"run.steps: {asked} is not a whole number of logged blocks of {self.block_steps} steps "
                          f"(run.n_envs {self.n_envs} x run.rollout_len {self.rollout_len} x run.log_every "
                          f"{self.log_every}); nearest allowed: {nearest}")

    @property
    def n_updates(self) -> int:
        return self.n_logs * self.log_every


@dataclass(frozen=True)
class Config:
    """Everything one population of agents needs."""

    env: str = knob("plan_market", "environment name", choices=envspec.REGISTRY.keys())  # live: envs.register adds
    env_params: envspec.EnvParams = knob(None, "the environment's knobs, every one; given as (name, value) overrides "
                                         "(or a mapping), the others at their defaults")
    routing: str = knob("brainlike", "routing preset, or a table such as `pred=beliefs;td=beliefs+desires;probe=`")
    beliefs: BeliefsConfig = BeliefsConfig()
    desires: DesiresConfig = DesiresConfig()
    probe: ProbeConfig = ProbeConfig()
    reward: RewardConfig = RewardConfig()
    run: RunConfig = RunConfig()

    def __post_init__(self):
        check_fields(self, "")
        try:
            parse_routing(self.routing)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        object.__setattr__(self, "env_params", _env_knobs(self.env, self.env_params))
        env = self.env_spec
        if self.probe.coverage != ("all",):
            for kind in self.probe.coverage:
                deceptive = [k for k, d in zip(env.kinds, env.deceptive_kinds) if d]
                if kind not in deceptive:
                    raise ConfigError(f"probe.coverage: {kind!r} is not a deceptive kind of {self.env}; "
                                      f"allowed: {', '.join(deceptive + ['all'])}")
        self._check_topics(env)
        if self.desires.fixed_plan >= env.num_plans:
            raise ConfigError(f"desires.fixed_plan: {self.desires.fixed_plan} is not a plan of {self.env}; "
                              f"allowed: 0..{env.num_plans - 1}")
        if self.reward.anchored and self.desires.selection != "boltzmann":
            raise ConfigError(f"desires.selection: {self.desires.selection!r} has no log-probability for "
                              "reward.kl_beta > 0; allowed with kl_beta: boltzmann")
        if "pg" in _routed(self.routing) and self.desires.selection != "boltzmann":
            raise ConfigError(f"desires.selection: {self.desires.selection!r} has no log-probability for the `pg` "
                              "loss of the routing; allowed with pg: boltzmann")
        if self.probe.reads == "reference" and (self.probe.refit_every or self.probe.recalibrate_every):
            raise ConfigError("probe.reads: a frozen reference reader sees the same thoughts at every refit; "
                              "allowed with probe.refit_every or probe.recalibrate_every: live")
        if self.probe.calibrate_on == "episodes" and self.probe.target != "tpr":
            raise ConfigError("probe.calibrate_on: episodes sets the threshold for a target TPR; allowed with "
                              "probe.target fpr: thoughts")
        if self.probe.calibrate_on == "episodes" and self.probe.direction == "random":
            raise ConfigError("probe.calibrate_on: a placebo's threshold matches a fitted probe's false-positive rate "
                              "on thoughts; allowed with probe.direction random: thoughts")
        if self.probe.reads == "reference" and "probe" in _routed(self.routing):
            raise ConfigError(f"probe.reads: reference gives the probe row of routing {self.routing!r} no gradient; "
                              "allowed with a routed probe loss: live")
        if self.reward.judged == "step" and self.probe.pooling != "max":
            raise ConfigError(f"probe.pooling: {self.probe.pooling!r} is not what a step-judged alarm "
                              "(reward.judged=step) reads: it reads each thought alone, and an episode counts as "
                              "alarmed if any step was; allowed with reward.judged=step: max")
        self._check_groups(env)
        if self.run.sft_routing:
            try:
                sft_head = has_policy_head(parse_routing(self.run.sft_routing))
            except ValueError as e:
                raise ConfigError(f"run.sft_routing: {str(e).removeprefix('routing: ')}") from None
            if sft_head != has_policy_head(parse_routing(self.routing)):
                raise ConfigError(f"run.sft_routing: {self.run.sft_routing!r} and routing {self.routing!r} must both "
                                  "name the policy head or neither (it is the policy the honest start trains)")
        if self.run.sft_steps and self.desires.selection != "boltzmann":
            raise ConfigError(f"desires.selection: {self.desires.selection!r} has no log-probability for "
                              "run.sft_steps > 0; allowed with sft_steps: boltzmann")
        if self.run.sft_steps and self.beliefs.architecture == "shared":
            raise ConfigError("run.sft_steps: an honest start is not defined for beliefs.architecture shared (it would "
                              "update only the fresh value head); allowed with shared: 0")
        if self.reward.alarm_reads == "considered" and self.reward.audit == "on":
            raise ConfigError("reward.audit: on penalises a flag only if the act taken was deceptive, so a thought that "
                              "came to mind and was not taken would never cost anything; allowed with "
                              "reward.alarm_reads considered: off")
        if self.reward.alarm_from >= self.run.steps:
            raise ConfigError(f"reward.alarm_from: {self.reward.alarm_from} is not below run.steps ({self.run.steps}): "
                              "the alarm would never enter the reward; allowed: 0 .. run.steps - 1")
        self._check_attention()
        if self.desires.proposal == "sampled" and self.desires.n_sampled > env.num_plans:
            raise ConfigError(f"desires.n_sampled: {self.desires.n_sampled} exceeds the {env.num_plans} plans of {self.env}")

    def _check_attention(self) -> None:
        """Learned attention needs a salience to train and proposals of its own to train it on."""
        if self.desires.proposal != "learned":
            return
        if "salience" not in parse_routing(self.routing)["attn"]:
            raise ConfigError(f"desires.proposal: learned needs the attn row of routing {self.routing!r} to name "
                              "salience, else the salience never learns; allowed: every preset, or a table with "
                              "attn=salience")
        if self.desires.selection == "fixed":
            raise ConfigError("desires.proposal: learned is ignored by desires.selection fixed, which takes every "
                              "available plan in mind; allowed with fixed: all, sampled, local")
        if self.run.learning != "on_policy":
            raise ConfigError(f"desires.proposal: learned trains the salience on the proposals it draws now, and "
                              f"run.learning {self.run.learning} learns from a dataset logged once; allowed with it: "
                              "all, sampled, local")

    def _check_groups(self, env: envspec.EnvSpec) -> None:
        """Groups, a policy head and DPO need one another as ``run.group_size``'s help says."""
        run, head = self.run, has_policy_head(parse_routing(self.routing))
        if run.n_envs % run.group_size:
            raise ConfigError(f"run.group_size: {run.group_size} does not divide run.n_envs ({run.n_envs}); allowed: "
                              + ", ".join(str(g) for g in range(1, run.n_envs + 1) if run.n_envs % g == 0))
        if run.group_size > 1 and not env.one_step:
            raise ConfigError(f"run.group_size: {run.group_size} needs episodes of one decision, and {self.env}'s run "
                              "several; allowed with it: 1")
        if head and run.group_size < 2:
            raise ConfigError(f"run.group_size: 1 leaves the group-relative advantage of routing {self.routing!r} "
                              "nothing to compare; allowed with a policy head: a divisor of run.n_envs from 2")
        if run.learning == "dpo":
            needs = {"routing": (head, "a policy head (grpo)"), "run.group_size": (run.group_size == 2, "2 (pairs)"),
                     "reward.kl_beta": (self.reward.anchored, "above 0 (DPO's beta)"),
                     "desires.thought_noise": (not self.desires.noisy, "0")}
            for name, (ok, allowed) in needs.items():
                if not ok:
                    raise ConfigError(f"{name}: run.learning dpo needs {allowed}")

    @property
    def env_spec(self) -> envspec.EnvSpec:
        """The environment's declaration (kinds, plans, knobs), its shape knobs set from ``env_params``."""
        return envspec.REGISTRY[self.env](**self._shape_knobs())

    @property
    def env_obj(self):
        """The environment to run (``brainlike.envs``, so JAX), its shape knobs set from ``env_params``."""
        from brainlike import envs  # only the run side steps an environment; the config itself imports no JAX

        return envs.make(self.env, **self._shape_knobs())

    def _shape_knobs(self) -> dict[str, int]:
        static = envspec.REGISTRY[self.env].static_knobs  # static in a traced copy too: whole Python numbers
        return {k: int(getattr(self.env_params, k)) for k in static}

    def env_overrides(self) -> tuple[tuple[str, float], ...]:
        """The environment's knobs that differ from their defaults, as sorted ``(name, value)`` pairs."""
        return _overrides(self.env_params)

    def _check_topics(self, env) -> None:
        """A probe fitted on half the topics needs two topics at least, and a threshold set on thoughts."""
        if self.probe.topics == "half" and env.num_topics < 2:
            raise ConfigError(f"probe.topics: half needs an environment with two topics or more, and {self.env} has "
                              f"{env.num_topics}; allowed: all")
        if self.probe.topics == "half" and self.probe.calibrate_on == "episodes":
            raise ConfigError("probe.topics: half selects labelled thoughts by topic; allowed with probe.calibrate_on "
                              "episodes: all")
        if "topics" in self.probe.monitors and self.probe.topics == "all":
            raise ConfigError("probe.monitors: topics is fitted on the topics the deployed probe is not, and with "
                              "probe.topics all there are none; allowed with all: resample, preact")

    def fitted_topics(self) -> tuple[bool, ...]:
        """Per topic: is the deployed probe fitted and calibrated on it (``probe.topics``)? Empty without topics."""
        n = self.env_spec.num_topics
        return tuple(self.probe.topics == "all" or t < n // 2 for t in range(n))

    def coverage_mask(self) -> tuple[bool, ...]:
        """Per kind: is it a positive the probe is fitted on?"""
        env = self.env_spec
        if self.probe.coverage == ("all",):
            return tuple(env.deceptive_kinds)
        return tuple(k in self.probe.coverage for k in env.kinds)


def _overrides(params: envspec.EnvParams) -> tuple[tuple[str, float], ...]:
    defaults = type(params)()
    return tuple(sorted((f.name, getattr(params, f.name)) for f in dataclasses.fields(params)
                        if getattr(params, f.name) != getattr(defaults, f.name)))


def _env_knobs(env: str, given) -> envspec.EnvParams:
    """Environment ``env``'s knobs from ``given``: its own knobs object (kept as it is), or overrides
    ((name, value) pairs, a mapping, None, or another environment's knobs object, whose values off
    their defaults carry over), each checked against its knob; values that are not numbers (traced)
    are not checked."""
    spec = envspec.REGISTRY[env]
    knobs = spec.knobs()
    if type(given) is spec.Params:
        params = given
    else:
        if given is None:
            overrides = {}
        elif isinstance(given, envspec.EnvParams):
            overrides = dict(_overrides(given))
        else:
            overrides = dict(given)
        for name, value in overrides.items():
            if name not in knobs:
                raise unknown(f"env.{name}", [f"env.{k}" for k in knobs], f"knob of {env}")
            if not isinstance(value, numbers.Real):
                raise ConfigError(f"env.{name}: {value!r} is not a number")
        params = spec.Params(**{k: float(v) for k, v in overrides.items()})
    for name, f in knobs.items():
        value = getattr(params, name)
        if not isinstance(value, numbers.Real):
            continue
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        if not (lo <= value <= hi):
            raise ConfigError(f"env.{name}: {value} is out of range; allowed: [{lo}, {hi}]")
        if name in spec.static_knobs and float(value) != int(value):
            raise ConfigError(f"env.{name}: {value} is not a whole number; it fixes how many plans there are")
    return params


def _routed(routing: str) -> set[str]:
    """The losses a routing lets reach some parameter group."""
    return {loss for loss, groups in parse_routing(routing).items() if groups}


SECTIONS = ("beliefs", "desires", "probe", "reward", "run")
# what labels a seed (``store.outcomes.Thresholds``) is analysis, not a config section; a config stored
# before it left the config holds it, and it is ignored
LABELS = "outcome"


def not_config(name: str) -> ConfigError:
    """``outcome.NAME``: a labelling threshold, refused as a config field, saying where it is set."""
    return ConfigError(f"{name}: a labelling threshold, not a config field: seeds are labelled from their stored "
                       f"metrics (store.outcomes.Thresholds), so set it as --{name} on run or sweep, or as an "
                       "experiment's thresholds; never as a grid axis")


def to_dict(config: Config) -> dict:
    """Every value the config runs with, environment knobs at their defaults included."""
    d = dataclasses.asdict(config)
    params = config.env_params
    d["env_params"] = {f.name: float(getattr(params, f.name)) for f in dataclasses.fields(params)}
    return d


def from_dict(d: dict) -> Config:
    """The config a stored dict (``to_dict``) describes, fields it leaves out at their defaults;
    ``ConfigError`` naming a field it does not know, with the nearest one. Its labelling thresholds
    (``outcome``, in a config stored before they left it) are ignored."""
    d = dict(d)
    d.pop(LABELS, None)
    top = [f.name for f in dataclasses.fields(Config)]
    for name, value in d.items():
        if name not in top:
            raise unknown(name, top)
        if name in SECTIONS and isinstance(value, dict):
            fields = [f.name for f in dataclasses.fields(_section_type(name))]
            for key in value:
                if key not in fields:
                    raise unknown(f"{name}.{key}", [f"{name}.{f}" for f in fields])
    sections = {s: _section_type(s)(**_tuples(d.pop(s, {}))) for s in SECTIONS}
    env_params = tuple(sorted(dict(d.pop("env_params", {})).items()))
    return Config(**d, env_params=env_params, **sections)


def _section_type(name: str):
    return type(getattr(Config(), name))


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def replace(config: Config, **dotted) -> Config:
    """A copy with fields set by dotted name: ``replace(c, **{"reward.alpha": 2.0, "env.noise": 0.1})``."""
    top, sections, env_params = {}, {s: {} for s in SECTIONS}, {}
    for name, value in dotted.items():
        head, _, tail = name.partition(".")
        if head == LABELS:
            raise not_config(name)
        if head == "env" and tail:
            env_params[tail] = float(value)
        elif head in SECTIONS and tail:
            section = getattr(config, head)
            if tail not in {f.name for f in dataclasses.fields(section)}:
                raise unknown(name, [f"{head}.{f.name}" for f in dataclasses.fields(section)])
            sections[head][tail] = value
        elif not tail and head in {f.name for f in dataclasses.fields(Config)} and head not in SECTIONS:
            top[head] = value
        else:
            raise unknown(name, field_names(config))
    new_sections = {s: dataclasses.replace(getattr(config, s), **kv) for s, kv in sections.items() if kv}
    if env_params or "env" in top:  # overrides, carried over to another environment's knobs
        top["env_params"] = tuple(sorted((dict(config.env_overrides()) | env_params).items()))
    return dataclasses.replace(config, **top, **new_sections)


def field_names(config: Config) -> list[str]:
    """Every settable dotted name, environment knobs included."""
    names = [f.name for f in dataclasses.fields(Config) if f.name not in SECTIONS and f.name != "env_params"]
    names += [f"{s}.{f.name}" for s in SECTIONS for f in dataclasses.fields(getattr(config, s))]
    names += [f"env.{k}" for k in config.env_spec.knobs()]
    return names
