"""The report comparing two runs (``export RUN_A --compare RUN_B --report FILE.html``): one
self-contained page whose numbers are those of the runs' own predictions, and the one-line
refusals of what cannot be compared."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch

from cnn_core.cli import main
from cnn_core.data.datasets import load_dataset
from cnn_core.export.compare_data import ComparedRuns, ReportRun
from cnn_core.export.compare_report import compare_report_html
from cnn_core.introspection import compare_predictions, match_filters
from cnn_core.nn.models import model_for_weights, network_spec
from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.train.callbacks import EpochMetrics
from cnn_core.train.config import TrainConfig
from tests.pictures import make_folder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Every tag with its attributes, the page's text, each heading's, and each table's rows."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.headings: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._heading: list[str] | None = None
        self._cell: list[str] | None = None
        self.words: list[str] = []
        self.feed(text)
        self.text = "".join(self.words)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.words.append(data)
        for part in (self._heading, self._cell):
            if part is not None:
                part.append(data)

    def table(self, first_header: str) -> list[list[str]]:
        return next(t for t in self.tables if t and t[0] and t[0][0] == first_header)


def lenet_3x3_spec(folder: Path) -> Path:
    """LeNet-5 with 3x3 kernels (the first conv padded to keep 28x28)."""
    spec = network_spec("lenet5").to_json()
    spec["name"] = "lenet5-3x3"
    for layer in spec["layers"]:
        if layer["type"] == "conv2d":
            layer.update(kernel_size=3, padding=1 if layer["name"] == "conv1" else 0)
    path = folder / "lenet5-3x3.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """LeNet-5 and LeNet-5 with 3x3 kernels, one epoch each on the bundled digits."""
    root = tmp_path_factory.mktemp("compare")
    a, b = root / "runs" / "lenet5", root / "runs" / "lenet5-3x3"
    common = ["--epochs", "1", "--device", "cpu", "--seed", "3", "--quiet"]
    assert main(["train", "--arch", "lenet5", "--out", str(a), *common]) == 0
    assert main(["train", "--arch", str(lenet_3x3_spec(root)), "--out", str(b), *common]) == 0
    return a, b


@pytest.fixture(scope="module")
def report(runs, tmp_path_factory) -> Page:
    path = tmp_path_factory.mktemp("report") / "a-vs-b.html"
    assert main(["export", str(runs[0]), "--compare", str(runs[1]), "--report", str(path)]) == 0
    return Page(path.read_text(encoding="utf-8"))


def checkpoint_predictions(run: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A run's best checkpoint, loaded apart from the report: its conv kernels by layer name
    and the class it gives each test image of the bundled digits."""
    state = load_checkpoint(run / "checkpoints" / "best.pt")
    model = model_for_weights(state["model_meta"])
    model.load_state_dict(state["model"])
    with torch.no_grad():
        predictions = model.eval()(load_dataset("mnist-sample").test.images).argmax(1).numpy()
    kernels = {key.split(".")[-2]: value.numpy() for key, value in state["model"].items()
               if re.search(r"conv\d+\.weight$", key)}
    return kernels, predictions


