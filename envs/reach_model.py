"""The reach arms' MuJoCo model: its spec for a control mode, and the checks of its contract.

`reach_model_spec` turns a reach MJCF (velocity servos, as written) into the spec of the
requested control mode; `check_reach_model` fails early, with what was expected and what
came, when a compiled model breaks the contract `envs.reach.ReachEnv` relies on.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

__all__ = ["CONTROLS", "check_reach_model", "reach_model_spec"]

CONTROLS = ("velocity", "torque")
"""``"velocity"``: velocity servos, the MJCF as written; ``"torque"``: motors on damped joints."""


def reach_model_spec(
    mjcf: str, *, control: str, gear: Sequence[float], damping: Sequence[float]
) -> mujoco.MjSpec:
    """The specification of a reach MJCF with ``control`` applied (a new spec on every call).

    ``"velocity"`` is ``mjcf`` as written. ``"torque"`` turns actuator ``i`` into a motor on
    joint ``i`` (``gear = gear[i]``, ``gainprm[0] = 1``, no bias, renamed ``joint<i>_motor``)
    and sets that joint's damping to ``damping[i]``; ``ctrlrange`` stays [-1, 1].

    Shapes: gear (nu,), damping (nu,), read only for ``control="torque"``.
    """
    spec = mujoco.MjSpec.from_string(mjcf)
    if control == "torque":
        gear = np.asarray(gear, dtype=np.float64)
        damping = np.asarray(damping, dtype=np.float64)
        nu = len(spec.actuators)
        if gear.shape != (nu,) or damping.shape != (nu,):
            raise ValueError(
                f"GEAR and DAMPING must have shape (nu,)=({nu},), got {gear.shape} and "
                f"{damping.shape}"
            )
        for actuator, g, d in zip(spec.actuators, gear, damping, strict=True):
            joint = spec.joint(actuator.target)
            actuator.set_to_motor()  # gainprm = (1, 0, ...), no bias
            actuator.gear[:] = (g, 0.0, 0.0, 0.0, 0.0, 0.0)
            actuator.name = f"{actuator.target}_motor"
            joint.damping[0] = d  # linear (viscous) term: torque -d * qvel
    return spec


def check_reach_model(
    m: mujoco.MjModel,
    *,
    control: str,
    vmax: float,
    kv: Sequence[float],
    gear: Sequence[float],
    damping: Sequence[float],
) -> None:
    """Fail early if a compiled reach model breaks the subclass contract of `ReachEnv`.

    Hinge joints with one actuator each, in joint order; velocity servos with
    ``gainprm[0] = kv * vmax``, ``biasprm[2] = -kv`` and gear 1 (``control="velocity"``) or
    motors with ``gear``, ``gainprm[0] = 1`` and no bias on joints damped by ``damping``
    (``control="torque"``); ``ctrlrange`` [-1, 1]; ``timestep`` 0.01.

    Shapes: kv, gear, damping (nu,).
    """
    if m.nq != m.nv or m.nu != m.nq:
        raise ValueError(
            f"expected hinge joints with one actuator each (nq == nv == nu), "
            f"got nq={m.nq}, nv={m.nv}, nu={m.nu}"
        )
    if control == "velocity":
        kv = np.asarray(kv, dtype=np.float64)
        if (
            kv.shape != (m.nu,)
            or not np.allclose(m.actuator_gainprm[:, 0], kv * vmax)
            or not np.allclose(m.actuator_biasprm[:, 2], -kv)
            or not np.all(m.actuator_gear[:, 0] == 1.0)
        ):
            raise ValueError(
                f"actuators must be velocity servos with gainprm[0]=KV*VMAX={kv * vmax}, "
                f"biasprm[2]=-KV={-kv} and gear 1, got {m.actuator_gainprm[:, 0]}, "
                f"{m.actuator_biasprm[:, 2]} and {m.actuator_gear[:, 0]}"
            )
    elif (
        not np.all(m.actuator_gainprm[:, 0] == 1.0)
        or np.any(m.actuator_biasprm != 0.0)
        or not np.allclose(m.actuator_gear[:, 0], gear)
        or not np.allclose(m.dof_damping, damping)
    ):
        raise ValueError(
            f"torque actuators must be motors with gear=GEAR={gear}, gainprm[0]=1 and "
            f"no bias on joints with damping=DAMPING={damping}, got gear "
            f"{m.actuator_gear[:, 0]}, gainprm[0] {m.actuator_gainprm[:, 0]}, biasprm "
            f"{m.actuator_biasprm[:, :3].tolist()} and damping {m.dof_damping}"
        )
    if not np.allclose(m.actuator_ctrlrange, [-1.0, 1.0]):
        raise ValueError(f"actuator ctrlrange must be [-1, 1], got {m.actuator_ctrlrange.tolist()}")
    if not np.all(m.actuator_trnid[:, 0] == np.arange(m.nu)):
        raise ValueError(f"actuator i must drive joint i, got joints {m.actuator_trnid[:, 0]}")
    if not np.allclose(m.opt.timestep, 0.01):
        raise ValueError(f"expected timestep 0.01, got {m.opt.timestep}")
