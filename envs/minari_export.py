"""Batch-mode rollouts exported as a `Minari <https://minari.farama.org>`_ offline-RL dataset.

``rantwin rollout --format minari`` (or :func:`write_minari`) steps a
``rantwin/RanControl-v0`` env (:class:`~.env.RanControlEnv`) and records every episode as
Minari expects it: observations ``[T+1, n_cells, n_features]`` (the reset observation
first), actions ``[T, n_cells, n_knobs]`` normalised to ``[-1, 1]``, rewards, terminations,
truncations and a few scalar infos per step (:data:`INFO_KEYS`, reset info first). Minari
is an optional extra (``pip install 'rantwin[minari]'``), imported only here and only when
an export runs.

Semantics follow :func:`~.rollout.run_rollout`: the scenario, backend, checkpoint,
members, episodes, steps and seed of a :class:`~.rollout.RolloutArgs`. Episode ``e`` resets
the env with ``seed = episode_seed(args.seed, 0, e)`` (stored as the Minari episode seed),
so ``RanControlEnv(...).reset(seed=...)`` followed by the recorded actions replays it.

- open loop (``static``, ``random``, a schedule file): the action of step ``t`` is
  ``env.action_map.normalise`` of the scheduled config ``t``, with the schedule drawn as
  ``rantwin rollout`` draws it (``random``: ``default_rng([seed, 0, e, 0xAC])``); a
  schedule the env cannot express as an action (a knob it does not control) is an error;
- closed loop (``actions="policy"``): the policy (``act(obs)`` and optional ``reset()``,
  a callable or an SB3 model) acts on the env's observations; it is reset every episode.

An episode has ``steps`` env steps (``None``: the scenario's ``steps_per_episode``) after
the env's reset super-step, which runs the scenario's default config; the last step is
truncated, none is terminated. With ``members > 1`` the observation and the reward are the
member means (as in the env). ``batch`` is not used; ``resume`` is not supported.

Minari chooses its dataset root from ``MINARI_DATASETS_PATH``; :func:`write_minari` sets it
to ``out`` while it writes (never the user's home). The dataset is stored in Minari's
``arrow`` format (pyarrow is a core dependency; ``hdf5`` would need h5py), with the env's
spec (scenario, backend, members, steps, checkpoint; the twin's device when not cpu) so that
``dataset.recover_environment()`` rebuilds the env. Read it back with::

    import os, minari
    os.environ["MINARI_DATASETS_PATH"] = "OUT"  # the --out of the export
    ds = minari.load_dataset("rantwin/hex7-uma-simulator-v0")
    for ep in ds.iterate_episodes():
        ep.observations, ep.actions, ep.rewards, ep.infos["energy_w"]
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from rantwin.scenarios import CellConfig, load_scenario
from rantwin.scenarios.schedule import load_schedule

from .env import RanControlEnv
from .evaluate import KNOB_ATTRS, _as_policy, reset_policy
from .reward import TERMS
from .rollout import RolloutArgs, check, episode_seed

__all__ = [
    "INFO_KEYS",
    "INSTALL_HINT",
    "check_dataset_id",
    "default_dataset_id",
    "write_minari",
]

INSTALL_HINT = "the Minari export needs minari: pip install 'rantwin[minari]'"

#: Scalar ``info`` keys recorded per step (the env's others, e.g. the per-member rewards,
#: are left out so that every info is a flat scalar column).
INFO_KEYS: tuple[str, ...] = (
    "step",
    "hour",
    "load_factor",
    *(f"reward_{t}" for t in TERMS),
    "mean_ue_throughput_mbps",
    "energy_w",
    "n_sleeping",
)

_ENV_ID = "rantwin/RanControl-v0"
_SEGMENT = r"[A-Za-z0-9_-]+"
#: ``namespace/name-v<version>``: the namespace (nested with ``/`` allowed, at least two
#: characters, as Minari requires), a name, a version; letters, digits, ``_`` and ``-``.
DATASET_ID_RE = re.compile(
    rf"^(?P<namespace>[A-Za-z0-9_-]{{2,}}(?:/{_SEGMENT})*)/(?P<name>{_SEGMENT}?)-v(?P<version>\d+)$"
)
_CONFIG_ATOL = 1e-4  # physical units; float32 actions round-trip well within this


def _import_minari() -> Any:
    try:
        import minari
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return minari


def check_dataset_id(dataset_id: str) -> None:
    """Reject a dataset id that does not follow Minari's ``namespace/name-v<version>``.

    Raises:
        ValueError: The message names the id and the rule.
    """
    if not isinstance(dataset_id, str) or DATASET_ID_RE.fullmatch(dataset_id) is None:
        raise ValueError(
            f"--dataset-id {dataset_id!r}: expected 'namespace/name-v<version>' (e.g. "
            "'rantwin/hex7-uma-simulator-v0'): a namespace of at least 2 characters, a name "
            "and an integer version, made of letters, digits, '_' and '-'"
        )


def default_dataset_id(scenario_name: str, backend: str) -> str:
    """``rantwin/<scenario>-<backend>-v0``, characters outside ``[A-Za-z0-9_-]`` as ``-``."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{scenario_name}-{backend}").strip("-")
    return f"rantwin/{name or 'rollout'}-v0"


