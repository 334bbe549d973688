"""`footprint`: submit compressed models, follow their runs, read results, reproduce one.

    footprint login [--url URL]                         a token in the config folder (0600)
    footprint submit IMAGE|TARBALL --benchmark B        upload (resumable), queue the runs
    footprint status RUN [--watch]                      exit code 0 only for a succeeded run
    footprint logs RUN
    footprint results --benchmark B [--format table|json|csv]
    footprint leaderboard B H
    footprint reproduce RESULT                          the same job on your Docker, compared

It talks to the documented API only, through footprint.client; Docker (for an image name
and for `reproduce`) through the Docker SDK.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from footprint.client import TERMINAL_STATES, ApiError, Client, Login, login_load, login_save

app = typer.Typer(help="Footprint: measured speed-ups of compressed models.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

# Exit codes: a run that did not succeed, and one that has not finished yet (without --watch).
EXIT_NOT_SUCCEEDED = 1
EXIT_NOT_FINISHED = 3
# Figures of a result shown in tables, in this order (submission subject).
TABLE_FIGURES = ("accuracy", "latency_p50", "speedup", "compression_ratio", "serve_peak_memory", "energy_per_inference")


def _client() -> Client:
    login = login_load()
    if login is None:
        errors.print("Not logged in: run [bold]footprint login --url https://…[/bold] first.")
        raise typer.Exit(2)
    return Client(login.url, login.token)


def _fail(exc: ApiError) -> typer.Exit:
    retry = f" Try again in {exc.retry_after_s} s." if exc.retry_after_s else ""
    errors.print(f"[red]{exc.message}[/red] ({exc.code}).{retry}")
    for field, messages in (exc.fields or {}).items():
        errors.print(f"  {field}: {messages}")
    return typer.Exit(EXIT_NOT_SUCCEEDED)


def _figure_text(figure: dict[str, Any] | None) -> str:
    if figure is None or figure.get("value") is None:
        return "—"
    label = "" if figure["label"] == "measured" else f" ({figure['label']})"
    return f"{figure['value']:.4g} {figure['unit']}{label}"


@app.command()
def login(
    url: Annotated[str, typer.Option(help="the platform's address")] = "",
    token: Annotated[str, typer.Option(help="a token made on /account/tokens/")] = "",
    username: Annotated[str, typer.Option(help="make a token with your user name and password instead")] = "",
) -> None:
    """Store a personal API token in your config folder (readable by you only)."""
    saved = login_load()
    url = url or (saved.url if saved else "") or typer.prompt("Footprint address", default="http://127.0.0.1:8000")
    if username:
        password = typer.prompt("Password", hide_input=True)
        try:
            with Client(url) as anonymous:
                token = anonymous.token_with_password(username=username, password=password)["token"]
        except ApiError as exc:
            raise _fail(exc) from None
    token = token or typer.prompt("API token (make one on /account/tokens/)", hide_input=True)
    try:
        with Client(url, token) as client:
            me = client.me()
    except ApiError as exc:
        raise _fail(exc) from None
    path = login_save(Login(url=url, token=token))
    console.print(f"Logged in to {url} as [bold]{me['username']}[/bold]; the token is in {path} (mode 0600).")


def _save_image(name: str, target: Path) -> None:
    """`docker save` of a local image, by its id (no names travel with it)."""
    import docker

    try:
        image = docker.from_env().images.get(name)
    except docker.errors.ImageNotFound:
        errors.print(f"No file {name!r} and no local image of that name: build it, or give the tarball.")
        raise typer.Exit(2) from None
    with console.status(f"Saving {name} ({image.id[:19]}) with Docker…"), open(target, "wb") as handle:
        for chunk in image.save(named=False):
            handle.write(chunk)


@app.command()
def submit(
    target: Annotated[str, typer.Argument(help="a `docker save` tarball, or the name of a local image")],
    benchmark: Annotated[str, typer.Option(help="the benchmark's slug")],
    hardware_class: Annotated[
        list[str] | None, typer.Option(help="where to run (repeat; default: every class)")
    ] = None,
    division: Annotated[str, typer.Option(help="standard, or own (your image serves itself)")] = "standard",
    paper: Annotated[str | None, typer.Option(help="a paper of yours this method implements")] = None,
    name: Annotated[str | None, typer.Option(help="how it appears on the leaderboard")] = None,
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Upload an image (resumable, with a progress bar) and queue its runs."""
    client = _client()
    with tempfile.TemporaryDirectory(prefix="footprint-submit-") as tmp:
        path = Path(target)
        if not path.is_file():
            path = Path(tmp) / "image.tar"
            _save_image(target, path)
        try:
            with Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                console=console,
            ) as progress:  # fmt: skip
                task = progress.add_task("Uploading", total=path.stat().st_size)
                upload = client.upload_tarball(path, progress=lambda done, total: progress.update(task, completed=done))
            submission = client.submit(
                name=name or Path(target).name,
                benchmark=benchmark,
                division=division,
                upload=upload["id"],
                hardware_classes=hardware_class or None,
                paper=paper,
                description=description,
            )
        except ApiError as exc:
            raise _fail(exc) from None
    console.print(f"Submission {submission['id']}: {client.web_url(submission['web_url'])}")
    for run in submission["runs"]:
        console.print(f"  run {run['id']} on {run['hardware_class']}: {client.web_url(run['web_url'])}")
    if not submission["runs"]:
        console.print("  No hardware class is active: no run is queued yet.")


