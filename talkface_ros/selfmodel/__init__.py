"""talkface_ros.selfmodel"""
