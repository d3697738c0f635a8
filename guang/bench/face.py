"""Face pipeline on one core (DESIGN §7: 640 px, 1–3 faces, ≥ 30 frames/s).

The pipeline judged against the budget is the camera agent's (`edge.agent.CameraAgent`): SCRFD on every
frame, a tracker, and a MobileFaceNet embedding only when a person appears (plus a few re-checks while
they are anonymous), then zones and events. It runs over synthetic store clips (`edge.synthetic`) in
which 1, 2 or 3 of the shipped people walk in, stand at shelves and leave; frame → event latency is the
time from a frame's arrival to the events it caused. Beside it, the naive pipeline that embeds every
face in every frame (`InsightFaceModel.detect`) is measured too.

Naive-pipeline frames are crops of insightface's t1.jpg holding 1, 2 and 3 faces, letterboxed to the
detector's square input; it is SCRFD detection, alignment and a MobileFaceNet embedding of every face.
Both run ONNX Runtime on one intra-op thread, every thread of the process pinned to one CPU while
measuring. The floors take turns with the pipeline in the same run on the same CPU: a bare
ONNX Runtime run of the detector on the same 640×640 input, and of the recognizer on one 112×112
aligned crop (insightface's Tom_Hanks_54745.png is one).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from guang.adapters.face_model import InsightFaceModel, session_options
from guang.bench.report import machine_facts, percentiles_ms, write_report
from guang.runtime import progress_bar
from guang.settings import Settings

BUDGET_FPS = 30.0
THREADS = 1
ROUND = 10  # calls of one kind in a row before the next kind takes its turn
# (x1, y1, x2, y2) crops of t1.jpg (1280×886) with 1, 2 and 3 whole faces, left to right
CROPS = {1: (0, 100, 240, 560), 2: (0, 100, 420, 560), 3: (0, 100, 620, 560)}
DETECTOR_MEAN, DETECTOR_STD = 127.5, 128.0  # SCRFD's preprocessing in insightface
RECOGNIZER_MEAN, RECOGNIZER_STD = 127.5, 127.5  # ArcFace's


def _image(name: str) -> np.ndarray:
    from insightface.data import get_image

    return np.asarray(get_image(name), dtype=np.uint8)


def letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """The image scaled to fit a size×size frame, centred on black."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = round(width * scale), round(height * scale)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    frame = np.zeros((size, size, 3), dtype=np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    frame[top : top + new_h, left : left + new_w] = resized
    return frame


def frames(size: int) -> dict[int, np.ndarray]:
    """One size×size frame per face count."""
    t1 = _image("t1")
    return {count: letterbox(t1[y1:y2, x1:x2], size) for count, (x1, y1, x2, y2) in CROPS.items()}


@contextlib.contextmanager
def one_cpu() -> Iterator[int]:
    """Pin every thread of this process to one CPU (the last allowed one); restore on exit."""
    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)
    threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    for tid in threads:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, {cpu})
    cv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield cpu
    finally:
        cv2.setNumThreads(cv_threads)
        for tid in [int(tid) for tid in os.listdir("/proc/self/task")]:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, allowed)


def _measure(
    calls: dict[str, Callable[[], object]], n: int, warmup: int, advance: Callable[[int], None]
) -> dict[str, dict[str, Any]]:
    """Per-call latencies and calls per second of each call, after `warmup` untimed calls each.

    The calls take turns in rounds of `ROUND` so that noise from other processes lands on all of
    them alike, and the ratios between them stay meaningful on a busy machine."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    while len(samples[next(iter(calls))]) < n:
        for name, call in calls.items():
            batch = min(ROUND, n - len(samples[name]))
            for _ in range(batch):
                begin = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - begin)
            advance(batch)
    return {name: {"per_s": round(len(s) / sum(s), 1), **percentiles_ms(s)} for name, s in samples.items()}


def _floors(model: InsightFaceModel, frame: np.ndarray) -> dict[str, Callable[[], object]]:
    """Bare ONNX Runtime runs of the detector on the frame's blob and the recognizer on one aligned crop."""
    import onnxruntime as ort

    size = model.det_size
    detector_blob = cv2.dnn.blobFromImage(
        frame, 1.0 / DETECTOR_STD, (size, size), (DETECTOR_MEAN,) * 3, swapRB=True
    )
    crop = _image("Tom_Hanks_54745")
    recognizer_blob = cv2.dnn.blobFromImage(
        crop, 1.0 / RECOGNIZER_STD, (112, 112), (RECOGNIZER_MEAN,) * 3, swapRB=True
    )
    calls: dict[str, Callable[[], object]] = {}
    for task, blob in (("detection", detector_blob), ("recognition", recognizer_blob)):
        session = ort.InferenceSession(
            str(model.files[task]), session_options(THREADS), providers=["CPUExecutionProvider"]
        )
        feed = {session.get_inputs()[0].name: blob}
        calls[task] = partial(session.run, None, feed)
    return calls