def _run_table(run: dict[str, Any]) -> Table:
    table = Table(title=f"Run {run['id']} on {run['hardware_class']}: {run['state']}", show_lines=False)
    table.add_column("at")
    table.add_column("to")
    table.add_column("why")
    for transition in run["transitions"]:
        if not transition["ignored"]:
            table.add_row(transition["at"][:19].replace("T", " "), transition["to_state"], transition["reason"])
    return table


@app.command()
def status(
    run_id: Annotated[int, typer.Argument(metavar="RUN")],
    watch: Annotated[bool, typer.Option(help="follow the run until it finishes")] = False,
    interval: Annotated[float, typer.Option(help="seconds between looks")] = 5.0,
) -> None:
    """A run's state and transitions; the exit code is 0 only when it succeeded."""
    client = _client()
    try:
        if watch:
            with Live(console=console, refresh_per_second=2) as live:
                run = client.wait_for_run(run_id, poll_s=interval, on_update=lambda r: live.update(_run_table(r)))
        else:
            run = client.run(run_id)
            console.print(_run_table(run))
    except ApiError as exc:
        raise _fail(exc) from None
    if run["failure"]:
        console.print(f"[red]{run['failure']['text']}[/red]")
    if run["state"] == "succeeded":
        console.print(f"Result {run['result']}: {client.web_url(run['web_url'])}")
        return
    raise typer.Exit(EXIT_NOT_SUCCEEDED if run["state"] in TERMINAL_STATES else EXIT_NOT_FINISHED)


@app.command()
def logs(run_id: Annotated[int, typer.Argument(metavar="RUN")]) -> None:
    """The end of each phase's output (the submission's own text)."""
    try:
        tails = _client().run_logs(run_id)
    except ApiError as exc:
        raise _fail(exc) from None
    for tail in tails["logs"]:
        console.rule(f"{tail['phase']}{' (end only)' if tail['cut'] else ''}")
        # Printed as it is: never read as markup.
        console.print(tail["text"], markup=False, highlight=False, end="")
    if not tails["logs"]:
        console.print(f"Run {run_id} ({tails['state']}) has no log yet.")


