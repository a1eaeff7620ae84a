"""The integrity scan: a static look at every cell a student wrote, before it runs.

The sandbox keeps student code away from the course folder, the network and other
students, but the kernel itself belongs to the student: a cell can change how the cells
after it run (hooks on the shell, a patched check, an object that equals anything). No
course task needs such code, so the scan looks for it in two tiers:

- **review**: code that can change a grade and that no task needs (the kernel's machinery,
  ``sys.modules``, builtins, the import system, the grading helpers' attributes, frames and
  the input history, running built strings as code, objects that compare equal to
  anything, reading the grader's environment). The submission's autograded points are
  withheld and it is marked for manual review, with the cell and the reason.
- **note**: code the sandbox already contains (subprocesses, sockets, files outside the
  work folder, attribute names built at run time, exiting the kernel). The instructor sees
  a note; the points stand.

It reads code, it does not run it: a determined student can hide intent from any static
scan, which is why the sandbox, not this scan, is what keeps the gradebook and the hidden
tests out of reach. The scan catches the direct routes and tells the instructor where to
look; ordinary course code (``getattr(keras.optimizers, name)``, ``torch.backends.cudnn``
settings, ``%matplotlib inline``) is never flagged.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

REVIEW, NOTE = "review", "note"
#: Where the findings travel with the notebook, for the grader's summary and the feedback.
METADATA_KEY = "course"

REVIEW_IMPORTS = {
    "IPython": "imports IPython, the kernel's own machinery",
    "ipykernel": "imports the kernel's machinery",
    "jupyter_client": "imports the kernel's messaging",
    "zmq": "imports the kernel's messaging",
    "nbgrader": "imports the grader",
    "nbclient": "imports the notebook runner",
    "builtins": "imports builtins, which the grader's checks rely on",
    "importlib": "changes how modules are imported",
    "inspect": "inspects frames, which can read the test that calls it",
    "linecache": "reads cell sources, hidden tests included",
    "gc": "walks the interpreter's objects",
    "ctypes": "reaches into the interpreter's memory",
    "atexit": "registers code that runs when the kernel stops",
    "signal": "changes how the kernel handles interrupts and time limits",
    "unittest.mock": "replaces objects the grader uses",
    "mock": "replaces objects the grader uses",
    "runpy": "runs code from strings or files",
    "code": "runs built strings as code",
    "codeop": "compiles built strings as code",
    "marshal": "builds code objects",
    "dis": "inspects code objects",
    "pdb": "changes how the kernel runs code",
    "bdb": "changes how the kernel runs code",
    "sys.monitoring": "hooks into how code runs",
}
#: The grader's checks and reference solutions (e.g. the course's own train_epoch): a student
#: cell has no reason to import them, and handing one in as one's own work is not the task.
GRADING_MODULES = {"grading", "keras_grading", "keras_graph", "scripted_epochs", "torch_grading",
                   "torch_function_grading", "training_dynamics_grading"}
NOTE_IMPORTS = {
    "subprocess": "starts other programs",
    "socket": "opens network sockets",
    "urllib": "opens network connections",
    "http": "opens network connections",
    "requests": "opens network connections",
    "multiprocessing": "starts other processes",
    "pty": "starts a terminal",
    "shutil": "copies or removes files",
}
REVIEW_NAMES = {
    "get_ipython": "uses the IPython shell, which can change how later cells run",
    "__builtins__": "reaches builtins, which the grader's checks rely on",
    "__import__": "imports modules by built names",
    "exec": "runs a built string as code",
    "eval": "runs a built string as code",
    "compile": "compiles a built string as code",
    "__IPYTHON__": "reaches the IPython shell",
}
HISTORY = re.compile(r"^(In|Out|_ih|_oh|_dh|_ii|_iii|_i\d+|_\d+)$")
REVIEW_ATTRIBUTES = {
    "f_back": "walks call frames, which can read the test that calls it",
    "f_globals": "reads a calling frame's variables",
    "f_locals": "reads a calling frame's variables",
    "f_code": "reads a frame's code",
    "tb_frame": "walks call frames from a traceback",
    "gi_frame": "walks call frames",
    "cr_frame": "walks call frames",
    "__globals__": "reaches a function's module variables",
    "__code__": "reads or replaces a function's code",
    "__closure__": "reads a function's hidden variables",
    "__subclasses__": "walks the interpreter's classes",
    "__builtins__": "reaches builtins, which the grader's checks rely on",
    "__loader__": "reaches the import system",
    "__spec__": "reaches the import system",
}
SYS_REVIEW = {
    "modules": "changes or reads sys.modules, the imported modules the grader uses",
    "meta_path": "changes the import system",
    "path_hooks": "changes the import system",
    "path_importer_cache": "changes the import system",
    "settrace": "traces every line the grader runs",
    "setprofile": "traces every call the grader makes",
    "_getframe": "reads call frames, which can read the test that calls it",
    "excepthook": "changes how errors are reported",
    "displayhook": "changes how results are shown",
    "addaudithook": "hooks into the interpreter",
    "breakpointhook": "changes how the kernel runs code",
    "monitoring": "hooks into how code runs",
}
SYS_NOTE = {"exit": "stops the kernel", "stdout": "redirects output", "stderr": "redirects output"}
OS_NOTE = {"system", "popen", "fork", "forkpty", "kill", "killpg", "_exit", "execv", "execve",
           "execl", "execlp", "execvp", "spawnv", "spawnl", "posix_spawn", "remove", "unlink",
           "rmdir", "removedirs", "chmod", "chown", "symlink", "link"}
#: Methods that let an object answer a comparison or conversion however it likes.
TRICK_METHODS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__",
                 "__float__", "__int__", "__index__", "__abs__", "__round__", "__complex__",
                 "__instancecheck__", "__subclasscheck__", "__getattribute__"}
#: The course's helper modules: a student has no reason to change their attributes.
COURSE_MODULES = {"grading", "keras_grading", "keras_graph", "torch_grading",
                  "torch_function_grading", "scripted_epochs", "data", "torch_data", "plots",
                  "budget", "seeding", "curves", "keras_training", "course_lib"}
#: Magics a course notebook may use; every other one reaches the shell.
ALLOWED_MAGICS = {"matplotlib", "time", "timeit"}
SECRET_STRINGS = ("NBGRADER_EXECUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@dataclass(frozen=True)
class Finding:
    """One flagged line of one cell."""

    cell: str
    line: int
    tier: str
    reason: str

    def describe(self) -> str:
        return f"{self.cell}, line {self.line}: {self.reason}"


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain (``get_ipython().x`` gives ``get_ipython().x``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return "?"


def _built_string(node: ast.AST) -> bool:
    """A string put together at run time in a way ordinary code never needs for a name:
    from characters, bytes, a reversal or a join."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = _dotted(sub.func).split(".")[-1]
            if name in {"chr", "decode", "b64decode", "fromhex", "join", "reversed", "format"}:
                return True
        if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Slice) and sub.slice.step is not None:
            return True
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Add, ast.Mod)) and (
                isinstance(sub.left, ast.Constant) or isinstance(sub.right, ast.Constant)):
            return True
    return False


