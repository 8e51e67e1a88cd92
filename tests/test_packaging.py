"""The ways of running synth say the same thing: README, Dockerfile, CI, Spaces files."""
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_readme_commands_are_what_docker_and_ci_run():
    assert "pip install -r requirements.txt && python app.py" in README
    assert "RUN pip install --no-cache-dir -r requirements.txt" in DOCKERFILE
    assert 'CMD ["python", "app.py"]' in DOCKERFILE
    test_command = "pip install -r requirements-dev.txt && python -m pytest"
    assert test_command in README
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == test_command


def test_space_front_matter_and_system_packages():
    front_matter = README.split("---")[1]
    assert "sdk: docker" in front_matter and "app_port: 7860" in front_matter
    packages = [p for p in (ROOT / "packages.txt").read_text().split() if not p.startswith("#")]
    assert "ffmpeg" in packages
    assert all(re.search(rf"\b{p}\b", DOCKERFILE) for p in packages)
    assert "useradd --create-home --uid 1000 user" in DOCKERFILE and "GRADIO_SERVER_NAME=0.0.0.0" in DOCKERFILE


def test_quick_start_installs_the_synth_command():
    """`pip install -r requirements.txt` installs the package itself, so the `synth` command
    that the README and the app's messages name is there after the quick start."""
    requirements = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert requirements == ["-e ."]
    assert 'synth = "synth.cli:main"' in (ROOT / "pyproject.toml").read_text()
    assert DOCKERFILE.index("COPY --chown=user synth ./synth") < DOCKERFILE.index("RUN pip install")
