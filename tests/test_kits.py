"""The deployment kits, run as the platforms run them: the Gradescope zip unpacked into a fake /autograder,
its setup.sh building the virtual environment from the wheel inside it and its run_autograder grading each
submission layout; the GitHub Classroom template's workflow run step by step, its reporter fed the
documented inputs. Offline: pip installs the kit's wheel with no dependencies, and the new virtual
environment borrows this one's (a .pth file), as PyPI would have given them."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import REPO
from test_grading_exports import GRADESCOPE_SCHEMA, decoded, reporter

LAMBDALAB = Path(sys.executable).parent / "lambdalab"
SECRET = "c3" * 32
PROXY = "01-proxy-response"
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def lambdalab(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(LAMBDALAB), *args], capture_output=True, text=True, timeout=300, **kwargs)


def borrow_dependencies(venv: Path) -> None:
    """textual, pyyaml, jsonschema, pygments, platformdirs: from this test run's environment."""
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys") / "fall"
    made = lambdalab(
        "classroom",
        "init",
        str(folder),
        "--exercise",
        "proxy-response",
        "--exercise",
        "least-privilege-role",
        "--secret",
        SECRET,
    )
    assert made.returncode == 0, made.stderr
    return folder


# --- Gradescope --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def autograder(tmp_path_factory, key) -> Path:
    """/autograder after Gradescope built the image: the zip in source/, setup.sh run."""
    root = tmp_path_factory.mktemp("gradescope") / "autograder"
    kit = root.parent / "autograder.zip"
    built = lambdalab(
        "classroom",
        "gradescope",
        str(key),
        "--out",
        str(kit),
        "--exercise",
        "proxy-response",
        "--exercise",
        "least-privilege-role",
        "--time-limit",
        "2m",
    )
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(kit) as archive:
        archive.extractall(root / "source")
        for entry in archive.infolist():
            (root / "source" / entry.filename).chmod(entry.external_attr >> 16)
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **OFFLINE, "AUTOGRADER_ROOT": str(root)},
    )
    assert setup.returncode == 0, setup.stderr
    borrow_dependencies(root / "lambdalab-venv")
    return root


