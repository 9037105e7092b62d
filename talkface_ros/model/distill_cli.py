"""`talkface distill`: the one-step student from a trained teacher (arguments and run in train_cli)."""
from talkface_ros.model.train_cli import add_distill_arguments as add_arguments  # noqa: F401
from talkface_ros.model.train_cli import run_distill as run  # noqa: F401
