"""talkface_ros: speech in, a talking robot face out."""
__version__ = "0.1.0"
