"""The deployed path (onnxruntime backend, face_inference node) never imports torch: ~200 MB less RSS."""
import subprocess
import sys


def test_onnxruntime_streamer_and_node_module_do_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "import talkface_ros.nodes.face_inference\n"
        "from talkface_ros.model.streamer import FaceStreamer\n"
        "s = FaceStreamer.from_pretrained(None)\n"
        "frames = s.push(np.zeros(3200, dtype=np.int16))\n"
        "assert len(frames) == 10, len(frames)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
