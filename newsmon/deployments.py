"""The schedules in prefect.yaml, read for `newsmon serve`: one place, however the flows run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from newsmon.errors import ConfigError

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def schedules(path: Path = PREFECT_YAML) -> dict[str, list[dict[str, Any]]]:
    """Deployment name -> its schedules (each a dict with `cron` and `timezone`)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Could not read the schedules in {path}: {exc}") from None
    return {
        deployment["name"]: list(deployment.get("schedules") or [])
        for deployment in document.get("deployments", [])
    }
