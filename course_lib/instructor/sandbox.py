"""Runs one prepared notebook with student code in isolation and returns it executed.

Only the kernel runs inside the sandbox. The executor (nbclient, trusted) stays outside and
talks to the kernel over Jupyter's IPC transport: unix sockets in a folder bound into the
sandbox. Student code therefore cannot touch the executor, the notebook it writes or the
verdict. The kernel is started with Debian's ``bwrap`` (bubblewrap) in its own user, network,
PID, IPC and UTS namespaces, as an unprivileged user, with a fresh empty work folder (the only
writable place besides a private ``/tmp``) and read-only views of exactly what Python needs:
the system folders, the kernel's environment and interpreter, the ``course_lib`` package and
the dataset file. A cgroup (v1 ``memory`` and ``pids`` controllers) per kernel caps memory and
processes, rlimits cap file sizes and core dumps, and the executor enforces the time limits
(per cell, per notebook) and the output kept per cell.

When a notebook is stopped (out of memory, out of time, the kernel crashed), the cells that ran
keep their outputs and the stopped cell and every later code cell get an error output with one
plain sentence, so nbgrader scores them 0 and never full marks.

Two ways in, one implementation: :func:`execute` (the grader calls it) and
:class:`SandboxedExecute`, nbgrader's ``Execute`` preprocessor run through :func:`execute`
(``nbgrader_config.py`` configures it for autograde).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import course_lib
from course_lib import data
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Instance, Integer, Unicode, default

from .course import KERNEL_NAME

log = logging.getLogger(__name__)

GiB = 1024 ** 3
MB = 1000 ** 2
#: Where the sandbox's cgroups live (cgroup v1: one folder per controller).
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "course-sandbox"
#: Paths inside the sandbox.
HOME = PurePosixPath("/home/student")
WORK = HOME / "work"
COURSE_DIR = PurePosixPath("/opt/course")
DATA_DIR = COURSE_DIR / "data"
#: The unprivileged user the kernel runs as inside the sandbox.
SANDBOX_UID = 1000
INSTALL_HINT = "apt-get install -y bubblewrap"
#: Environment variables passed from the kernel's launch environment into the sandbox.
PASSED_ENV = ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING",
              "COURSE_GRADING_SEED",
              "PYTHONHASHSEED", "LANG", "LC_ALL")
#: Each maths library's thread setting, all set from :attr:`Limits.threads`.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start on this machine; the message says what to install or set."""


@dataclass(frozen=True)
class Limits:
    """What one notebook may use. Sizes in bytes, times in seconds."""

    memory: int = 4 * GiB
    processes: int = 512          # processes and threads together (the kernel's own included)
    file_size: int = 1 * GiB      # largest file the notebook may write
    cell_timeout: float = 300
    notebook_timeout: float = 600
    output_bytes: int = 1 * MB    # output kept per cell; the rest is cut
    threads: int = 0              # threads for the maths libraries; 0 = one per CPU core
    sandboxed: bool = True        # False runs the kernel unisolated (logged loudly)

    def thread_count(self) -> int:
        return self.threads or os.cpu_count() or 1


@dataclass(frozen=True)
class Result:
    """The executed notebook, the verdict (None when every cell ran) and the wall time."""

    notebook: NotebookNode
    verdict: str | None
    seconds: float