def submit(root: Path, place) -> dict:
    """Gradescope's run for one submission: a fresh submission/ and results/, run_autograder, results.json."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
    (root / "submission").mkdir()
    place(root / "submission")
    run = subprocess.run(
        [str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env={**os.environ, "AUTOGRADER_ROOT": str(root)},
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    return results


def solved_workspace(folder: Path) -> Path:
    assert lambdalab("start", str(folder)).returncode == 0
    shutil.copyfile(REPO / "exercises" / PROXY / "solution" / "app.py", folder / PROXY / "app.py")
    return folder


def test_setup_installs_the_wheel_and_keeps_the_key_for_root(autograder):
    wheel = next((autograder / "source" / "wheels").glob("lambdalab-*.whl"))
    assert not [n for n in zipfile.ZipFile(wheel).namelist() if "/solution/" in n]  # the key carries the references
    installed = subprocess.run(
        [
            str(autograder / "lambdalab-venv" / "bin" / "python"),
            "-I",
            "-c",
            "import lambdalab, sys; print(lambdalab.__file__)",
        ],
        capture_output=True,
        text=True,
    )
    assert "lambdalab-venv" in installed.stdout
    key = autograder / "source" / "key"
    assert all(not stat.S_IMODE(p.stat().st_mode) & 0o077 for p in (key, *key.rglob("*")))


def test_a_workspace_at_the_root_of_the_upload(autograder):
    results = submit(autograder, solved_workspace)
    assert results["score"] == 8  # proxy-response solved; least-privilege-role's starter earns nothing
    assert "Graded the exercise folders in your upload." in results["output"]
    names = [t["name"] for t in results["tests"]]
    assert any(n.startswith("proxy-response:") for n in names) and any(
        n.startswith("least-privilege-role:") for n in names
    )


def test_a_workspace_in_a_folder_of_the_upload(autograder):
    results = submit(autograder, lambda s: solved_workspace(s / "my-work" / "lambdalab"))
    assert results["score"] == 8 and "my-work/lambdalab/" in results["output"]


def test_a_single_file(autograder):
    results = submit(
        autograder, lambda s: shutil.copyfile(REPO / "exercises" / PROXY / "solution" / "app.py", s / "app.py")
    )
    assert results["score"] == 8 and "Graded app.py as 01-proxy-response/app.py." in results["output"]
    flagged = [t for t in results["tests"] if t["name"].startswith("for the instructor")]
    assert flagged and "identical to the reference" in flagged[0]["name"] and flagged[0]["visibility"] == "hidden"


def test_an_empty_upload_is_told_what_to_upload(autograder):
    results = submit(autograder, lambda s: None)
    assert results["score"] == 0 and results["tests"] == [] and "Your submission is empty" in results["output"]


def test_files_that_fit_no_exercise_are_told_so(autograder):
    results = submit(autograder, lambda s: (s / "notes.txt").write_text("hello"))
    assert results["score"] == 0 and "notes.txt (belongs to no exercise here)" in results["output"]


def test_a_link_in_the_upload_is_never_followed(autograder):
    solution = autograder / "source" / "key" / "exercises" / PROXY / "solution" / "app.py"
    results = submit(autograder, lambda s: (s / "app.py").symlink_to(solution))
    assert results["score"] == 0 and "app.py (a link: upload the file itself)" in results["output"]
    linked = submit(
        autograder,
        lambda s: (
            solved_workspace(s / "ws"),
            (s / "ws" / PROXY / "app.py").unlink(),
            (s / "ws" / PROXY / "app.py").symlink_to(solution),
        ),
    )
    assert linked["score"] == 0 and "outside the workspace" in json.dumps(linked)


def test_run_autograder_writes_results_even_when_setup_failed(autograder, tmp_path):
    broken = tmp_path / "autograder"
    shutil.copytree(autograder / "source", broken / "source")
    (broken / "submission").mkdir()
    run = subprocess.run(
        [str(broken / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AUTOGRADER_ROOT": str(broken)},
    )
    assert run.returncode == 0
    results = json.loads((broken / "results" / "results.json").read_text())
    assert results["score"] == 0 and "setup.sh failed" in results["output"]


# --- GitHub Classroom ------------------------------------------------------------------------------


@pytest.fixture
def template(tmp_path, key) -> tuple[Path, str]:
    folder = tmp_path / "template"
    built = lambdalab(
        "classroom",
        "github",
        str(key),
        "--out",
        str(folder),
        "--exercise",
        "proxy-response",
        "--exercise",
        "least-privilege-role",
    )
    assert built.returncode == 0, built.stderr
    secret = tmp_path / "template.LAMBDALAB_KEY.txt"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and not list(folder.rglob("*LAMBDALAB_KEY*"))
    return folder, secret.read_text().strip()


def run_workflow(repository: Path, secret: str, tools: Path) -> tuple[dict, dict]:
    """Each step of .github/workflows/classroom.yml in order, as a runner would: `uses` steps stood in for
    (checkout: the repository is here; setup-python: a fresh virtual environment first on PATH; the reporter:
    its arithmetic, fed the environment variable it documents), `run` steps run by bash with the step's env.
    Returns (the reporter's view, the step outputs)."""
    workflow = yaml.safe_load((repository / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    outputs: dict[str, dict[str, str]] = {}
    env = {**os.environ, **OFFLINE, "PATH": f"{tools}:{os.environ['PATH']}", "GITHUB_WORKSPACE": str(repository)}
    env.pop("LAMBDALAB_KEY", None)
    reported = {}

    def expand(text):
        return _expressions(str(text), secret, outputs)

    for step in steps:
        step_env = {k: expand(v) for k, v in step.get("env", {}).items()}
        uses = step.get("uses", "")
        if uses.startswith("actions/setup-python"):
            subprocess.run([sys.executable, "-m", "venv", str(tools.parent / "python")], check=True)
            borrow_dependencies(tools.parent / "python")
            env["PATH"] = f"{tools.parent / 'python' / 'bin'}:{env['PATH']}"
        elif uses.startswith("classroom-resources/autograding-grading-reporter"):
            runners = [r.strip() for r in step["with"]["runners"].split(",")]
            results = [decoded(step_env[f"{runner.upper()}_RESULTS"]) for runner in runners]
            table, points, maximum = reporter(results)
            reported = {"table": table, "points": points, "max": maximum, "results": results}
        elif "run" in step:
            output = repository.parent / f"output-{step.get('id', 'step')}"
            output.write_text("")
            done = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=repository,
                capture_output=True,
                text=True,
                timeout=300,
                env={**env, **step_env, "GITHUB_OUTPUT": str(output)},
            )
            assert done.returncode == 0, f"{step['name']}: {done.stderr}"
            if "id" in step:
                outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )
    return reported, outputs


def _expressions(text: str, secret: str, outputs: dict) -> str:
    text = text.replace("${{ secrets.LAMBDALAB_KEY }}", secret)
    for step_id, values in outputs.items():
        for name, value in values.items():
            text = text.replace(f"${{{{ steps.{step_id}.outputs.{name} }}}}", value)
    return text


@pytest.fixture
def tools(tmp_path) -> Path:
    """What a hosted runner has that this machine may not: sudo (here: run the command as this user, root)."""
    folder = tmp_path / "runner" / "tools"
    folder.mkdir(parents=True)
    (folder / "sudo").write_text('#!/usr/bin/env bash\nwhile [[ "$1" == -* ]]; do shift; done\nexec "$@"\n')
    (folder / "sudo").chmod(0o755)
    return folder


def test_the_classroom_workflow_grades_with_the_key_and_the_reporter_agrees_with_lambdalab(template, tools):
    folder, secret = template
    wheel = next((folder / ".lambdalab").glob("lambdalab-*.whl"))
    assert not [n for n in zipfile.ZipFile(wheel).namelist() if "/solution/" in n]
    shutil.copyfile(REPO / "exercises" / PROXY / "solution" / "app.py", folder / PROXY / "app.py")  # the student's push
    reported, outputs = run_workflow(folder, secret, tools)
    graded = reported["results"][0]
    assert reported["points"] == 8 and reported["max"] == graded["max_score"] == 8 + 10  # proxy 8, least-privilege 10
    assert reported["table"] == pytest.approx(reported["points"])  # the table agrees with the points posted
    assert outputs["lambdalab"]["result"]


def test_student_code_never_sees_the_packed_key(template, tools):
    folder, secret = template
    (folder / PROXY / "app.py").write_text(
        "import os\n"
        "def handler(event, context):\n"
        "    seen = []\n"
        "    for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self']:\n"
        "        for name in ('environ', 'cmdline'):\n"
        "            try:\n"
        "                seen.append(open(f'/proc/{pid}/{name}', 'rb').read())\n"
        "            except OSError:\n"
        "                pass\n"
        "    if not any(b'lambdalab-key:' in text for text in seen):\n"
        "        return {'statusCode': 500}\n"
        "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'}, "
        "'body': '{\"photo\": \"p-1001\"}'}\n"
    )
    reported, _ = run_workflow(folder, secret, tools)
    proxy = [t for t in reported["results"][0]["tests"] if t["name"].startswith("proxy-response: answers 200")]
    assert proxy and all(t["status"] == "fail" for t in proxy)  # 500: nothing it could read held the key
