"""`talkface distill`: the one-step student from a trained teacher (see talkface_ros.model.train)."""
from talkface_ros.model.train import add_distill_arguments as add_arguments  # noqa: F401
from talkface_ros.model.train import run_distill as run  # noqa: F401
