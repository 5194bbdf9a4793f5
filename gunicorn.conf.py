"""gunicorn's settings for pallapp, read when gunicorn starts in the checkout's root directory
(one host with gunicorn alone; the production topology uses deploy/gunicorn.conf.py).

Workers count failed logins in their own memory unless PALLAPP_RATELIMIT_STORAGE_URI names a
Redis that they share: the hook tells the app how many workers there are (pallapp.config).
"""

from pallapp.config import gunicorn_on_starting as on_starting  # noqa: F401  (a gunicorn hook)
from pallapp.config import (  # noqa: F401  (a gunicorn hook)
    gunicorn_post_worker_init as post_worker_init,
)