class _Scanner(ast.NodeVisitor):
    def __init__(self):
        self.found: list[tuple[int, str, str]] = []
        self.module_aliases: dict[str, str] = {}   # local name -> module it names

    def flag(self, node: ast.AST, tier: str, reason: str) -> None:
        self.found.append((getattr(node, "lineno", 0), tier, reason))

    # --- imports ----------------------------------------------------------------------
    def _imported(self, node, module: str) -> None:
        parts = module.split(".")
        if parts[0] == "course_lib" and (len(parts) > 1 and parts[1] in GRADING_MODULES
                                         or parts[1:2] == ["instructor"]):
            self.flag(node, REVIEW, "imports the grader's checks or reference solutions")
            return
        for table, tier in ((REVIEW_IMPORTS, REVIEW), (NOTE_IMPORTS, NOTE)):
            for name, reason in table.items():
                if module == name or module.startswith(name + "."):
                    self.flag(node, tier, reason)
                    return

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(node, alias.name)
            self.module_aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0])
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._imported(node, module)
        for alias in node.names:
            self._imported(node, f"{module}.{alias.name}")
            self.module_aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            if module == "sys" and alias.name in SYS_REVIEW:
                self.flag(node, REVIEW, SYS_REVIEW[alias.name])
            if module == "os" and alias.name in OS_NOTE:
                self.flag(node, NOTE, "starts, stops or removes things outside Python")
        self.generic_visit(node)

    # --- names and attributes ---------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id in REVIEW_NAMES:
                self.flag(node, REVIEW, REVIEW_NAMES[node.id])
            elif HISTORY.match(node.id):
                self.flag(node, REVIEW, "reads the notebook's input or output history")
            elif node.id in {"globals", "locals", "vars"}:
                self.flag(node, NOTE, "reads a namespace as a dictionary")
            elif node.id in {"exit", "quit"}:
                self.flag(node, NOTE, "stops the kernel")

    def _module_of(self, node: ast.AST) -> str:
        """The module a Name refers to (through import aliases), or ''."""
        if isinstance(node, ast.Name):
            return self.module_aliases.get(node.id, node.id if node.id in {"sys", "os"} else "")
        return ""

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in REVIEW_ATTRIBUTES:
            self.flag(node, REVIEW, REVIEW_ATTRIBUTES[node.attr])
        module = self._module_of(node.value)
        if module == "sys":
            if node.attr in SYS_REVIEW:
                self.flag(node, REVIEW, SYS_REVIEW[node.attr])
            elif node.attr in SYS_NOTE:
                self.flag(node, NOTE, SYS_NOTE[node.attr])
        elif module == "os" and node.attr in OS_NOTE:
            self.flag(node, NOTE, "starts, stops or removes things outside Python")
        elif module == "os" and node.attr == "environ" and isinstance(node.ctx, ast.Load):
            pass  # reading the environment is ordinary; writing it is caught below
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._assigned(node)
        self.generic_visit(node)

    def _assigned(self, target: ast.Attribute) -> None:
        base = self._module_of(target.value).split(".")[-1] or _dotted(target.value).split(".")[0]
        if target.attr.startswith("__") and target.attr.endswith("__"):
            self.flag(target, REVIEW, f"replaces {target.attr} of an object")
        elif base in COURSE_MODULES or self._module_of(target.value).startswith("course_lib"):
            self.flag(target, REVIEW, "changes a course helper the grader uses")
        elif base in {"builtins", "__builtins__", "sys"}:
            self.flag(target, REVIEW, "changes the interpreter's builtins or sys")

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)) and _dotted(node.value) == "os.environ":
            self.flag(node, NOTE, "changes the environment")
        self.generic_visit(node)

    # --- calls ------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        last = name.split(".")[-1]
        if name == "get_ipython().run_line_magic" or name == "get_ipython().run_cell_magic":
            magic = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else ""
            if magic in ALLOWED_MAGICS:
                return  # %matplotlib inline and timing magics are ordinary notebook code
            self.flag(node, REVIEW, f"runs the IPython magic %{magic}")
            return
        if name in {"get_ipython().system", "get_ipython().getoutput"}:
            self.flag(node, NOTE, "runs a shell command")
            return
        if last in {"setattr", "delattr"} and node.args:
            target = node.args[0]
            module = self._module_of(target).split(".")[-1] or _dotted(target).split(".")[0]
            if module in COURSE_MODULES or module in {"builtins", "__builtins__", "sys"}:
                self.flag(node, REVIEW, "changes a course helper or the interpreter by name")
        if last in {"getattr", "setattr", "delattr", "hasattr"} and len(node.args) >= 2 \
                and _built_string(node.args[1]):
            self.flag(node, NOTE, "reaches an attribute whose name is built at run time")
        if name == "open" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and (node.args[0].value.startswith("/") or ".." in node.args[0].value):
            self.flag(node, NOTE, "opens a file outside the work folder")
        self.generic_visit(node)

    # --- definitions ------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in TRICK_METHODS:
                self.flag(item, REVIEW, f"defines {item.name}, so its objects can answer a "
                                        f"check however they like")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and any(secret in node.value for secret in SECRET_STRINGS):
            self.flag(node, REVIEW, "refers to the grader's environment or hidden tests")

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is not None and _dotted(getattr(node.exc, "func", node.exc)) in {"SystemExit", "KeyboardInterrupt"}:
            self.flag(node, NOTE, "stops the kernel")
        self.generic_visit(node)