AGENT_CLIP_S = 12.0
AGENT_FPS = 15.0


def agent_clips(width: int = 640, height: int = 480) -> tuple[Any, dict[int, list[np.ndarray]]]:
    """Synthetic clips with 1, 2 and 3 people in view (they come in, stand at a shelf, leave)."""
    from edge.face_images import shipped_people
    from edge.synthetic import Stop, SyntheticCamera, Visit, sharp_people
    from edge.zones import ZoneMap, strips

    zones = ZoneMap(strips([(f"z{i}", [], f"zone {i}") for i in range(4)], width=width, height=height))
    people = sharp_people(shipped_people())
    clips = {}
    for count in (1, 2, 3):
        visits = [
            Visit(person=people[i], enter_s=0.4 * i, leave_s=AGENT_CLIP_S - 0.4 * i,
                  stops=(Stop(zones.areas[i].zone_id, 1.5 + 0.4 * i, AGENT_CLIP_S - 1.5 - 0.4 * i),))
            for i in range(count)
        ]  # fmt: skip
        camera = SyntheticCamera(
            zones, visits, width=width, height=height, fps=AGENT_FPS, seconds=AGENT_CLIP_S
        )
        clips[count] = [frame.image for frame in camera]
    return zones, clips


def measure_agent(model: InsightFaceModel, advance: Callable[[int], None]) -> dict[str, dict[str, Any]]:
    """Frames/s of the camera agent over each clip, and frame → event latency, on the pinned core."""
    import tempfile

    from edge.agent import CameraAgent, Placement
    from edge.face_eval import DEFAULT_MATCH_THRESHOLD
    from edge.identity import Gallery

    zones, clips = agent_clips()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count, clip in clips.items():
            gallery = Gallery(Path(folder) / f"gallery-{count}.sqlite", dim=model.dim)
            agent = CameraAgent(
                model=model, gallery=gallery, zones=zones, threshold=DEFAULT_MATCH_THRESHOLD,
                placement=Placement(device_id="bench-cam", store_id="bench-store", mall_id="bench-mall"),
            )  # fmt: skip
            per_frame, to_event = [], []
            start_ms = int(time.time() * 1000)
            for index, image in enumerate(clip):
                began = time.perf_counter()
                events = agent.process(image, start_ms + int(index * 1000 / AGENT_FPS))
                spent = time.perf_counter() - began
                per_frame.append(spent)
                if events:
                    to_event.append(spent)
            agent.finish()
            gallery.close()
            advance(len(clip))
            results[str(count)] = {
                "faces": count,
                "frames": len(clip),
                "frames_per_s": round(len(per_frame) / sum(per_frame), 1),
                "embeddings": agent.embeddings_computed,
                **percentiles_ms(per_frame),
                "frame_to_event": percentiles_ms(to_event),
            }
    return results