@contextmanager
def _datasets_root(root: Path) -> Iterator[None]:
    """Point Minari's dataset root (``MINARI_DATASETS_PATH``) at ``root`` for a while."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def _env_kwargs(args: RolloutArgs, steps: int) -> dict[str, Any]:
    """JSON-safe ``gym.make`` kwargs of the env (stored in the dataset's env spec)."""
    scenario = args.scenario
    if Path(scenario).is_file():
        scenario = str(Path(scenario).resolve())
    kwargs: dict[str, Any] = {
        "scenario": scenario,
        "backend": args.backend,
        "members": args.members,
        "episode_steps": steps,
    }
    backend_kw: dict[str, Any] = {}
    if args.checkpoint is not None:
        backend_kw["checkpoint"] = str(Path(args.checkpoint).resolve())
    if args.twin_device != "cpu":  # as in the rollout manifest: CPU exports' specs as before
        backend_kw["device"] = args.twin_device
    if backend_kw:
        kwargs["backend_kwargs"] = backend_kw
    return kwargs


def _scheduled_actions(
    env: RanControlEnv, configs: list[CellConfig], episode: int
) -> list[np.ndarray]:
    """Normalised actions ``[n_cells, n_knobs]`` of scheduled configs.

    Raises:
        ValueError: A config the env would not inject from its action (a knob it does not
            control, or every cell asleep), naming the episode, step and knob.
    """
    out = []
    for t, cfg in enumerate(configs):
        action = env.action_map.normalise({k: getattr(cfg, k) for k in KNOB_ATTRS})
        back = env.action_map.to_config(action)
        for k in KNOB_ATTRS:
            want = np.asarray(getattr(cfg, k), dtype=np.float64)
            got = np.asarray(getattr(back, k), dtype=np.float64)
            if not np.allclose(want, got, rtol=0.0, atol=_CONFIG_ATOL):
                raise ValueError(
                    f"episode {episode}, step {t}: the schedule's {k} cannot be expressed as an "
                    f"action of the env (controlled knobs: "
                    f"{', '.join(kn.name for kn in env.action_map.knobs)})"
                )
        out.append(action)
    return out


def write_minari(
    args: RolloutArgs,
    dataset_id: str,
    out: Path | str,
    policy: Any | None = None,
    progress: bool = True,
    data_format: str = "arrow",
) -> Path:
    """Roll out ``args`` through ``RanControlEnv`` and write a Minari dataset under ``out``.

    Args:
        args: The run's arguments (``out``, ``batch`` unused; ``resume`` must be ``False``).
        dataset_id: Minari id ``namespace/name-v<version>`` (:func:`check_dataset_id`).
        out: Minari datasets root; the dataset lands in ``out/<dataset_id>/data``.
        policy: For ``args.actions == "policy"``: an object with ``act(obs)`` (and optional
            ``reset()``), a callable ``obs -> action`` or an SB3 model.
        progress: Show a progress bar.
        data_format: Minari storage format (``"arrow"``, ``"parquet"``; ``"hdf5"`` needs
            h5py).

    Input:
        obs: ``[n_cells, n_features]`` float32 per step, as the policy sees it.

    Output:
        episode ``e``: ``observations [steps+1, n_cells, n_features]``, ``actions
        [steps, n_cells, n_knobs]`` float32, ``rewards / terminations / truncations
        [steps]``, ``infos {key: [steps+1]}`` for :data:`INFO_KEYS`.

    Returns:
        The dataset directory ``out/<dataset_id>``.

    Raises:
        ImportError: minari is not installed (with the install hint).
        ValueError: A malformed id, a dataset that already exists, ``resume``, a missing
            (or unexpected) policy, a bad argument (:func:`~.rollout.check`).
    """
    _import_minari()
    from minari import create_dataset_from_buffers
    from minari.data_collector import EpisodeBuffer

    check_dataset_id(dataset_id)
    check(args)
    if args.resume:
        raise ValueError("--resume is not supported with --format minari; write a new dataset")
    policy_mode = args.actions == "policy"
    if policy_mode and policy is None:
        raise ValueError("--actions policy needs a policy (python API: write_minari(policy=...))")
    if not policy_mode and policy is not None:
        raise ValueError(f"a policy was given but --actions is {args.actions!r}, not 'policy'")
    root = Path(out).resolve()
    target = root / dataset_id
    if target.exists():
        raise ValueError(
            f"--dataset-id {dataset_id!r}: a dataset already exists at {target}; choose "
            "another id (or version) or another --out"
        )
    scenario = load_scenario(args.scenario)
    steps = args.steps or scenario.timing.steps_per_episode
    schedule = None if policy_mode else load_schedule(args.actions)

    env = gym.make(_ENV_ID, **_env_kwargs(args, steps))
    core = env.unwrapped
    assert isinstance(core, RanControlEnv)
    act = _as_policy(policy, core) if policy_mode else None
    bar = tqdm(
        total=args.episodes * steps,
        desc=f"minari rollout ({args.backend})",
        unit="step",
        disable=not progress,
        dynamic_ncols=True,
    )
    buffers = []
    try:
        for e in range(args.episodes):
            scheduled = None
            if schedule is not None:
                rng = np.random.default_rng([args.seed, 0, e, 0xAC])  # as `rantwin rollout`
                configs = schedule.configs(core.scenario, steps, rng)
                scheduled = _scheduled_actions(core, configs, e)
            seed = episode_seed(args.seed, 0, e)
            if policy_mode:
                reset_policy(policy)
            episode = _episode(env, seed, steps, act, scheduled, bar)
            buffers.append(EpisodeBuffer(id=e, seed=seed, **episode))
    finally:
        bar.close()
        env.close()  # only its spec and spaces are needed from here on
    name = (getattr(policy, "name", None) or type(policy).__name__) if policy_mode else None
    with _datasets_root(root), warnings.catch_warnings():
        # Minari recommends an author, e-mail, code permalink and evaluation env; an export
        # has none of them to give.
        warnings.filterwarnings("ignore", message=r"`\w+` is set to None", category=UserWarning)
        create_dataset_from_buffers(
            dataset_id,
            buffers,
            env=env,
            algorithm_name=f"rantwin rollout --actions {name or args.actions}",
            description=(
                f"rantwin rollout of scenario {scenario.name!r} on the {args.backend} backend: "
                f"{args.episodes} episodes × {steps} steps, {args.members} member(s), seed "
                f"{args.seed}, actions {name or args.actions}"
            ),
            requirements=["rantwin", "minari>=0.5"],
            data_format=data_format,
        )
    return target


def _episode(
    env: gym.Env,
    seed: int,
    steps: int,
    act: Any | None,
    scheduled: list[np.ndarray] | None,
    bar: tqdm,
) -> dict[str, Any]:
    """One episode as the fields of a Minari ``EpisodeBuffer``.

    Actions come from ``act(obs)`` (closed loop) or ``scheduled[t]`` (open loop).

    Returns:
        ``observations`` (``steps + 1`` arrays), ``actions``, ``rewards``,
        ``terminations``, ``truncations`` (``steps`` each) and ``infos`` (``{key: [steps +
        1]}`` for :data:`INFO_KEYS`).
    """
    shape = env.action_space.shape
    obs, info = env.reset(seed=seed)
    observations, actions, infos = [obs], [], [info]
    rewards: list[float] = []
    terminations: list[bool] = []
    truncations: list[bool] = []
    for t in range(steps):
        if act is not None:
            raw = np.asarray(act(obs), dtype=np.float32).reshape(shape)
        else:
            assert scheduled is not None
            raw = scheduled[t]
        obs, reward, terminated, truncated, info = env.step(raw)
        observations.append(obs)
        actions.append(np.clip(raw, -1.0, 1.0))  # what the env applied (it clips)
        rewards.append(float(reward))
        terminations.append(bool(terminated))
        truncations.append(bool(truncated))  # the env truncates after `steps`
        infos.append(info)
        bar.update(1)
    return {
        "observations": observations,
        "actions": actions,
        "rewards": rewards,
        "terminations": terminations,
        "truncations": truncations,
        "infos": {k: [i[k] for i in infos] for k in INFO_KEYS},
    }