def scan_source(source: str) -> list[tuple[int, str, str]]:
    """(line, tier, reason) for every flagged construct in one cell's code. IPython syntax
    (magics, ``!`` shell lines) is translated first, as the kernel would; code that does
    not parse is left to fail when it runs."""
    try:
        python = TransformerManager().transform_cell(source)
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return []
    scanner = _Scanner()
    scanner.visit(tree)
    return sorted(set(scanner.found))


def student_cells(nb):
    """(label, cell) for every code cell a student could have written: every code cell but
    the locked ones (nbgrader restores those from the gradebook before they run)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or utils.is_locked(cell):
            continue
        meta = cell.metadata.get("nbgrader", {})
        yield meta.get("grade_id") or f"cell {index + 1}", cell


def scan_notebook(nb) -> list[Finding]:
    """Every finding in the student's cells, review tier first."""
    findings = [Finding(label, line, tier, reason)
                for label, cell in student_cells(nb)
                for line, tier, reason in scan_source(cell.source)]
    return sorted(findings, key=lambda f: (f.tier != REVIEW, f.cell, f.line))


def findings_of(nb) -> dict[str, list[dict]]:
    """The scan's record in an (autograded) notebook: ``{"review": [...], "notes": [...]}``."""
    return nb.metadata.get(METADATA_KEY, {}).get("integrity", {"review": [], "notes": []})


