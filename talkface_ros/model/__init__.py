"""talkface_ros.model"""
