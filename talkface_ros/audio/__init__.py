"""talkface_ros.audio"""