def test_every_picture_is_inside_the_page_and_nothing_is_fetched(report: Page) -> None:
    images = [attrs for tag, attrs in report.tags if tag == "img"]
    assert len(images) > 40  # curves, 22 filter pairs, the disagreements
    for attrs in images:
        prefix = "data:image/png;base64,"
        assert attrs["src"].startswith(prefix)
        assert base64.b64decode(attrs["src"][len(prefix):], validate=True)[:8] == PNG_SIGNATURE
    tags = {tag for tag, _ in report.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed", "base"}
    for tag, attrs in report.tags:
        for name in ("src", "href", "srcset", "action", "data"):
            assert not attrs.get(name) or attrs[name].startswith("data:image/png;base64,"), tag
    style = "".join(attrs.get("style", "") for _, attrs in report.tags)
    assert "url(" not in style


def test_the_headlines_are_the_mean_matched_similarity_of_each_layer(runs, report) -> None:
    kernels_a, _ = checkpoint_predictions(runs[0])
    kernels_b, _ = checkpoint_predictions(runs[1])
    assert kernels_a["conv1"].shape[2:] == (5, 5) and kernels_b["conv1"].shape[2:] == (3, 3)
    for layer in ("conv1", "conv2"):
        _, similarity = match_filters(kernels_a[layer], kernels_b[layer])
        assert f"{layer}: {similarity.mean():.2f} matched similarity" in report.headings
    assert report.headings[0].startswith("lenet5") and "lenet5-3x3" in report.headings[0]


def test_the_class_table_and_the_disagreements_are_the_runs_own(runs, report) -> None:
    labels = load_dataset("mnist-sample").test.labels.numpy()
    _, pred_a = checkpoint_predictions(runs[0])
    _, pred_b = checkpoint_predictions(runs[1])
    c = compare_predictions(labels, pred_a, pred_b, 10)

    rows = report.table("class")[1:]
    assert [row[0] for row in rows[:-1]] == [str(k) for k in c.by_change()]
    for row, k in zip(rows, c.by_change()):
        assert row[1] == str(c.counts[k])
        assert row[2:4] == [f"{c.accuracy_a[k]:.1%}", f"{c.accuracy_b[k]:.1%}"]
        points = round(100 * c.change[k], 1)
        assert row[4] == ("0.0 pt" if points == 0 else
                          f"{'+' if points > 0 else '−'}{abs(points):.1f} pt")
    changes = [abs(c.change[k]) for k in c.by_change()]
    assert changes == sorted(changes, reverse=True)
    assert rows[-1][0] == "all" and rows[-1][2] == f"{np.mean(pred_a == labels):.1%}"

    runs_table = report.table("")
    assert runs_table[1][4] == f"{np.mean(pred_a == labels):.1%}"
    assert runs_table[2][4] == f"{np.mean(pred_b == labels):.1%}"
    for title, count in (("A right, B wrong", len(c.only_a_right)),
                         ("B right, A wrong", len(c.only_b_right))):
        heading = next(h for h in report.headings if h.startswith(title))
        assert heading.startswith(f"{title}: {count:,} image")
    thumbnails = [a for tag, a in report.tags if tag == "img" and a["alt"].startswith("test")]
    shown = [*c.only_a_right[:48], *c.only_b_right[:48]]
    assert [a["alt"] for a in thumbnails] == [f"test image {i}" for i in shown]


def test_the_settings_that_differ_are_listed(report: Page) -> None:
    rows = {row[0]: row[1:] for row in report.table("setting")[1:]}
    assert rows["arch"] == ["lenet5", "lenet5-3x3"]
    assert "kernel_size=5" in rows["layer 1 (conv1)"][0]
    assert "kernel_size=3" in rows["layer 1 (conv1)"][1]
    assert "seed" not in rows and "epochs" not in rows


def side(name: str, filters: dict[str, np.ndarray], predictions: list[int]) -> ReportRun:
    metrics = [EpochMetrics(1, 1.0, 0.5, 0.9, 0.6, 1e-3, 1.0, 1000.0)]
    return ReportRun(name, Path(name), TrainConfig(arch="lenet5"), 1, metrics, filters,
                     np.array(predictions), 0.5)


def test_layers_that_cannot_be_matched_are_said_in_a_line() -> None:
    rng = np.random.default_rng(0)
    a = side("a", {"conv1": rng.normal(size=(6, 1, 5, 5)),
                   "conv2": rng.normal(size=(16, 6, 5, 5)),
                   "conv3": rng.normal(size=(8, 16, 3, 3))}, [0, 1, 1, 0])
    b = side("b", {"conv1": rng.normal(size=(4, 1, 3, 3)),
                   "conv2": rng.normal(size=(16, 4, 3, 3)),
                   "conv4": rng.normal(size=(8, 16, 3, 3))}, [0, 0, 1, 1])
    labels = np.array([0, 1, 1, 1])
    pictures = np.zeros((4, 28, 28), np.uint8)
    page = Page(compare_report_html(ComparedRuns(
        a, b, ("zero", "one"), labels, pictures, compare_predictions(labels, a.predictions,
                                                                     b.predictions, 2))))
    assert any(h.startswith("conv1: ") and h.endswith("matched similarity")
               for h in page.headings)
    assert "conv2: not matched" in page.headings
    text = page.text
    assert "A's filters read 6 channels and B's 4" in text
    assert "2 of A's filters have no partner in B" in text
    assert "conv3: only in A" in text and "conv4: only in B" in text


# -- refusals ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory) -> Path:
    """A run tested on pictures of shapes, not digits."""
    root = tmp_path_factory.mktemp("shapes")
    folder = make_folder(root / "pictures", per_class=6, colour=False, sizes=(28,))
    out = root / "runs" / "shapes"
    assert main(["train", "--arch", "lenet5", "--dataset", str(folder), "--image-size", "28",
                 "--channels", "1", "--epochs", "1", "--device", "cpu", "--out", str(out),
                 "--quiet"]) == 0
    return out


@pytest.mark.parametrize("args, needle", [
    (["{a}", "--compare", "{b}"], "--compare: give --report FILE.html"),
    (["{a}", "--report", "{out}/r.html"], "--report: give --compare RUN_B"),
    (["{a}", "{b}", "--compare", "{b}", "--report", "{out}/r.html"],
     "--compare: compares one run with another; give one run before it"),
    (["{a}", "--compare", "{out}/nowhere", "--report", "{out}/r.html"],
     "nowhere: no such run folder or checkpoint file"),
    (["{a}", "--compare", "{b}", "--report", "{out}/r.pdf"], "is not an .html file name"),
    (["{a}", "--compare", "{b}", "--report", "{b}/r.html"], "exports never write into a run"),
    (["{a}", "--compare", "{shapes}", "--report", "{out}/r.html"],
     "the runs cannot be compared: A ("),
])
def test_what_cannot_be_compared_is_refused_in_one_line(
        args, needle, runs, shapes_run, tmp_path, capsys) -> None:
    where = {"a": runs[0], "b": runs[1], "shapes": shapes_run, "out": tmp_path}
    code = main(["export", *(arg.format(**where) for arg in args)])
    err = capsys.readouterr().err
    assert code in (1, 2) and needle in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir()) and not (runs[1] / "r.html").exists()


def test_an_existing_report_is_replaced_only_with_force(runs, tmp_path, capsys) -> None:
    path = tmp_path / "r.html"
    path.write_text("mine", encoding="utf-8")
    args = ["export", str(runs[0]), "--compare", str(runs[1]), "--report", str(path)]
    assert main(args) == 1 and "exists; give --force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "mine"
    lone = tmp_path / "b.pt"  # a checkpoint outside its run: its own history draws the curves
    shutil.copy(runs[1] / "checkpoints" / "best.pt", lone)
    assert main(["export", str(runs[0]), "--compare", str(lone), "--report", str(path),
                 "--force"]) == 0
    assert "wrote" in capsys.readouterr().out
    runs_table = Page(path.read_text(encoding="utf-8")).table("")
    assert runs_table[2][:2] == ["B", "b.pt"]
