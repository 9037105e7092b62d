"""talkface_ros.nodes"""
