"""Tests of envs/reach_model.py: the spec of each control mode and the contract checks."""

import mujoco
import numpy as np
import pytest

from jepa_agent.envs import Reach2DEnv
from jepa_agent.envs.reach_model import check_reach_model, reach_model_spec


def _args(control: str) -> dict:
    return {"control": control, "vmax": Reach2DEnv.VMAX, "kv": Reach2DEnv.KV, "gear": Reach2DEnv.GEAR,
            "damping": Reach2DEnv.DAMPING}


def test_torque_spec_makes_damped_motors_and_passes_the_check():
    """control="torque" gives motors with GEAR on joints damped by DAMPING; the check accepts it."""
    model = reach_model_spec(Reach2DEnv.MJCF, control="torque", gear=Reach2DEnv.GEAR, damping=Reach2DEnv.DAMPING).compile()
    np.testing.assert_allclose(model.actuator_gear[:, 0], Reach2DEnv.GEAR)
    np.testing.assert_allclose(model.dof_damping, Reach2DEnv.DAMPING)
    assert [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) for i in range(model.nu)] == [
        "joint0_motor", "joint1_motor"]
    check_reach_model(model, **_args("torque"))


def test_check_rejects_a_model_of_the_other_control_mode():
    """A velocity-servo model fails the torque check and vice versa, naming what was expected."""
    velocity = reach_model_spec(Reach2DEnv.MJCF, control="velocity", gear=(), damping=()).compile()
    check_reach_model(velocity, **_args("velocity"))
    with pytest.raises(ValueError, match="torque actuators must be motors"):
        check_reach_model(velocity, **_args("torque"))
    torque = reach_model_spec(Reach2DEnv.MJCF, control="torque", gear=Reach2DEnv.GEAR, damping=Reach2DEnv.DAMPING)
    with pytest.raises(ValueError, match="actuators must be velocity servos"):
        check_reach_model(torque.compile(), **_args("velocity"))
    with pytest.raises(ValueError, match=r"GEAR and DAMPING must have shape \(nu,\)=\(2,\)"):
        reach_model_spec(Reach2DEnv.MJCF, control="torque", gear=(1.0,), damping=(1.0,))
