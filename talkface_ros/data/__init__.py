"""talkface_ros.data"""
