"""talkface_ros.face"""
