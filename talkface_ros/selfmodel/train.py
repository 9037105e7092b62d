"""Calibration: babble in the sim, fit the forward self-model, invert it by gradient descent, amortise
the inverse into a network, fit the linear baseline, and evaluate both in the sim (torch, CPU)."""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from talkface_ros.face.arkit import ARKIT_NAMES, FRAME_SIZE, INDEX
from talkface_ros.face.landmark_basis import (FULL_TRAVEL_SHAPES, SEAL_SHAPES, UNEXPRESSIBLE, Articulation,
                                            LandmarkBasis, articulate)
from talkface_ros.selfmodel.model import NECK_FROM_HEAD_POSE, SelfModel, free_motors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrateConfig:
    babble_samples: int = 6000
    heldout_fraction: float = 0.15
    hidden: int = 256
    forward_steps: int = 3000
    inverse_frames: int = 12000
    solver_steps: int = 300
    inverse_steps: int = 3000
    activation_penalty: float = 0.02     # mm^2 per unit^2: prefer the least motion that reaches the target
    reachable_tolerance_mm: float = 0.5  # a frame is reachable if gradient descent gets this close in the sim
    full_travel_max_gain: float = 4.0    # a shape at weight 1 may be scaled up this much to use the full travel
    smoothness: float = 0.0              # for sequences: penalty on the change from the previous solution
    eval_frames: int = 300
    seed: int = 0


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def tensors_of(prefix: str, net: nn.Sequential) -> dict[str, np.ndarray]:
    out, k = {}, 0
    for layer in net:
        if isinstance(layer, nn.Linear):
            out[f"{prefix}.{k}.weight"] = layer.weight.detach().numpy().copy()
            out[f"{prefix}.{k}.bias"] = layer.bias.detach().numpy().copy()
            k += 1
    return out


def random_frames(count: int, rng: np.random.Generator, shapes: list[int] | None = None) -> np.ndarray:
    """Sparse random expressions: a few active blendshapes (often both sides), a little head pose."""
    frames = np.zeros((count, FRAME_SIZE))
    n = len(ARKIT_NAMES)
    pool = np.arange(n) if shapes is None else np.array(shapes)
    for i in range(count):
        active = rng.choice(pool, size=min(len(pool), rng.integers(1, 6)), replace=False)
        frames[i, active] = rng.uniform(0.1, 1.0, size=active.size)
        for k in active:  # mirror Left/Right half of the time
            name = ARKIT_NAMES[k]
            if rng.uniform() < 0.5 and ("Left" in name or "Right" in name):
                other = name.replace("Left", "#").replace("Right", "Left").replace("#", "Right")
                frames[i, INDEX[other]] = frames[i, k]
    frames[:, n:] = rng.normal(0.0, 0.1, size=(count, FRAME_SIZE - n))
    return frames


class ResidualForward(nn.Module):
    """unit motors -> landmark displacement mm: affine part + MLP residual."""

    def __init__(self, affine: np.ndarray, residual: nn.Module) -> None:
        super().__init__()
        self.register_buffer("weight", torch.tensor(affine[:-1], dtype=torch.float32))
        self.register_buffer("bias", torch.tensor(affine[-1], dtype=torch.float32))
        self.residual = residual

    def forward(self, unit: torch.Tensor) -> torch.Tensor:
        return unit @ self.weight + self.bias + self.residual(unit)