def _results_table(rows: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in ("result", "method", "owner", "class", "standing", *TABLE_FIGURES):
        table.add_column(column)
    for row in rows:
        figures = {f["name"]: f for f in row["figures"] if f["subject"] == "submission"}
        table.add_row(
            str(row["id"]), row["method"], row["owner"], row["hardware_class"], row["standing"]["status"],
            *(_figure_text(figures.get(name)) for name in TABLE_FIGURES),
        )  # fmt: skip
    return table


@app.command()
def results(
    benchmark: Annotated[str, typer.Option(help="the benchmark's slug")],
    hardware_class: Annotated[str | None, typer.Option()] = None,
    track: Annotated[str | None, typer.Option(help="a budget track's slug")] = None,
    order: Annotated[str, typer.Option(help="a figure: -speedup, latency_p50, ...")] = "-id",
    format: Annotated[str, typer.Option(help="table, json or csv")] = "table",
) -> None:
    """Results you may see, as a table, JSON (with every figure's unit and label) or CSV."""
    client = _client()
    filters = {"benchmark": benchmark, "hardware_class": hardware_class, "track": track, "order": order}
    try:
        if format == "csv":
            sys.stdout.write(client.results_csv(**filters))
        elif format == "json":
            sys.stdout.write(json.dumps(client.results(**filters), indent=1) + "\n")
        elif format == "table":
            console.print(_results_table(client.results(**filters)))
        else:
            errors.print("--format is table, json or csv")
            raise typer.Exit(2)
    except ApiError as exc:
        raise _fail(exc) from None


@app.command()
def leaderboard(
    benchmark: Annotated[str, typer.Argument(help="the benchmark's slug")],
    hardware_class: Annotated[str, typer.Argument(help="the hardware class")],
    track: Annotated[str | None, typer.Option()] = None,
) -> None:
    """The leaderboard as the site shows it."""
    try:
        board = _client().leaderboard(benchmark, hardware_class, track=track)
    except ApiError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{board['benchmark']['name']} on {board['hardware_class']['name']}")
    columns = ("accuracy", "speedup", "latency_p50_us", "compression_ratio", "energy_per_inference_mj")
    for column in ("rank", "method", "owner", "status", *columns):
        table.add_column(column)
    for entry in board["entries"]:
        figures = entry["figures"]
        table.add_row(
            str(entry["rank"] or "—"), entry["method"], entry["owner"], entry["status"],
            *(_figure_text(figures[c]) for c in columns),
        )  # fmt: skip
    console.print(table)


# ---------------------------------------------------------------------------------------
# reproduce

BENCHMARK_FILES = {"train.npz": "train.npz", "test.npz": "test.npz", "reference-model.pt": "reference/model.pt"}


def reproduce_compare(published: list[dict[str, Any]], local: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each published figure beside the local one of the same subject and name, and their ratio."""
    mine = {(f["subject"], f["name"]): f for f in local}
    rows = []
    for figure in published:
        other = mine.get((figure["subject"], figure["name"]))
        local_value = other["value"] if other is not None and other["unit"] == figure["unit"] else None
        ratio = local_value / figure["value"] if local_value is not None and figure["value"] else None
        rows.append(
            {
                "subject": figure["subject"],
                "name": figure["name"],
                "unit": figure["unit"],
                "label": figure["label"],
                "published": figure["value"],
                "local": local_value,
                "ratio": ratio,
            }
        )
    return rows


def _local_job(
    client: Client, spec: dict[str, Any], folder: Path, runtime_image: str | None, cpuset: str | None
) -> dict:
    """The run's job spec, made to run here: files downloaded, the image in the local engine."""
    import docker

    engine = docker.from_env()
    submission = spec["submission"]
    if "image_reference" in submission:
        errors.print("This result's image is a registry reference; pull support in the runner code comes later.")
        raise typer.Exit(2)
    try:
        engine.images.get(submission["image_id"])
        # The runner uses the image already in the engine (by id) and reads no tarball then.
        tarball = folder / "image-not-needed.tar"
    except docker.errors.ImageNotFound:
        if "image_location" not in submission:
            errors.print(
                f"The image {submission['image_id'][:19]} is not in your Docker engine, and only its owner "
                "may download it: load it first (`docker load -i method.tar`)."
            )
            raise typer.Exit(2) from None
        with console.status("Downloading the submission's image…"):
            tarball = client.download(submission["image_location"], folder / "image.tar")
    data = folder / "data"
    with console.status("Downloading the benchmark's files…"):
        for name, relative in BENCHMARK_FILES.items():
            client.download(spec["benchmark"]["data_location"] + name + "/", data / relative)
    spec["submission"]["image_location"] = tarball.resolve().as_uri()
    spec["benchmark"]["data_location"] = data.resolve().as_uri() + "/"
    if runtime_image:
        spec["runtime_image"] = runtime_image
    if cpuset:
        spec["hardware_class"]["cpuset"] = cpuset
    return spec


@app.command()
def reproduce(
    result_id: Annotated[int, typer.Argument(metavar="RESULT")],
    runtime_image: Annotated[
        str | None, typer.Option(help="the standard runtime image here (default: the job's)")
    ] = None,
    cpuset: Annotated[str | None, typer.Option(help="CPUs for the containers (default: the job's)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the comparison as JSON")] = False,
) -> None:
    """Run the result's job on your Docker with the same image, job spec and runner code, and
    print the published figures next to yours with their ratio (yours / published)."""
    client = _client()
    try:
        result = client.result(result_id)
        spec = client.run_job(result["run"])
    except ApiError as exc:
        raise _fail(exc) from None
    from runners.job import run_job
    from runners.sandbox.docker import DockerSandbox

    folder = Path(tempfile.mkdtemp(prefix="footprint-reproduce-"))
    try:
        spec = _local_job(client, spec, folder, runtime_image, cpuset)
        started = time.monotonic()

        def report(state: str, reason: str) -> None:
            if not json_out:
                console.print(f"[{time.monotonic() - started:6.1f} s] {state}: {reason}")

        document = run_job(
            spec,
            sandbox=DockerSandbox(cgroup_root=os.environ.get("FOOTPRINT_CGROUP_ROOT", "footprint-reproduce")),
            report=report,
            work_root=folder / "work",
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    comparison = reproduce_compare(result["figures"], document.get("figures") or [])
    failure = document.get("failure")
    if json_out:
        sys.stdout.write(json.dumps({"status": document["status"], "failure": failure, "figures": comparison}) + "\n")
    else:
        table = Table(title=f"Result {result_id} ({result['method']}): published and here")
        for column in ("subject", "figure", "unit", "label", "published", "here", "here / published"):
            table.add_column(column)
        for row in comparison:
            table.add_row(
                row["subject"], row["name"], row["unit"], row["label"], f"{row['published']:.6g}",
                "—" if row["local"] is None else f"{row['local']:.6g}",
                "—" if row["ratio"] is None else f"{row['ratio']:.3f}",
            )  # fmt: skip
        console.print(table)
        if failure:
            console.print(
                f"[red]The local job failed in {failure['phase']} ({failure['code']}): {failure['reason']}[/red]"
            )
    if document["status"] != "succeeded":
        raise typer.Exit(EXIT_NOT_SUCCEEDED)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
