"""talkface_ros.eval"""
