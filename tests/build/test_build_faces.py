import numpy as np
import pytest
from conftest import astronaut, coffee, grace_hopper
from PIL import Image

from idealtype.build.face_crops import DISPLAY_PX, display_crop_jpeg, display_square, model_input
from idealtype.build.face_detect import Detection, FaceDetector, canvas_size, choose_face


def face(x1, y1, x2, y2, prob=0.99) -> Detection:
    return Detection(box=(x1, y1, x2, y2), prob=prob, landmarks=())


def test_face_rule_prefers_large_clear_faces():
    big_unsure = face(0, 0, 100, 100, prob=0.80)
    small_sure = face(0, 0, 60, 60, prob=0.999)
    assert choose_face([small_sure, big_unsure], 40).face == big_unsure  # 8000 > 3596
    assert choose_face([face(0, 0, 100, 100, 0.3), small_sure], 40).face == small_sure
    tiny = face(0, 0, 30, 80)
    assert choose_face([tiny], 40) == choose_face([tiny], 40)
    assert choose_face([tiny], 40).reason == "face_too_small"
    assert choose_face([tiny], 40).n_faces == 1
    assert choose_face([tiny, small_sure], 40).face == small_sure
    assert choose_face([], 40).reason == "no_face"


def test_face_rule_in_a_frame_prefers_the_framed_central_subject():
    # An LFW-like 250 px group shot: the subject in the middle, a neighbour's bigger box cut
    # by the left edge. Plain area x probability would take the neighbour.
    subject = face(80, 70, 170, 180)
    neighbour_cut = face(-60, 40, 70, 200)
    assert choose_face([subject, neighbour_cut], 40).face == neighbour_cut
    assert choose_face([subject, neighbour_cut], 40, (250, 250)).face == subject
    # A clearly bigger, fully visible face still wins over a small central one.
    small_central = face(110, 110, 150, 150)
    big_side = face(150, 20, 245, 130)
    assert choose_face([small_central, big_side], 40, (250, 250)).face == big_side


def test_canvas_depends_on_the_photo_only():
    assert canvas_size(250, 250, 1024) == (1.0, 256, 256)
    scale, w, h = canvas_size(4000, 3000, 1024)
    assert scale == pytest.approx(0.256) and (w, h) == (1024, 768)
    assert canvas_size(64, 65, 1024)[1:] == (64, 128)


def test_display_square_stays_inside_the_photo():
    assert display_square((100, 100, 200, 200), (1000, 1000)) == (60, 60, 240, 240)
    # near the corner the square moves instead of being cut
    assert display_square((0, 0, 100, 100), (1000, 1000)) == (0, 0, 180, 180)
    # a photo smaller than the square: the square shrinks to the photo
    assert display_square((10, 10, 90, 90), (100, 120)) == (0, 0, 100, 100)


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(batch_size=8)


def test_batch_mixing_faces_and_no_faces(detector):
    """facenet-pytorch's own batched MTCNN.detect crashes on this batch under numpy 2."""
    size = (400, 400)
    photos = [grace_hopper().resize(size), coffee().resize(size), astronaut().resize(size)]
    found = detector.detect(photos)
    assert [len(faces) >= 1 for faces in found] == [True, False, True]
    alone = [detector.detect([photo])[0] for photo in photos]
    for in_batch, by_itself in zip(found, alone):
        assert len(in_batch) == len(by_itself)
        for a, b in zip(in_batch, by_itself):
            np.testing.assert_allclose(a.box, b.box, atol=1e-3)


def test_mixed_sizes_and_big_photos_map_back():
    grace = grace_hopper()  # 512 x 600
    small_detector = FaceDetector(max_side=300)  # detects grace at half size
    big = grace.resize((grace.width * 2, grace.height * 2))  # 4x the pixels, same canvas
    own_size, other = FaceDetector().detect([grace, astronaut()])
    assert len(other) >= 1
    scaled_down, scaled_big = small_detector.detect([grace, big])
    best = choose_face(own_size, 40).face
    width = best.box[2] - best.box[0]
    # the same face in each photo's own pixels, within detection jitter (10% of its size; a
    # wrong scale mapping would be off by half the coordinates)
    np.testing.assert_allclose(choose_face(scaled_down, 40).face.box, best.box, atol=0.1 * width)
    np.testing.assert_allclose(
        np.array(choose_face(scaled_big, 40).face.box) / 2, best.box, atol=0.1 * width
    )


def test_crops(detector):
    grace = grace_hopper()
    best = choose_face(detector.detect([grace])[0], 40).face
    tensor = model_input(grace, best.box, margin=0)
    assert tensor.shape == (3, 160, 160)
    assert -1.0 <= float(tensor.min()) and float(tensor.max()) <= 1.0
    jpeg = display_crop_jpeg(grace, best.box)
    import io

    shown = Image.open(io.BytesIO(jpeg))
    assert shown.format == "JPEG" and shown.size == (DISPLAY_PX, DISPLAY_PX)
