"""Imported once by the fork server of tests/celery_processes.py: what every
Celery worker and beat imports before it builds the app, so that each fork
inherits it instead of importing it again (about 1 s of CPU a process).

Not ``worker``: importing it builds the app, from the environment each fork
sets for itself. Every module of campaign is imported, as the app does.
"""

import gc
import importlib
import pkgutil

import celery.__main__
import celery.apps.beat
import celery.apps.worker
import celery.beat
import celery.bin.beat
import celery.bin.celery
import celery.bin.worker
import celery.concurrency.solo
import celery.worker.consumer  # noqa: F401
import kombu.transport.redis  # noqa: F401

import campaign

for _module in pkgutil.walk_packages(campaign.__path__, "campaign."):
    if ".translations" not in _module.name:
        importlib.import_module(_module.name)

# What every fork inherits stays for its life: out of the garbage collector's
# walks (the prefork servers' practice: also keeps the pages shared).
gc.freeze()
