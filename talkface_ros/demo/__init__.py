"""talkface_ros.demo: the user-facing demo pieces (render, make run)."""
