"""Frames from a camera, a video file or a folder of images, at most `max_fps`, skipped (never queued)
when the agent falls behind: a late frame is worth less than the current one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    ts_ms: int
    """When the frame was taken, epoch milliseconds."""
    taken: float
    """`time.perf_counter()` when it was read, to measure frame → event latency."""


@dataclass
class SourceStats:
    read: int = 0
    skipped: int = 0


def _video(path: Path) -> tuple[Iterator[tuple[float, np.ndarray]], float]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0

    def frames() -> Iterator[tuple[float, np.ndarray]]:
        index = 0
        try:
            while True:
                ok, image = capture.read()
                if not ok:
                    return
                yield index / fps, image
                index += 1
        finally:
            capture.release()

    return frames(), fps


def _folder(path: Path, fps: float) -> Iterator[tuple[float, np.ndarray]]:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {path}")
    for index, file in enumerate(files):
        image = cv2.imread(str(file))
        if image is not None:
            yield index / fps, image


def media_frames(spec: str, *, folder_fps: float = 10.0) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds into the media, BGR image) of a video file or an image folder."""
    path = Path(spec)
    if path.is_dir():
        return _folder(path, folder_fps)
    if path.is_file():
        return _video(path)[0]
    raise ValueError(f"{spec} is neither a camera index, a video file nor a folder of images")


def paced(
    media: Iterable[tuple[float, np.ndarray]],
    *,
    max_fps: float,
    realtime: bool,
    stats: SourceStats,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Frame]:
    """Media frames stamped from the start time. In real time, a frame whose moment has passed by more
    than one frame interval is skipped; frames closer than 1/`max_fps` to the last one are skipped too."""
    start = clock()
    interval = 1.0 / max_fps
    last: float | None = None
    for offset, image in media:
        stats.read += 1
        if last is not None and offset - last < interval - 1e-9:
            stats.skipped += 1
            continue
        if realtime:
            lag = clock() - (start + offset)
            if lag > interval:
                stats.skipped += 1
                continue
            if lag < 0:
                sleep(-lag)
        last = offset
        yield Frame(image=image, ts_ms=int((start + offset) * 1000), taken=time.perf_counter())


def camera_frames(index: int, *, max_fps: float, stats: SourceStats) -> Iterator[Frame]:
    """A live camera: each read is the newest frame; reads are spaced to at most `max_fps`."""
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise ValueError(f"cannot open camera {index}")
    interval = 1.0 / max_fps
    try:
        while True:
            began = time.perf_counter()
            ok, image = capture.read()
            if not ok:
                return
            stats.read += 1
            yield Frame(image=image, ts_ms=int(time.time() * 1000), taken=time.perf_counter())
            rest = interval - (time.perf_counter() - began)
            if rest > 0:
                time.sleep(rest)
    finally:
        capture.release()


def open_frames(spec: str, *, max_fps: float, realtime: bool, stats: SourceStats) -> Iterator[Frame]:
    """`spec` is a camera index (`0`), a video file or a folder of images."""
    if spec.isdigit():
        return camera_frames(int(spec), max_fps=max_fps, stats=stats)
    return paced(media_frames(spec, folder_fps=max_fps), max_fps=max_fps, realtime=realtime, stats=stats)