def under_review(nb) -> bool:
    return bool(findings_of(nb).get("review"))


class IntegrityScan(NbGraderPreprocessor):
    """Autograde's sanitizing step: scan the restored submission and record the findings in
    the notebook's metadata (always overwritten: a student cannot pre-fill it)."""

    def preprocess(self, nb, resources):
        findings = scan_notebook(nb)
        record = {"review": [], "notes": []}
        for finding in findings:
            record["review" if finding.tier == REVIEW else "notes"].append(
                {"cell": finding.cell, "line": finding.line, "reason": finding.reason})
        nb.metadata[METADATA_KEY] = {"integrity": record}
        for entry in record["review"]:
            self.log.warning("Integrity scan: %s, line %s: %s (autograded points withheld "
                             "for review)", entry["cell"], entry["line"], entry["reason"])
        for entry in record["notes"]:
            self.log.info("Integrity note: %s, line %s: %s", entry["cell"], entry["line"], entry["reason"])
        return nb, resources


class WithholdFlagged(NbGraderPreprocessor):
    """Autograde's last step: for a submission under review, keep every test's autograded
    score visible to the instructor but count 0 for it (a manual score of 0) and mark each
    test cell as needing manual grading, until the instructor has looked and set the score."""

    def preprocess(self, nb, resources):
        if not under_review(nb):
            return nb, resources
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            for cell in nb.cells:
                if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
                    continue
                try:
                    grade = gradebook.find_grade(cell.metadata.nbgrader["grade_id"], info["notebook"],
                                                 info["assignment"], info["student"])
                except MissingEntry:
                    continue
                grade.manual_score = 0.0
                grade.needs_manual_grade = True
            gradebook.db.commit()
        return nb, resources