def main(*, json_path: Path, settings: Settings, frames_per_count: int, warmup: int) -> None:
    n = frames_per_count
    det_size = settings.face_det_size
    model = InsightFaceModel(
        root=settings.data_dir / "insightface",
        model_dir=settings.face_model_dir,
        det_size=det_size,
        threads=THREADS,
    )
    test_frames = frames(det_size)
    for count, frame in test_frames.items():
        found = len(model.detect(frame))
        if found != count:
            raise RuntimeError(f"the {count}-face frame gave {found} faces at {det_size} px")
    floor_calls = _floors(model, test_frames[1])

    calls: dict[str, Callable[[], object]] = {
        **floor_calls,
        **{str(count): partial(model.detect, f) for count, f in test_frames.items()},
    }
    agent_frames = 3 * round(AGENT_CLIP_S * AGENT_FPS)
    with (
        one_cpu() as cpu,
        progress_bar("detector, recognizer, 1-3 faces, agent", n * len(calls) + agent_frames) as advance,
    ):
        measured = _measure(calls, n, warmup, advance)
        agent = measure_agent(model, advance)
    floors = {task: measured.pop(task) for task in floor_calls}
    pipeline = {count: {"faces": int(count), **figures} for count, figures in measured.items()}

    detector_ms, recognizer_ms = floors["detection"]["p50_ms"], floors["recognition"]["p50_ms"]
    for figures in pipeline.values():
        models_ms = detector_ms + figures["faces"] * recognizer_ms
        figures |= {
            "frames_per_s": figures.pop("per_s"),
            "p50_over_detector": round(figures["p50_ms"] / detector_ms, 2),
            "p50_over_models": round(figures["p50_ms"] / models_ms, 2),
            "models_floor_frames_per_s": round(1000 / models_ms, 1),
        }
    for figures in agent.values():
        figures["p50_over_detector"] = round(figures["p50_ms"] / detector_ms, 2)
    # the budget is stated at 640 px: another detector size is measured but not judged
    met = all(f["frames_per_s"] >= BUDGET_FPS for f in agent.values()) if det_size == 640 else None
    fps = " / ".join(str(figures["frames_per_s"]) for figures in agent.values())
    naive_fps = " / ".join(str(figures["frames_per_s"]) for figures in pipeline.values())
    latency = " / ".join(str(f["frame_to_event"]["p99_ms"]) for f in agent.values())
    report: dict[str, Any] = {
        "benchmark": "face: the camera agent (detect every frame, embed new people) and the naive pipeline "
        "(embed every face every frame), 1 core, vs bare ONNX Runtime detector and recognizer",
        "headline": (
            f"agent {fps} frames/s with 1/2/3 faces at {det_size} px on 1 core, frame→event p99 {latency} ms "
            f"(every face embedded every frame: {naive_fps}; floors p50: detector {detector_ms} ms, "
            f"recognizer {recognizer_ms} ms per face)"
        ),
        "budget": {"frames_per_s": BUDGET_FPS, "det_size": 640, "cores": 1, "faces": "1-3"},
        "model": {
            "name": model.name,
            "files": {task: path.name for task, path in model.files.items()},
            "dim": model.dim,
            "det_size": det_size,
            "onnxruntime": version("onnxruntime"),
            "insightface": version("insightface"),
            "intra_op_threads": THREADS,
            "pinned_cpu": cpu,
        },
        **{"frames_per_face_count": frames_per_count, "warmup": warmup},
        "floors": {
            "detector": {**floors["detection"], "input": f"1×3×{det_size}×{det_size}"},
            "recognizer": {**floors["recognition"], "input": "1×3×112×112"},
        },
        "agent": agent,
        "pipeline": pipeline,
        **{"met": met, "machine": machine_facts()},
    }

    def cells(f: dict[str, Any]) -> str:
        return f"{f['p50_ms']} / {f['p99_ms']}"

    rows = [
        ("model / input / CPU", f"{model.name} / {det_size} px / cpu {cpu}"),
        ("floor: bare detector p50/p99 ms", cells(floors["detection"])),
        ("floor: bare recognizer p50/p99 ms", cells(floors["recognition"])),
        *((f"agent, {c} face(s): frames/s", str(f["frames_per_s"])) for c, f in agent.items()),
        *((f"agent, {c} face(s): frame p50/p99 ms", cells(f)) for c, f in agent.items()),
        *((f"agent, {c} face(s): frame→event p50/p99 ms", cells(f["frame_to_event"]))
          for c, f in agent.items()),
        *((f"agent, {c} face(s): embeddings / frames", f"{f['embeddings']} / {f['frames']}")
          for c, f in agent.items()),
        *((f"agent, {c} face(s): p50 ÷ bare detector", f"{f['p50_over_detector']}x")
          for c, f in agent.items()),
        *((f"embed every face, {c}: frames/s", str(f["frames_per_s"])) for c, f in pipeline.items()),
        *((f"embed every face, {c}: p50/p99 ms", cells(f)) for c, f in pipeline.items()),
        *((f"embed every face, {c}: p50 ÷ det / ÷ (det+{c}×rec)",
           f"{f['p50_over_detector']}x / {f['p50_over_models']}x") for c, f in pipeline.items()),
        *((f"embed every face, {c}: frames/s of bare models", str(f["models_floor_frames_per_s"]))
          for c, f in pipeline.items()),
        (f"budget: agent ≥ {BUDGET_FPS:g} frames/s at 640 px",
         "not judged" if met is None else "met" if met else "NOT met"),
    ]  # fmt: skip
    title = f"face pipeline, 1 core, {det_size} px ({frames_per_count} frames per face count)"
    write_report(json_path, report, rows, title)