def describe_bytes(n: int) -> str:
    """4294967296 -> '4 GiB', 1000000 -> '1 MB': sizes as the README states them."""
    for unit, size in (("GiB", GiB), ("MiB", 1024 ** 2), ("MB", MB), ("kB", 1000)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


def describe_seconds(s: float) -> str:
    if s >= 60 and s % 60 == 0:
        minutes = int(s // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{s:g} s"


# --- can the sandbox start here? -----------------------------------------------------------

@functools.cache
def check_available() -> None:
    """Raise SandboxUnavailable unless bwrap, user namespaces and the cgroup controllers work."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            f"The grading sandbox needs bubblewrap, which is not installed: {INSTALL_HINT} "
            "(make env does it). To grade without isolation anyway (not for strangers' code), set "
            "c.SandboxedExecute.sandboxed = False in nbgrader_config.py.")
    probe = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            "bubblewrap cannot create namespaces on this machine "
            f"({probe.stderr.strip() or probe.returncode}): enable unprivileged user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0) or run "
            "the grader where they are allowed.")
    for controller in ("memory", "pids"):
        folder = CGROUP_ROOT / controller
        if not (folder / "cgroup.procs").is_file() or not os.access(folder, os.W_OK):
            raise SandboxUnavailable(
                f"The grading sandbox needs the cgroup v1 '{controller}' controller mounted "
                f"read-write at {folder} (run the grader as root on a cgroup v1 host).")


# --- one sandbox: folders, cgroups, the bwrap command ----------------------------------------

class Sandbox:
    """The folders and cgroups of one kernel, and the command that starts it isolated.

    A context manager: on exit every process in its cgroups is killed and the folders and
    cgroups are removed, so nothing survives the notebook.
    """

    def __init__(self, limits: Limits, files: Mapping[str, bytes] = {}, data_file: Path | None = None):
        self.limits = limits
        self.files = dict(files)
        self.data_file = Path(data_file).resolve() if data_file else None
        self.name = uuid.uuid4().hex[:12]
        self.root: Path | None = None
        self.cgroups: dict[str, Path] = {}

    # folders ---------------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.home / "work"

    @property
    def ipc(self) -> Path:
        """Holds the kernel's sockets and connection file: bound at the same path inside."""
        return self.root / "ipc"

    def __enter__(self) -> "Sandbox":
        self.root = Path(tempfile.mkdtemp(prefix="course-sandbox-"))
        self.work.mkdir(parents=True)
        self.ipc.mkdir()
        for name, content in self.files.items():
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise ValueError(f"A submission file name must be a relative path: {name!r}")
            target = self.work.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        self._seed_matplotlib_cache()
        (self.root / "etc").mkdir()
        (self.root / "etc" / "passwd").write_text(
            f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:{HOME}:/bin/sh\n")
        (self.root / "etc" / "group").write_text(f"student:x:{SANDBOX_UID}:\n")
        if self.limits.sandboxed:
            self._make_cgroups()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.kill_all()
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
            for folder in self.cgroups.values():
                for _ in range(200):  # a killed process can take seconds to go on a busy machine
                    try:
                        folder.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.05)
                else:
                    log.error("Could not remove the sandbox's cgroup %s", folder)

    def _seed_matplotlib_cache(self) -> None:
        """Copy the executor's font list so matplotlib does not rebuild it in every kernel."""
        try:
            import matplotlib
            cache = Path(matplotlib.get_cachedir())
        except Exception:  # no matplotlib: nothing to seed
            return
        target = self.home / ".config" / "matplotlib"
        target.mkdir(parents=True)
        for font_list in cache.glob("fontlist-*.json"):
            shutil.copy(font_list, target / font_list.name)

    # cgroups ---------------------------------------------------------------------------------
    def _make_cgroups(self) -> None:
        for controller in ("memory", "pids"):
            folder = CGROUP_ROOT / controller / CGROUP_PARENT / self.name
            folder.mkdir(parents=True)
            self.cgroups[controller] = folder
        memory = self.cgroups["memory"]
        (memory / "memory.limit_in_bytes").write_text(str(self.limits.memory))
        if (memory / "memory.memsw.limit_in_bytes").exists():  # no escape into swap
            (memory / "memory.memsw.limit_in_bytes").write_text(str(self.limits.memory))
        (self.cgroups["pids"] / "pids.max").write_text(str(self.limits.processes))

    def enter(self) -> None:
        """Runs in the kernel's process between fork and exec: join the cgroups, set rlimits."""
        pid = str(os.getpid()).encode()
        for folder in self.cgroups.values():
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limits.file_size, self.limits.file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.cgroups.values():
            try:
                pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(pids)

    def kill_all(self) -> None:
        for _ in range(400):
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        log.error("Processes of sandbox %s survived SIGKILL: %s", self.name, self.processes())

    def interrupt_kernel(self) -> bool:
        """Send SIGINT to the kernel's Python process, found through the sandbox's cgroup
        (bwrap, its parent, would not pass a signal on). False when there is none to find."""
        sent = False
        for pid in self.processes():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if Path(argv[0].decode(errors="replace")).name.startswith("python") \
                        and b"ipykernel_launcher" in argv:
                    os.kill(pid, signal.SIGINT)
                    sent = True
            except (OSError, IndexError):
                pass
        return sent

    def ran_out_of_memory(self) -> bool:
        memory = self.cgroups.get("memory")
        if memory is None:
            return False
        try:
            control = dict(line.split() for line in (memory / "memory.oom_control").read_text().splitlines())
            if int(control.get("oom_kill", 0)) > 0 or control.get("under_oom") == "1":
                return True
            return int((memory / "memory.max_usage_in_bytes").read_text()) >= 0.98 * self.limits.memory
        except (OSError, ValueError):
            return False

    # the command -----------------------------------------------------------------------------
    def environment(self, launch_env: Mapping[str, str]) -> dict[str, str]:
        """The kernel's whole environment inside the sandbox (nothing else leaks in)."""
        env = {key: launch_env[key] for key in PASSED_ENV if key in launch_env}
        threads = str(self.limits.thread_count())
        env.update({key: threads for key in THREAD_ENV})
        env.setdefault("LANG", "C.UTF-8")
        env.setdefault("NBGRADER_EXECUTION", "autograde")
        env["HOME"] = str(HOME) if self.limits.sandboxed else str(self.home)
        env["MPLCONFIGDIR"] = str(Path(env["HOME"]) / ".config" / "matplotlib")
        package_parent = Path(course_lib.__file__).resolve().parent.parent
        env["PYTHONPATH"] = str(COURSE_DIR) if self.limits.sandboxed else str(package_parent)
        if self.data_file is not None:
            env["COURSE_DATA"] = (str(DATA_DIR / self.data_file.name) if self.limits.sandboxed
                                  else str(self.data_file))
        return env

    def command(self, kernel_cmd: list[str], env: dict[str, str]) -> list[str]:
        """``bwrap ... <kernel_cmd>``: the kernel in its namespaces with read-only binds."""
        bwrap = shutil.which("bwrap")
        args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
                "--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types"):
            if (Path("/etc") / name).exists():
                args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        args += ["--ro-bind", str(self.root / "etc" / "passwd"), "/etc/passwd",
                 "--ro-bind", str(self.root / "etc" / "group"), "/etc/group",
                 # CPU topology only: OpenBLAS and TensorFlow read it to size their thread pools
                 "--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu",
                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for prefix in python_prefixes(kernel_cmd[0]):
            args += ["--ro-bind", str(prefix), str(prefix)]
        args += ["--ro-bind", str(Path(course_lib.__file__).resolve().parent),
                 str(COURSE_DIR / "course_lib")]
        if self.data_file is not None:
            args += ["--ro-bind", str(self.data_file), str(DATA_DIR / self.data_file.name)]
        args += ["--bind", str(self.home), str(HOME),
                 "--bind", str(self.ipc), str(self.ipc),
                 "--chdir", str(WORK), "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return args + ["--"] + kernel_cmd


def python_prefixes(python: str) -> list[Path]:
    """The folders an interpreter needs: its environment and, for a venv, the base install
    it links to (e.g. one pyenv version folder, not the whole home it lives in)."""
    executable = Path(python)
    prefixes = [executable.parent.parent]
    real = Path(os.path.realpath(executable)).parent.parent
    if real not in prefixes:
        prefixes.append(real)
    config = prefixes[0] / "pyvenv.cfg"
    if config.is_file():
        for line in config.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home":
                base = Path(value.strip()).parent
                if base not in prefixes:
                    prefixes.append(base)
    return [p for p in prefixes if p != Path("/usr") and p.is_dir()]


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside a :class:`Sandbox` and listens on unix
    sockets in the sandbox's IPC folder (a kernel with its own network has no reachable TCP)."""

    sandbox = Instance(Sandbox)

    async def _async_pre_start_kernel(self, **kw):
        self.transport = "ipc"
        self.ip = str(self.sandbox.ipc / "kernel")
        self.connection_file = str(self.sandbox.ipc / "connection.json")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        env = self.sandbox.environment(kw.get("env") or os.environ)
        if self.sandbox.limits.sandboxed:
            kernel_cmd = self.sandbox.command(kernel_cmd, env)
            kw.update(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                      cwd=str(self.sandbox.root), preexec_fn=self.sandbox.enter)
        else:
            kw.update(env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                      cwd=str(self.sandbox.work))
        # What the kernel process itself prints (not cell output) goes to a log, never to the
        # grader's terminal; it is capped by the file size limit like any file.
        with open(self.sandbox.root / "kernel.log", "wb") as log_file:
            kw.update(stdout=log_file, stderr=log_file)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_interrupt_kernel(self) -> None:
        """Interrupt with SIGINT to the kernel process itself (found through the cgroup; a
        signal to bwrap would not reach the kernel in its own session and PID namespace);
        without cgroups, by message on the control channel."""
        if self.sandbox.interrupt_kernel():
            return
        client = self.client()
        client.start_channels(shell=False, iopub=False, stdin=False, hb=False, control=True)
        try:
            client.control_channel.send(client.session.msg("interrupt_request", content={}))
            await client.control_channel.get_msg(timeout=5)
        except Exception:  # no reply: the caller sees the cell go on and stops the notebook
            pass
        finally:
            client.stop_channels()

    interrupt_kernel = _async_interrupt_kernel  # the base class binds its own at class creation


class ValidationKernelManager(SandboxKernelManager):
    """The kernel manager of nbgrader's own ``Execute`` (``c.Execute.kernel_manager_class``),
    which plain ``nbgrader validate`` and the Validate button of the instructor's Lab use:
    nbgrader 0.9.6 lets no setting change the validator's steps, so its kernel gets a
    sandbox of its own, with the limits of ``c.SandboxedExecute``, made when the kernel
    starts and removed when it stops. (Per-notebook time and the output cap are the
    autograde executor's; the per-cell limit is ``c.Execute.timeout`` as ever.)"""

    sandbox = Instance(Sandbox, allow_none=True)

    async def _async_pre_start_kernel(self, **kw):
        if self.sandbox is None:
            settings = SandboxedExecute(config=self.config)
            if not settings.sandboxed:
                self.log.warning("UNSANDBOXED validation: student code runs with the grader's "
                                 "rights (c.SandboxedExecute.sandboxed = False).")
            else:
                check_available()
            data = Path(settings.data_file) if settings.data_file else None
            self.sandbox = Sandbox(settings.limits, data_file=data).__enter__()
            self._owns_sandbox = True
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if getattr(self, "_owns_sandbox", False) and not restart:
            self.sandbox.__exit__(None, None, None)
            self.sandbox, self._owns_sandbox = None, False

    cleanup_resources = _async_cleanup_resources  # the base class binds its own at class creation


# --- the executor ------------------------------------------------------------------------------

class _Stopped(Exception):
    """The notebook is stopped; ``reason`` finishes the sentence 'stopped: ...'."""

    def __init__(self, verdict: str, reason: str):
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason


class _Runner(Execute):
    """nbgrader's executor with the sandbox's limits: a deadline per notebook, output cut per
    cell, and a verdict instead of an exception when the kernel dies or cannot be stopped."""

    def __init__(self, nb, sandbox: Sandbox, **kw):
        limits = sandbox.limits
        timeout_text = (f"This cell ran longer than the grader's time limit "
                        f"({describe_seconds(limits.cell_timeout)} per cell) and was stopped, "
                        "so it scores 0.")
        super().__init__(
            timeout=int(limits.cell_timeout), interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": timeout_text,
                              "traceback": [f"CellTimeoutError: {timeout_text}"]},
            shutdown_kernel="immediate", raise_on_iopub_timeout=False, iopub_timeout=10,
            kernel_manager_class=SandboxKernelManager, **kw)
        self.nb = nb
        self.sandbox = sandbox
        self.limits = limits
        self._deadline = 0.0
        self._cell_limited_by = "cell"
        self._kept: dict[int, int] = {}
        self._cut: dict[int, int] = {}

    def create_kernel_manager(self):
        self.km = SandboxKernelManager(kernel_name=self.kernel_name, sandbox=self.sandbox)
        return self.km

    # time ------------------------------------------------------------------------------------
    def _get_timeout(self, cell):
        remaining = self._deadline - time.monotonic()
        if remaining < self.limits.cell_timeout:
            self._cell_limited_by = "notebook"
            return max(1, int(remaining + 0.999))
        self._cell_limited_by = "cell"
        return int(self.limits.cell_timeout)

    async def _async_handle_timeout(self, timeout, cell=None):
        if self._cell_limited_by == "notebook":
            raise _Stopped("out of time", "the notebook ran longer than the grader's limit of "
                           f"{describe_seconds(self.limits.notebook_timeout)} in total")
        # After the interrupt the cell's last output must follow soon; if it does not, the
        # cell ignored the interrupt (async_execute_cell then stops the notebook).
        self.raise_on_iopub_timeout = True
        return await super()._async_handle_timeout(timeout, cell)

    # output ----------------------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        if self.output_hook_stack[msg["parent_header"].get("msg_id")]:
            return super().output(outs, msg, display_id, cell_index)
        if self._kept.get(cell_index, 0) >= self.limits.output_bytes:  # full: only count
            self._cut[cell_index] = self._cut.get(cell_index, 0) + _size(msg["content"])
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and outs and outs[-1] is out:
            outs.pop()
            kept = self._keep(out, cell_index)
            if kept is not None:
                outs.append(kept)
        return out

    def _update_display_id(self, display_id, msg):
        if len(json.dumps(msg["content"].get("data", {}))) <= self.limits.output_bytes:
            super()._update_display_id(display_id, msg)

    def _keep(self, out: NotebookNode, cell_index: int) -> NotebookNode | None:
        """The part of one output that still fits in the cell's budget (None if nothing)."""
        size = _size(out)
        room = self.limits.output_bytes - self._kept.get(cell_index, 0)
        if size <= room:
            self._kept[cell_index] = self._kept.get(cell_index, 0) + size
            return out
        self._kept[cell_index] = self.limits.output_bytes
        if out.output_type == "stream" and room > 200:
            text = out.text.encode()[: room - 200].decode(errors="ignore")
            self._cut[cell_index] = self._cut.get(cell_index, 0) + size - len(text.encode())
            return new_output("stream", name=out.name, text=text)
        self._cut[cell_index] = self._cut.get(cell_index, 0) + size
        return None

    def _note_cut(self, cell: NotebookNode, cell_index: int) -> None:
        cut = self._cut.pop(cell_index, 0)
        if cut:
            cell.outputs.append(new_output("stream", name="stdout", text=(
                f"\n[output cut: {cut:,} more bytes than the "
                f"{describe_bytes(self.limits.output_bytes)} the grader keeps per cell]\n")))

    # cells -----------------------------------------------------------------------------------
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self.raise_on_iopub_timeout = False
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except CellTimeoutError as error:  # the interrupt did not stop the cell
            raise _Stopped("out of time", "this cell ran longer than the grader's limit of "
                           f"{describe_seconds(self.limits.cell_timeout)} per cell and did not "
                           "stop when interrupted") from error
        except DeadKernelError as error:
            if self.sandbox.ran_out_of_memory():
                raise _Stopped("out of memory", "the notebook used more than "
                               f"{describe_bytes(self.limits.memory)} of memory") from error
            raise _Stopped("crashed", "the kernel running the notebook crashed") from error
        finally:
            self._note_cut(cell, cell_index)
        return cell

    async def async_run(self) -> str | None:
        """Execute every code cell; the verdict, or None when all ran."""
        self.reset_execution_trackers()
        code_cells = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]
        async with self.async_setup_kernel():
            msg_id = await ensure_async(self.kc.kernel_info())
            info = await self.async_wait_for_reply(msg_id)
            if info is not None and "language_info" in info["content"]:
                self.nb.metadata["language_info"] = info["content"]["language_info"]
            # the notebook's time starts when its kernel is ready (a slow start is not its fault)
            self._deadline = time.monotonic() + self.limits.notebook_timeout
            for index, cell in enumerate(self.nb.cells):
                try:
                    await self.async_execute_cell(cell, index,
                                                  execution_count=self.code_cells_executed + 1)
                except _Stopped as stop:
                    mark_stopped(self.nb, index, stop.reason,
                                 later=[i for i in code_cells if i > index])
                    return stop.verdict
        return None


def _size(content: Mapping) -> int:
    """Bytes an output takes (a stream's text counted directly: floods are mostly text)."""
    if "text" in content and isinstance(content["text"], str) and len(content) <= 3:
        return len(content["text"].encode())
    return len(json.dumps(content))


def mark_stopped(nb: NotebookNode, index: int, reason: str, later: list[int]) -> None:
    """One sentence on the stopped cell and on every later code cell, so each scores 0."""
    after = ", so this cell and the ones after it score 0." if later else ", so this cell scores 0."
    nb.cells[index].setdefault("outputs", []).append(_error(f"stopped: {reason}{after}"))
    for i in later:
        nb.cells[i].outputs = [_error(f"not run: the notebook was stopped at an earlier cell "
                                      f"because {reason}.")]
        nb.cells[i].execution_count = None


def _error(sentence: str) -> NotebookNode:
    return new_output("error", ename="NotebookStopped", evalue=sentence,
                      traceback=[f"NotebookStopped: {sentence}"])


def execute(notebook: NotebookNode, *, limits: Limits, files: Mapping[str, bytes] = {},
            data_file: Path | None = None, kernel_name: str = KERNEL_NAME) -> Result:
    """Run every code cell of ``notebook`` (not changed; a copy is returned executed) in a
    fresh sandbox holding ``files`` (relative path -> content) and the read-only
    ``data_file`` (``COURSE_DATA`` inside). Raises SandboxUnavailable where isolation cannot
    start, unless ``limits.sandboxed`` is False, which is logged as a warning every time."""
    if limits.sandboxed:
        check_available()
    else:
        log.warning("UNSANDBOXED: student code runs with the grader's own rights, network and "
                    "files (sandbox disabled by configuration).")
    nb = copy.deepcopy(notebook)
    start = time.perf_counter()
    with Sandbox(limits, files, data_file) as sandbox:
        runner = _Runner(nb, sandbox, kernel_name=kernel_name)
        try:
            verdict = _run_async(runner.async_run())
        except Exception as error:
            if runner.code_cells_executed:
                raise
            log_file = sandbox.root / "kernel.log"
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise SandboxUnavailable(f"The kernel {kernel_name!r} did not start in the sandbox "
                                     f"({error}). Its log ends:\n{tail}") from error
    return Result(nb, verdict, time.perf_counter() - start)


def _run_async(coroutine):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from jupyter_core.utils import run_sync  # inside a running loop (e.g. a Jupyter server)

    async def awaited():  # run_sync takes a coroutine function, not a coroutine
        return await coroutine

    return run_sync(awaited)()


# --- nbgrader's way in ---------------------------------------------------------------------

class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` preprocessor, run in the sandbox with the limits below.

    Configured in ``nbgrader_config.py`` in place of ``Execute`` for autograde; the per-cell
    limit is nbgrader's own ``Execute.timeout``.
    """

    sandboxed = Bool(True, help=(
        "Run student code in the sandbox. False runs it with the grader's own rights, files "
        "and network (a warning is logged for every notebook); only for trusted notebooks on a "
        "machine without bubblewrap.")).tag(config=True)
    memory_limit = Integer(Limits.memory, help=(
        "Memory one notebook may use, in bytes (its kernel and every process it starts); "
        "beyond it the notebook is stopped.")).tag(config=True)
    process_limit = Integer(Limits.processes, help=(
        "Processes and threads one notebook may run at once (a fork bomb stops here).")
    ).tag(config=True)
    file_size_limit = Integer(Limits.file_size, help=(
        "Largest file, in bytes, a notebook may write in its work folder.")).tag(config=True)
    notebook_timeout = Integer(int(Limits.notebook_timeout), help=(
        "Seconds one notebook may run in total; the cell running then is stopped and later "
        "cells are not run.")).tag(config=True)
    output_limit = Integer(Limits.output_bytes, help=(
        "Bytes of output kept per cell; the rest is replaced by one line saying how much was "
        "cut.")).tag(config=True)
    threads = Integer(Limits.threads, help=(
        "Threads for the kernel's maths libraries (OpenMP, OpenBLAS, MKL, TensorFlow, "
        "PyTorch); 0 means one per CPU core.")).tag(config=True)
    data_file = Unicode(help="The dataset file, bound read-only into the sandbox and named "
                             "by COURSE_DATA there (default: where course_lib.data finds MNIST "
                             "on the grader: $COURSE_DATA, else its caches).").tag(config=True)

    @default("data_file")
    def _data_file_default(self) -> str:
        # The kernel has no network to download from: hand it the grader's file.
        try:
            return str(data.resolve_mnist(download=False).path)
        except data.MnistNotFoundError:
            return ""

    @property
    def limits(self) -> Limits:
        return Limits(memory=self.memory_limit, processes=self.process_limit,
                      file_size=self.file_size_limit, cell_timeout=self.timeout or 10 ** 9,
                      notebook_timeout=self.notebook_timeout, output_bytes=self.output_limit,
                      threads=self.threads, sandboxed=self.sandboxed)

    def preprocess(self, nb, resources=None, km=None):
        # nbgrader's autograde names the submission's folder; the validator names none, and
        # then the notebook gets no files (never the folder the grader happens to run in).
        folder = (resources or {}).get("metadata", {}).get("path")
        files = submission_files(Path(folder)) if folder else {}
        if not self.sandboxed:
            self.log.warning("UNSANDBOXED grading of %s: student code runs with the grader's "
                             "rights (c.SandboxedExecute.sandboxed = False).", folder or "a notebook")
        result = execute(nb, limits=self.limits, files=files,
                         data_file=Path(self.data_file) if self.data_file else None,
                         kernel_name=self.kernel_name or KERNEL_NAME)
        if result.verdict:
            self.log.warning("%s: notebook stopped (%s) after %.0f s", folder or "notebook",
                             result.verdict, result.seconds)
        return result.notebook, resources


def submission_files(folder: Path) -> dict[str, bytes]:
    """The files next to a notebook that its code may read: regular files only, no notebooks
    (the one being graded holds the hidden tests) and no symbolic links."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (path.is_symlink() or not path.is_file() or path.suffix == ".ipynb"
                or any(part in {".ipynb_checkpoints", "__pycache__"} for part in relative.parts)
                or any(p.is_symlink() for p in path.parents if folder in p.parents)):
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def in_sandbox(preprocessors: list) -> list:
    """nbgrader's preprocessor list with its ``Execute`` replaced by :class:`SandboxedExecute`
    (for ``c.Autograde.autograde_preprocessors`` and the course's validator)."""
    if Execute not in preprocessors:
        raise ValueError("This preprocessor list runs no notebook (no nbgrader Execute in it).")
    return [SandboxedExecute if p is Execute else p for p in preprocessors]
