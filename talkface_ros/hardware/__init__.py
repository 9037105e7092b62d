"""talkface_ros.hardware"""
