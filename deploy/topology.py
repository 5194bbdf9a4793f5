"""pallapp's production topology on one machine: nginx in front of two app instances.

    scripts/topology [--database-url URL] [--fresh] [--no-demo-data] [--redis-url URL]
                     [--https-port 8443] [--http-port 8080] [--app-ports 8201,8202]
                     [--instance-dir instance/topology] [-- extra gunicorn options]

It migrates the database (and loads the demo data into an empty one), starts two gunicorn
processes on two ports as two app hosts would be (deploy/gunicorn.conf.py, production
settings, one shared secret key, throttle counts in Redis, PALLAPP_TRUSTED_PROXIES=1), makes
a self-signed certificate with openssl and starts nginx (deploy/nginx/*.conf.in) in front of
them, as the current user with everything under the instance directory. It prints the URL
and runs until Ctrl-C or SIGTERM, then stops nginx and both instances.

Tests and benchmarks use `Topology` directly (tests/topology, benchmarks/load.py
--through-proxy). docs/operations.md maps each piece to its own host.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
STATIC_ROOT = ROOT / "pallapp" / "static"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pallapp_topology"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
HEALTH_PATH = "/healthz"


class TopologyError(RuntimeError):
    """The topology could not be started; the message says which piece and where its log is."""


def nginx_binary() -> str | None:
    """nginx from Debian's package (nginx-light or nginx), if installed."""
    # /usr/sbin is not on every user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on right now (the OS picks them)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@dataclass
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    instance_dir: Path = ROOT / "instance" / "topology"
    https_port: int = 8443
    http_port: int = 8080
    app_ports: tuple[int, ...] = (8201, 8202)
    #: What gunicorn serves: pallapp, or benchmarks.bench_wsgi:app (pallapp plus the floor).
    wsgi_app: str = "wsgi:app"
    #: Options after the config file's, e.g. ["--workers", "4"] for a measurement.
    gunicorn_options: list[str] = field(default_factory=list)
    #: More PALLAPP_* settings for every instance (e.g. lower login limits in a test).
    environment: dict[str, str] = field(default_factory=dict)
    demo_data: bool = True
    #: One key for all instances (a session made by one is valid on the other); random if None.
    secret_key: str | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"


