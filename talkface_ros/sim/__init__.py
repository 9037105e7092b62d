"""talkface_ros.sim"""
"""The simulated face (MuJoCo). Offscreen rendering needs its GL backend chosen before mujoco is
imported: osmesa (CPU) unless MUJOCO_GL is set already."""
from talkface_ros.sim.render import ensure_gl_backend

ensure_gl_backend()
