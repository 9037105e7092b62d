"""talkface_ros.sim"""