@dataclass
class Instance:
    """One app host: a gunicorn master and its workers, in a process group of their own."""

    number: int
    port: int
    access_log: Path
    error_log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Topology:
    """Start with `start()` (or `with Topology(settings) as topology:`), stop with `stop()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.instance_dir.resolve()
        self.run_dir = self.dir / "run"
        self.log_dir = self.dir / "logs"
        self.tls_dir = self.dir / "tls"
        self.certificate = self.tls_dir / "cert.pem"
        self.key = self.tls_dir / "key.pem"
        self.nginx_conf = self.dir / "nginx.conf"
        self.site_conf = self.dir / "pallapp.conf"
        self.nginx_access_log = self.log_dir / "nginx-access.log"
        self.nginx_error_log = self.log_dir / "nginx-error.log"
        self.secret_key = settings.secret_key or secrets.token_hex(32)
        self.instances = [
            Instance(n, port, self.log_dir / f"app{n}-access.log", self.log_dir / f"app{n}.log")
            for n, port in enumerate(settings.app_ports, start=1)
        ]
        self.nginx: subprocess.Popen[bytes] | None = None

    # --- what clients need ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.settings.url

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this topology's certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def app_environment(self) -> dict[str, str]:
        """The environment of every app instance: production, one key, shared counts."""
        return os.environ | {
            "PALLAPP_ENV_NAME": "production",
            "PALLAPP_SECRET_KEY": self.secret_key,
            # Invitation links name the site users reach: the proxy's address.
            "PALLAPP_BASE_URL": self.url,
            "PALLAPP_DATABASE_URL": self.settings.database_url,
            "PALLAPP_RATELIMIT_STORAGE_URI": self.settings.redis_url,
            "PALLAPP_TRUSTED_PROXIES": "1",
        } | self.settings.environment

    # --- start and stop -----------------------------------------------------------------------

    def __enter__(self) -> Topology:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        nginx = nginx_binary()
        if nginx is None:
            raise TopologyError(
                "nginx is not installed (Debian: apt-get install nginx-light, or nginx)."
            )
        for directory in (self.run_dir, self.log_dir, self.tls_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.make_certificate()
        self.render_nginx_config()
        self._run([nginx, "-t", "-q", "-p", str(self.dir), "-c", str(self.nginx_conf)],
                  "nginx -t (the rendered configuration)")
        self.migrate()
        try:
            for instance in self.instances:
                self.start_instance(instance)
            deadline = time.monotonic() + timeout
            for instance in self.instances:
                self._wait_healthy(instance.url + HEALTH_PATH, None, deadline,
                                   f"app instance {instance.number}", instance.error_log)
            self.nginx = subprocess.Popen(  # noqa: S603 - our own command line
                [nginx, "-p", str(self.dir), "-c", str(self.nginx_conf)],
                cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                # Ctrl-C reaches only this script, which stops nginx gracefully, then the apps.
                start_new_session=True,
            )
            self._wait_healthy(self.url + HEALTH_PATH, self.ssl_context(), deadline,
                               "nginx", self.nginx_error_log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """nginx first (no new requests), then each instance with gunicorn's graceful stop."""
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        for instance in self.instances:  # all at once: each takes a few seconds
            if instance.alive():
                instance.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        for instance in self.instances:
            self.stop_instance(instance)

    def start_instance(self, instance: Instance) -> None:
        command = [
            sys.executable, "-m", "gunicorn",
            "--config", str(DEPLOY / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{instance.port}",
            "--access-logfile", str(instance.access_log),
            "--error-logfile", str(instance.error_log),
            "--name", f"pallapp-app{instance.number}",
            *self.settings.gunicorn_options,
            self.settings.wsgi_app,
        ]
        instance.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=self.app_environment(),
            # Its own process group: `kill_instance` ends the master and every worker at once,
            # as a host that loses power would.
            start_new_session=True,
        )

    def stop_instance(self, instance: Instance) -> None:
        process = instance.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill_instance(self, number: int) -> None:
        """SIGKILL one instance's master and workers together: a host lost mid-request."""
        instance = self.instances[number - 1]
        if instance.process is None:
            return
        os.killpg(instance.process.pid, signal.SIGKILL)
        instance.process.wait()

    def restart_instance(self, number: int, timeout: float = 60.0) -> None:
        """Start a stopped instance again and reload nginx, whose new workers forget that the
        instance had failed (else it would wait out fail_timeout before trying it)."""
        instance = self.instances[number - 1]
        self.start_instance(instance)
        self._wait_healthy(instance.url + HEALTH_PATH, None, time.monotonic() + timeout,
                           f"app instance {number}", instance.error_log)
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGHUP)
            time.sleep(1)  # the new nginx worker takes over the listening socket

    # --- the pieces ---------------------------------------------------------------------------

    def make_certificate(self) -> None:
        """A self-signed certificate for localhost and 127.0.0.1, made once per instance dir."""
        if self.certificate.exists() and self.key.exists():
            return
        self._run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "30", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
                "-keyout", str(self.key), "-out", str(self.certificate),
            ],
            "openssl (the self-signed certificate)",
        )
        self.key.chmod(0o600)

    def render_nginx_config(self) -> None:
        settings = self.settings
        upstreams = "\n".join(
            f"    server 127.0.0.1:{i.port} max_fails=1 fail_timeout=10s;" for i in self.instances
        )
        site = render(
            (DEPLOY / "nginx" / "pallapp.conf.in").read_text(),
            UPSTREAM_SERVERS=upstreams,
            HTTP_LISTEN=f"127.0.0.1:{settings.http_port}",
            HTTPS_LISTEN=f"127.0.0.1:{settings.https_port}",
            HTTPS_PORT_SUFFIX=f":{settings.https_port}",
            SERVER_NAME="localhost 127.0.0.1",
            TLS_CERTIFICATE=str(self.certificate),
            TLS_KEY=str(self.key),
            STATIC_ROOT=str(STATIC_ROOT),
            ERROR_PAGES=str(DEPLOY / "nginx" / "errors"),
            ACCESS_LOG=str(self.nginx_access_log),
        )
        self.site_conf.write_text(site)
        # Started by root, nginx would run its workers as "nobody", who may not read the
        # instance directory; locally they run as whoever started it.
        user = "user root root;" if os.geteuid() == 0 else ""
        self.nginx_conf.write_text(render(
            (DEPLOY / "nginx" / "local.conf.in").read_text(),
            USER_DIRECTIVE=user,
            RUN_DIR=str(self.run_dir),
            LOG_DIR=str(self.log_dir),
            SITE_CONF=str(self.site_conf),
        ))

    def migrate(self) -> None:
        """Create the database if needed, bring it to the newest schema, load demo data into
        an empty one (the demo-data command refuses production settings, so it runs alone in
        development settings on the same database)."""
        ensure_database(self.settings.database_url)
        environment = self.app_environment()
        self._run([sys.executable, "-m", "flask", "--app", "pallapp", "db", "upgrade"],
                  "flask db upgrade", env=environment)
        if self.settings.demo_data:
            self._run(
                [sys.executable, "-m", "flask", "--app", "pallapp", "demo-data", "--if-empty"],
                "flask demo-data", env=environment | {"PALLAPP_ENV_NAME": "development"},
            )

    # --- helpers ------------------------------------------------------------------------------

    def _run(self, command: list[str], what: str, env: dict[str, str] | None = None) -> None:
        result = subprocess.run(  # noqa: S603 - our own command lines
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise TopologyError(f"{what} failed:\n{result.stdout}{result.stderr}")

    def _wait_healthy(
        self, url: str, context: ssl.SSLContext | None, deadline: float, what: str, log: Path
    ) -> None:
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310 - our URL
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        tail = ""
        if log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise TopologyError(f"{what} did not answer {url} in time. Last lines of {log}:\n{tail}")


def render(template: str, **values: str) -> str:
    """Replace every @NAME@ in `template`; a placeholder left without a value is an error."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", template)))
    if left:
        raise TopologyError(f"no value for {', '.join(left)} in the nginx template")
    return template


def ensure_database(url: str, fresh: bool = False) -> None:
    """Create the PostgreSQL database named in `url` if it is missing (drop it first if
    `fresh`). Other databases are left to whoever made the URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    name = parsed.database
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if fresh:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def parse_args(argv: list[str] | None) -> tuple[Settings, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="PostgreSQL URL; the database is created if missing")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--no-demo-data", action="store_true")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="throttle counts shared by the instances")
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--app-ports", default="8201,8202",
                        help="one port per app instance, comma-separated")
    parser.add_argument("--instance-dir", type=Path, default=ROOT / "instance" / "topology")
    parser.add_argument("gunicorn_options", nargs="*",
                        help="after --: more gunicorn options, e.g. -- --workers 4")
    args = parser.parse_args(argv)
    ports = tuple(int(p) for p in args.app_ports.split(",") if p.strip())
    settings = Settings(
        database_url=args.database_url,
        redis_url=args.redis_url,
        instance_dir=args.instance_dir,
        https_port=args.https_port,
        http_port=args.http_port,
        app_ports=ports,
        gunicorn_options=args.gunicorn_options,
        demo_data=not args.no_demo_data,
        secret_key=os.environ.get("PALLAPP_SECRET_KEY"),
    )
    return settings, args.fresh


def main(argv: list[str] | None = None) -> int:
    settings, fresh = parse_args(argv)
    if fresh:
        ensure_database(settings.database_url, fresh=True)
    topology = Topology(settings)
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        topology.start()
    except TopologyError as error:
        print(f"topology: {error}", file=sys.stderr)
        return 1
    relative = os.path.relpath
    print(f"pallapp: {topology.url}/  (also https://localhost:{settings.https_port}/)")
    print(f"  certificate to trust: {relative(topology.certificate)}")
    print("  app instances: " + ", ".join(i.url for i in topology.instances))
    print(f"  logs: {relative(topology.log_dir)}/")
    print("Ctrl-C stops nginx and both instances.", flush=True)
    reported: set[int] = set()
    try:
        while not stop_requested:
            for instance in topology.instances:
                if not instance.alive() and instance.number not in reported:
                    reported.add(instance.number)
                    print(f"topology: app instance {instance.number} has stopped; nginx sends "
                          f"everything to the others (see {instance.error_log})", flush=True)
            if topology.nginx is not None and topology.nginx.poll() is not None:
                print(f"topology: nginx has stopped (see {topology.nginx_error_log})",
                      file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        print("Stopping…", flush=True)
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
