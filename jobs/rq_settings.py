"""Settings for `rq worker -c jobs.rq_settings`: REDIS_URL, plain or through Sentinel.

RQ's own `--url` takes only a plain URL; its config module may instead hold a SENTINEL dict,
which jobs.redis_client derives from a `redis+sentinel://` REDIS_URL, so the Procfile and the
systemd units start workers the same way whichever Redis the deployment runs.
"""

from __future__ import annotations

import os

from jobs.redis_client import rq_settings

globals().update(rq_settings(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")))