def fit_forward(unit: np.ndarray, displacement_mm: np.ndarray, config: CalibrateConfig) -> nn.Sequential:
    torch.manual_seed(config.seed)
    net = mlp([unit.shape[1], config.hidden, config.hidden, displacement_mm.shape[1]])
    x, y = torch.tensor(unit, dtype=torch.float32), torch.tensor(displacement_mm, dtype=torch.float32)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.forward_steps)
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(config.forward_steps):
        batch = torch.randint(0, len(x), (512,), generator=generator)
        loss = ((net(x[batch]) - y[batch]) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return net.eval()


def solve_inverse(forward: nn.Module, target_mm: torch.Tensor, start: torch.Tensor, steps: int,
                  activation_penalty: float, previous: torch.Tensor | None = None,
                  smoothness: float = 0.0, free: torch.Tensor | None = None) -> torch.Tensor:
    """Motors (unit box [0,1]) whose predicted landmarks reach `target_mm` [B, 3L]: projected Adam through
    the frozen forward model, + activation penalty, + smoothness to `previous` (sequences). `free` [B, F]
    bool: only those motors move; the others stay where `start` has them (e.g. neutral)."""
    for p in forward.parameters():
        p.requires_grad_(False)
    unit = start.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([unit], lr=0.03)
    for _ in range(steps):
        error = ((forward(unit) - target_mm) ** 2).sum(dim=1)
        loss = error + activation_penalty * (unit ** 2).sum(dim=1)
        if previous is not None and smoothness > 0:
            loss = loss + smoothness * ((unit - previous) ** 2).sum(dim=1)
        optimiser.zero_grad()
        loss.sum().backward()
        optimiser.step()
        with torch.no_grad():
            unit.clamp_(0.0, 1.0)
            if free is not None:
                unit.copy_(torch.where(free, unit, start))
    return unit.detach()


def fit_inverse(forward: nn.Module, weights: np.ndarray, targets_mm: np.ndarray, solutions: np.ndarray,
                config: CalibrateConfig, linear_unit: np.ndarray, free: np.ndarray, rest_unit: np.ndarray) -> nn.Sequential:
    """Amortise: weights [N, 52] -> unit motors = clip(linear map + MLP residual, 0, 1), the residual
    starting at zero, trained to reach the targets through the frozen forward model and to stay near the
    gradient solutions. Motors no active shape uses (`free` [N, F] false) stay at `rest_unit`, as at run time."""
    torch.manual_seed(config.seed + 1)
    net = mlp([weights.shape[1], config.hidden, config.hidden, solutions.shape[1]])
    with torch.no_grad():
        net[-1].weight.zero_()
        net[-1].bias.zero_()
    base = torch.tensor(linear_unit, dtype=torch.float32)
    w = torch.tensor(weights, dtype=torch.float32)
    t = torch.tensor(targets_mm, dtype=torch.float32)
    s = torch.tensor(solutions, dtype=torch.float32)
    free_t = torch.tensor(free)
    rest = torch.tensor(rest_unit, dtype=torch.float32)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.inverse_steps)
    generator = torch.Generator().manual_seed(config.seed + 1)
    for _ in range(config.inverse_steps):
        batch = torch.randint(0, len(w), (512,), generator=generator)
        unit = torch.where(free_t[batch], torch.clamp(base[batch] + net(w[batch]), 0.0, 1.0), rest)
        loss = ((forward(unit) - t[batch]) ** 2).sum(1).mean() / t.shape[1] + ((unit - s[batch]) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return net.eval()


def region_errors_mm(reached: np.ndarray, targets: np.ndarray, kinds: list[str]) -> dict[str, float]:
    """RMS landmark error (mm) over rigid-region and tendon-region landmarks, and overall."""
    error = np.linalg.norm(reached - targets, axis=-1) * 1e3     # [N, L]
    kinds_arr = np.array(kinds)
    out = {"all": float(np.sqrt((error ** 2).mean()))}
    for kind in ("rigid", "tendon"):
        out[kind] = float(np.sqrt((error[:, kinds_arr == kind] ** 2).mean()))
    return out


def reachable(sim, forward: nn.Module, model: SelfModel, basis: LandmarkBasis, frames: np.ndarray,
              steps: int, activation_penalty: float, tolerance_mm: float) -> np.ndarray:
    """Which frames this face can show [N] bool: targets solved for by (long) gradient descent through the
    self-model, commanded in the sim, reached within `tolerance_mm` RMS. Full-travel shapes added up go
    past the motors' limits; on such frames every retargeter sits on the same floor, so the inverse's
    quality is compared on the reachable ones."""
    targets = basis.targets(frames)
    targets_mm = torch.tensor(basis.displacements(frames).reshape(len(frames), -1) * 1e3, dtype=torch.float32)
    rest = torch.tensor(model.to_unit(model.neutral[model.face_index]), dtype=torch.float32).expand(len(frames), -1)
    units = solve_inverse(forward, targets_mm, rest.clone(), steps, activation_penalty,
                          free=torch.tensor(model.free_motors(articulate(frames[:, : len(ARKIT_NAMES)])))).numpy()
    commands = model._assemble(frames, model.from_unit(units))
    reached = np.stack([sim.settle(c, 0.3) for c in commands])
    error_mm = np.sqrt((np.linalg.norm(reached - targets, axis=-1) ** 2).mean(axis=1)) * 1e3
    return error_mm <= tolerance_mm


def evaluate_in_sim(sim, model: SelfModel, basis: LandmarkBasis, frames: np.ndarray) -> dict:
    """Command each frame through both retargeters, let the sim settle, compare landmarks with targets."""
    kinds = sim.description.landmark_kinds()
    targets = basis.targets(frames)
    results = {}
    for name, retarget in (("learned", model.retarget), ("linear", model.retarget_linear)):
        commands = retarget(frames)
        reached = np.stack([sim.settle(c, 0.3) for c in commands])
        results[name] = region_errors_mm(reached, targets, kinds)
    results["ratio_linear_over_learned"] = {k: results["linear"][k] / max(results["learned"][k], 1e-9)
                                            for k in results["learned"]}
    return results


def full_travel(shape_units: np.ndarray, neutral_unit: np.ndarray, max_gain: float,
                scaled: np.ndarray | None = None, slack_unit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scale each shape's motor solution (unit box) away from neutral until its most-used motor reaches its
    limit, at most `max_gain` times: a blendshape at weight 1 is the robot's full travel for it (jawOpen 1 =
    the jaw fully open, mouthPucker 1 = the purse linkage all the way in), as an animatronic exaggerates.
    Motors moved less than max(0.05, 15 % of the largest move), and strings commanded within their slack
    (`slack_unit` [F], -inf for rigid motors: such a pull does nothing), are left at neutral: solver
    noise. Shapes the face barely reaches (largest move < 0.02) keep their solution; `scaled` [S] bool picks
    the shapes to scale (default all). Returns (units [S, F], gains [S])."""
    shape_units = np.asarray(shape_units, dtype=np.float64)
    delta = shape_units - neutral_unit
    gains = np.ones(len(shape_units))
    for k, move in enumerate(delta):
        largest = np.abs(move).max()
        if largest < 0.02:
            continue
        used = np.abs(move) >= max(0.05, 0.15 * largest)
        if slack_unit is not None:
            used &= shape_units[k] > slack_unit + 0.05
        delta[k, ~used] = 0.0   # the solver's side moves (which a gain would scale up): the shape is its motors
        if used.any() and (scaled is None or scaled[k]):
            room = np.where(move > 0, 1.0 - neutral_unit, neutral_unit)[used] / np.abs(move[used])
            gains[k] = float(np.clip(room.min(), 1.0, max_gain))
    return np.clip(neutral_unit + delta * gains[:, None], 0.0, 1.0), gains


def calibrate(sim, config: CalibrateConfig = CalibrateConfig(), progress: bool = True) -> SelfModel:
    from talkface_ros.selfmodel.babble import babble

    torch.set_num_threads(2)
    d = sim.description
    started = time.monotonic()
    neck = [name for name in d.neck_motors()]
    face_index = np.array([i for i, name in enumerate(d.joint_names) if name not in neck])
    lower, upper = d.lower_limits()[face_index], d.upper_limits()[face_index]
    sim.reset()
    neutral_landmarks = sim.settle(d.neutral_positions(), 0.5)
    commands, landmarks = babble(sim, face_index, config.babble_samples, config.seed, progress=progress)
    unit = (commands - lower) / (upper - lower)
    displacement_mm = ((landmarks - neutral_landmarks) * 1e3).reshape(len(commands), -1)
    split = int(len(unit) * (1 - config.heldout_fraction))
    log.info("babbled %d poses in %.0f s; fitting the forward model", len(unit), time.monotonic() - started)
    # forward = an affine least-squares fit + an MLP on its residual (the nonlinear, coupled part)
    design = np.hstack([unit[:split], np.ones((split, 1))])
    linear_fwd, *_ = np.linalg.lstsq(design, displacement_mm[:split], rcond=None)     # [F+1, 3L]
    residual_net = fit_forward(unit[:split], displacement_mm[:split] - design @ linear_fwd, config)
    forward = ResidualForward(linear_fwd, residual_net)
    with torch.no_grad():
        predicted = forward(torch.tensor(unit[split:], dtype=torch.float32)).numpy()
    heldout_error = np.linalg.norm((predicted - displacement_mm[split:]).reshape(len(predicted), -1, 3), axis=-1)
    kinds = np.array(d.landmark_kinds())
    forward_rmse = {"all": float(np.sqrt((heldout_error ** 2).mean())),
                    **{k: float(np.sqrt((heldout_error[:, kinds == k] ** 2).mean())) for k in ("rigid", "tendon")}}
    log.info("forward self-model held-out landmark RMSE: %s mm", {k: round(v, 3) for k, v in forward_rmse.items()})

    # the same affine fit, inverted by least squares -> linear retargeting map: weights -> unit motors
    jacobian = linear_fwd[:-1].T                                                        # [3L, F] mm per unit
    # the robot basis: each reference shape (weight 1) projected onto what this face can reach, through
    # the self-model, and measured in the sim: targets the robot can actually show
    reference = LandmarkBasis(d, neutral_landmarks)
    reference_mm = torch.tensor(reference.basis.reshape(len(ARKIT_NAMES), -1) * 1e3, dtype=torch.float32)
    shape_units = solve_inverse(forward, reference_mm, torch.full((len(ARKIT_NAMES), len(face_index)), 0.1),
                                config.solver_steps * 2, config.activation_penalty).numpy()
    neutral_unit = (d.neutral_positions()[face_index] - lower) / (upper - lower)
    slack_unit = np.array([m.tendon.slack / (m.upper - m.lower) if m.kind == "tendon" else -np.inf
                           for m in (d.motors[i] for i in face_index)])
    shape_units, gains = full_travel(shape_units, neutral_unit, config.full_travel_max_gain,
                                     np.array([name in FULL_TRAVEL_SHAPES for name in ARKIT_NAMES]), slack_unit)
    # the motors each shape moves: a frame may move only those of its active shapes (no side moves that
    # the forward model merely believes help, e.g. lip raisers for a brow target it cannot reach)
    shape_motors = np.abs(shape_units - neutral_unit) > 1e-6
    shape_motors[[ARKIT_NAMES.index(n) for n in SEAL_SHAPES]] = False
    robot_basis = np.zeros_like(reference.basis)
    full = d.neutral_positions()
    for k, shape_unit in enumerate(shape_units):
        if ARKIT_NAMES[k] in SEAL_SHAPES:   # lips in contact = rest on this face: acts through articulate
            continue
        sim.reset()
        full[face_index] = lower + shape_unit * (upper - lower)
        robot_basis[k] = sim.settle(full, 0.5) - neutral_landmarks
    sim.reset()
    basis = LandmarkBasis(d, neutral_landmarks, robot_basis, articulated=True)
    basis_mm = basis.basis.reshape(len(ARKIT_NAMES), -1).T * 1e3                         # [3L, 52]
    unit_map, *_ = np.linalg.lstsq(jacobian, basis_mm, rcond=None)                     # [F, 52]
    unit_offset, *_ = np.linalg.lstsq(jacobian, -linear_fwd[-1], rcond=None)
    linear_map = unit_map * (upper - lower)[:, None]
    linear_offset = lower + unit_offset * (upper - lower)

    rng = np.random.default_rng(config.seed + 2)
    frames = random_frames(config.inverse_frames, rng)
    weights = articulate(frames[:, : len(ARKIT_NAMES)])
    targets_mm = basis.displacements(frames).reshape(len(frames), -1) * 1e3
    target_t = torch.tensor(targets_mm, dtype=torch.float32)
    log.info("solving %d inverse problems by gradient descent through the self-model", len(frames))
    free = free_motors(weights, shape_motors)
    rest = np.broadcast_to(neutral_unit, (len(frames), len(face_index))).astype(np.float32)
    solutions = solve_inverse(forward, target_t, torch.tensor(rest), config.solver_steps, config.activation_penalty,
                              free=torch.tensor(free)).numpy()
    linear_unit = np.where(free, np.clip(weights @ unit_map.T + unit_offset, 0.0, 1.0), neutral_unit)
    inverse = fit_inverse(forward, weights, targets_mm, solutions, config, linear_unit, free, neutral_unit)

    tensors = {**tensors_of("forward", residual_net), "forward_affine": linear_fwd, **tensors_of("inverse", inverse),
               "linear.map": linear_map, "linear.offset": linear_offset, "neutral_landmarks": neutral_landmarks,
               "basis.robot": robot_basis, "basis.reference": reference.basis,
               "shape_motors": shape_motors.astype(np.float32)}
    model_config = {
        "format": "talkface-selfmodel-1", "face": d.name, "face_sha256": d.source_sha256,
        "weights_transform": "articulate", "articulation": Articulation().as_dict(),
        "full_travel_gains": {name: round(float(g), 3) for name, g in zip(ARKIT_NAMES, gains)},
        "joint_names": d.joint_names, "lower": d.lower_limits().tolist(), "upper": d.upper_limits().tolist(),
        "neutral": d.neutral_positions().tolist(), "face_motor_index": face_index.tolist(),
        "neck_from_head_pose": {m: a for m, a in NECK_FROM_HEAD_POSE.items() if m in d.joint_names},
        "landmark_names": d.landmark_names, "landmark_kinds": d.landmark_kinds(),
        "forward": {"inputs": "face motors scaled to [0,1]", "outputs": "landmark displacement mm [L*3]",
                    "form": "u @ forward_affine[:-1] + forward_affine[-1] + mlp(u)", "activation": "silu"},
        "inverse": {"inputs": "52 ARKit weights", "outputs": "face motors in [0,1]",
                    "form": "residual_on_linear: unit = clip(to_unit(linear map) + mlp(w), 0, 1)"},
        "calibrate_config": asdict(config),
        "evaluation": ("landmark targets = neutral + sum_k w_k * robot basis_k with w = articulate(weights) (each "
                       "ARKit shape projected onto what this face reaches and scaled to its full travel); "
                       "*_reference_basis_* uses the unprojected reference displacements"),
        "metrics": {"forward_heldout_rmse_mm": forward_rmse, "babble_samples": len(unit),
                    "heldout_samples": len(unit) - split},
    }
    model = SelfModel(model_config, {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()})
    eval_frames = random_frames(config.eval_frames, np.random.default_rng(config.seed + 3))
    eval_frames[:, len(ARKIT_NAMES):] = 0.0
    model.config["metrics"]["retarget_in_sim_mm"] = evaluate_in_sim(sim, model, basis, eval_frames)
    model.config["metrics"]["retarget_in_sim_reference_basis_mm"] = evaluate_in_sim(sim, model, reference, eval_frames)
    within = reachable(sim, forward, model, basis, eval_frames, config.solver_steps * 3, config.activation_penalty,
                       config.reachable_tolerance_mm)
    model.config["metrics"]["retarget_in_sim_reachable_mm"] = {
        **evaluate_in_sim(sim, model, basis, eval_frames[within]), "frames": int(within.sum()),
        "tolerance_mm": config.reachable_tolerance_mm}
    expressible = [k for k, name in enumerate(ARKIT_NAMES) if name not in UNEXPRESSIBLE]
    eval_frames = random_frames(config.eval_frames, np.random.default_rng(config.seed + 4), expressible)
    eval_frames[:, len(ARKIT_NAMES):] = 0.0
    model.config["metrics"]["retarget_in_sim_expressible_mm"] = evaluate_in_sim(sim, model, basis, eval_frames)
    model.config["metrics"]["eval_frames"] = len(eval_frames)
    model.config["metrics"]["seconds"] = round(time.monotonic() - started, 1)
    log.info("retargeting error in sim: %s", model.config["metrics"]["retarget_in_sim_mm"])
    log.info("retargeting error in sim, reachable frames: %s", model.config["metrics"]["retarget_in_sim_reachable_mm"])
    log.info("retargeting error in sim, expressible shapes: %s", model.config["metrics"]["retarget_in_sim_expressible_mm"])
    return model
