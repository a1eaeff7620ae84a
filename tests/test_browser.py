"""The student's path through Lab 7 in a real browser, and the instructor seeing the result.

Starts the course's two JupyterLab servers (``course_lib.instructor.lab``: instructor and one
student, sharing an exchange folder) on free loopback ports, releases Lab 7 with the
nbgrader CLI as an instructor would in a terminal, then drives headless Chromium:

student: Assignment List -> Fetch -> open the notebook -> type the answers (code and
written) -> Run All -> Validate (success) -> Submit;
instructor: formgrader -> Collect -> the submission is listed -> Autograde -> Manual
Grading (full credit for the written answers) -> Generate and Release Feedback;
student: Fetch Feedback -> the report shows the full score and no hidden-test code.

Screenshots of every step go to ``test-artifacts/browser/`` (with both servers' logs).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect, sync_playwright

from course_lib import data
from course_lib.instructor import chromium, demo, lab
from course_lib.instructor.course import copy_course, notebook_path
from course_lib.instructor.pipeline import Pipeline

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "lab7_cnn_mnist"
STUDENT = "student1"
ARTIFACTS = REPO / "test-artifacts" / "browser"
# Generous: two cores may be shared with other jobs; training and Validate each re-run Lab 7.
LONG = 600_000
SHORT = 60_000


@pytest.fixture(scope="module")
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory, artifacts):
    """A fresh copy of the course, its instructor and student servers, and Lab 7 released."""
    if not os.environ.get("COURSE_DATA"):
        pytest.skip("COURSE_DATA is not set: Lab 7 needs the offline MNIST copy in a browser test.")
    base = tmp_path_factory.mktemp("lab")
    course = copy_course(REPO, base / "course", [ASSIGNMENT]).root
    # A test run killed by a timeout (SIGTERM) still stops the servers below.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    instructor = lab.instructor(course, base / "state", base / "exchange")
    student = lab.student(STUDENT, base / "state", base / "exchange")
    try:
        instructor.start()
        student.start()
        # What the instructor types in a terminal of their Lab (same environment).
        for args in (["generate_assignment", ASSIGNMENT, "--force"], ["release_assignment", ASSIGNMENT]):
            done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=instructor.root_dir,
                                  env=instructor.environment(), capture_output=True, text=True)
            assert done.returncode == 0, f"nbgrader {args[0]} failed:\n{done.stdout}\n{done.stderr}"
        yield instructor, student
    finally:
        student.stop()
        instructor.stop()
        signal.signal(signal.SIGTERM, previous)
        for server in (instructor, student):
            if server.log_path.exists():
                shutil.copy(server.log_path, artifacts / f"{server.role}-server.log")


@pytest.fixture(scope="module")
def browser():
    try:
        executable = chromium.find_chromium()
    except FileNotFoundError as error:
        pytest.skip(str(error))

    expect.set_options(timeout=SHORT)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=chromium.FLAGS)
        yield launched
        launched.close()


class Steps:
    """Numbered screenshots of one page."""

    def __init__(self, page, folder: Path, prefix: str):
        self.page, self.folder, self.prefix, self.n = page, folder, prefix, 0

    def shot(self, name: str, full_page: bool = False) -> Path:
        self.n += 1
        path = self.folder / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path


def reference_answers() -> dict[str, tuple[str, str]]:
    """(cell type, solution) of every answer cell, code and written, by grade id:
    what the student types."""
    source = nbformat.read(REPO / notebook_path("source", ASSIGNMENT), as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: (cell.cell_type, cell.source)
            for cell in demo.reference_notebook(source).cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def open_lab(context, server):
    page = context.new_page()
    page.set_default_timeout(SHORT)
    page.goto(server.url)
    page.locator("#jp-main-dock-panel").wait_for()
    page.get_by_role("menuitem", name="Nbgrader").wait_for()
    return page


def menu(page, *path: str) -> None:
    """Click through the main menu bar, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator("#jp-MainMenu").get_by_role("menuitem", name=path[0], exact=True).click()
    for name in path[1:]:
        page.locator(".lm-Menu").get_by_role("menuitem", name=name, exact=True).click()


def wait_all_cells_ran(page, timeout: int) -> None:
    """Run All has finished: every code cell has an execution count, or a cell raised
    (Run All stops there); either way no cell is queued or running any more."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .map(p => p.textContent);
            // JupyterLab renders a traceback as stderr text.
            const failed = panel.querySelector(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
            return prompts.length > 0 && !prompts.some(t => t.includes('*'))
                && (failed !== null || prompts.every(t => /\\[\\d+\\]/.test(t)));
        }""", timeout=timeout, polling=1000)


def go_to_cell(page, index: int) -> None:
    """Make cell ``index`` (0-based) the active one with j/k, as a keyboard user would;
    JupyterLab then scrolls it into view (its windowed notebook ignores plain scrolling)."""
    page.keyboard.press("Escape")
    status = page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"Cell \d+/\d+")).first
    current = int(re.search(r"Cell (\d+)/", status.text_content()).group(1)) - 1
    key = "j" if index > current else "k"
    for _ in range(abs(index - current)):
        page.keyboard.press(key)
    expect(status).to_contain_text(f"Cell {index + 1}/")


def save(page) -> None:
    """Save the current notebook and wait until the save has landed."""
    dirty = page.locator(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty")
    page.keyboard.press("ControlOrMeta+S")
    expect(dirty).to_have_count(0)


def confirm_modal(frame, message: str, timeout: int = SHORT) -> None:
    """The formgrader's result dialog says ``message``; close it."""
    modal = frame.locator(".modal-dialog").last
    expect(modal).to_contain_text(message, timeout=timeout)
    modal.get_by_role("button", name="OK").click()
    expect(frame.locator(".modal-dialog")).to_have_count(0)


def hidden_test_lines() -> list[str]:
    """Lines only the source's hidden tests hold (none may reach a student)."""
    source = nbformat.read(REPO / notebook_path("source", ASSIGNMENT), as_version=4)
    lines, hidden = [], False
    for cell in source.cells:
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                hidden = "BEGIN" in line
            elif hidden and len(line.strip()) > 20:
                lines.append(line.strip())
    release = nbformat.read(REPO / notebook_path("release", ASSIGNMENT), as_version=4)
    visible = "\n".join(cell.source for cell in release.cells)
    lines = [line for line in lines if line not in visible]  # e.g. an import both share
    assert lines, "Lab 7 should have hidden tests."
    return lines


def manual_points() -> dict[str, float]:
    """Points of every manually graded (written) answer, by grade id."""
    release = nbformat.read(REPO / notebook_path("release", ASSIGNMENT), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in release.cells
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")}


def demo_scores(course: Path) -> dict[str, tuple[float, float]]:
    """(score, max) of every autograded test cell of the student's submission."""
    grades = Pipeline(course).grades(ASSIGNMENT, STUDENT)
    return {name: (g.auto_score, g.max_score) for name, g in grades.items() if not g.manual}


def test_student_path_on_lab7(servers, browser, artifacts):
    instructor, student = servers
    answers = reference_answers()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = open_lab(context, student)
        steps = Steps(page, artifacts, "student")

        # 1. Assignment List: Lab 7 is released; fetch it.
        menu(page, "Nbgrader", "Assignment List")
        released = page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
        released.wait_for()
        steps.shot("assignment-list-released")
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list", has_text=ASSIGNMENT)
        fetched.wait_for()
        steps.shot("fetched")
        workspace_nb = student.root_dir / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert workspace_nb.is_file(), "Fetch should place the notebook in the student's workspace."

        # 2. Open the notebook from the Assignment List; it starts the course kernel.
        fetched.locator(".assignment-notebooks-link").click()
        notebook_link = fetched.locator(".assignment-notebooks").get_by_role("link", name=ASSIGNMENT)
        expect(notebook_link).to_be_visible()
        steps.shot("fetched-expanded")
        notebook_link.click()
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        panel.locator(".jp-Cell").first.wait_for()
        page.get_by_text("CNNs on MNIST (course) | Idle").wait_for(timeout=LONG)
        steps.shot("notebook-open")

        # 3. Type the answers into the answer cells, as a student would, and save.
        cells = nbformat.read(workspace_nb, as_version=4).cells
        for index, cell in enumerate(cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in answers:
                continue
            kind, text = answers[grade_id]
            cell_box = panel.locator(".jp-Notebook .jp-Cell").nth(index)
            cell_box.scroll_into_view_if_needed()
            if kind == "markdown":  # a written answer: open the rendered cell for editing
                cell_box.locator(".jp-MarkdownOutput").dblclick()
            editor = cell_box.locator(".cm-content")
            editor.click()
            page.keyboard.press("ControlOrMeta+A")
            page.keyboard.insert_text(text)
            page.keyboard.press("ControlOrMeta+Enter" if kind == "markdown" else "Escape")
        steps.shot("answers-typed")
        save(page)
        saved = {c.metadata["nbgrader"]["grade_id"]: c.source
                 for c in nbformat.read(workspace_nb, as_version=4).cells if c.metadata.get("nbgrader")}
        for grade_id, (_, text) in answers.items():
            assert saved[grade_id] == text, f"Cell {grade_id} should hold exactly what was typed."

        # 4. Run All: every cell runs in the course kernel; training shows Keras progress.
        menu(page, "Run", "Run All Cells")
        wait_all_cells_ran(page, timeout=LONG)
        save(page)
        errors = [f"{out.ename}: {out.evalue}" for c in nbformat.read(workspace_nb, as_version=4).cells
                  for out in c.get("outputs", []) if out.output_type == "error"]
        assert not errors, f"No cell should raise with the reference answers: {errors}"
        setup_output = panel.locator(".jp-CodeCell").nth(0).locator(".jp-OutputArea-output")
        assert f"MNIST variant: {data.mnist_variant()}" in setup_output.text_content(), \
            "The kernel should see COURSE_DATA (the data this test uses) from the server's environment."
        index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(cells)}
        train_output = panel.locator(".jp-Cell").nth(index["train"]).locator(".jp-OutputArea")
        train_text = train_output.text_content()
        assert re.search(r"Epoch 3/3", train_text) and "val_accuracy" in train_text, train_text
        go_to_cell(page, index["train"])
        expect(train_output).to_be_in_viewport()
        steps.shot("trained")
        go_to_cell(page, index["confusion"])
        expect(panel.locator(".jp-Cell").nth(index["confusion"]).locator("img")).to_be_in_viewport()
        steps.shot("plots")

        # 5. Validate: nbgrader re-runs the saved notebook and reports success.
        panel.locator(".jp-Toolbar").get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=LONG)
        steps.shot("validated")
        assert "Success! Your notebook passes all the tests." in dialog.inner_text(), dialog.inner_text()
        dialog.get_by_role("button").last.click()
        dialog.wait_for(state="detached")

        # 6. Submit from the Assignment List; the submission is listed with its time.
        page.get_by_role("tab", name="Assignments").click()
        page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
            "button", name="Submit").click()
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
        submitted.wait_for(timeout=SHORT)
        steps.shot("submitted")
        inbound = list((instructor.exchange / lab.COURSE_ID / "inbound").glob(f"{STUDENT}+{ASSIGNMENT}+*"))
        assert len(inbound) == 1, "The exchange should hold exactly one submission from the student."

        # 7. Instructor: formgrader -> Manage Assignments -> Collect; the submission appears.
        ipage = open_lab(context, instructor)
        isteps = Steps(ipage, artifacts, "instructor")
        menu(ipage, "Nbgrader", "Formgrader")
        formgrader = ipage.frame_locator("iframe").first
        row = formgrader.locator("tr", has_text=ASSIGNMENT)
        row.wait_for()
        isteps.shot("formgrader-assignments")
        row.locator("td.collect a").click()
        confirm_modal(formgrader, "Successfully collected submissions")
        count = row.locator("td.num-submissions")
        expect(count).to_have_text("1")
        isteps.shot("formgrader-collected")
        collected = instructor.root_dir / notebook_path("submitted", ASSIGNMENT, STUDENT)
        assert collected.is_file(), "Collect should copy the submission into submitted/<student>/."

        # 8. The submission is listed for the student; autograde it from the formgrader.
        count.get_by_role("link").click()
        submission = formgrader.locator("tr", has_text=STUDENT)
        expect(submission).to_contain_text("needs autograding")
        isteps.shot("formgrader-submission")
        submission.locator("td.autograde a").click()
        confirm_modal(formgrader, f"Successfully autograded '{ASSIGNMENT}' for student '{STUDENT}'",
                      timeout=LONG)
        expect(submission).to_contain_text("needs manual grading")  # the written answers
        isteps.shot("formgrader-autograded")
        auto = demo_scores(instructor.root_dir)
        assert auto and all(score == maximum for score, maximum in auto.values()), (
            f"The reference answers typed in the browser should earn every autograded point: {auto}")

        # 9. Manual grading: full credit for each written answer, saved by the formgrader.
        submission.get_by_role("link", name=re.compile("None")).click()
        formgrader.locator("a[href*='/formgrader/submissions/']").click()
        written = manual_points()
        for grade_id, points in written.items():
            score = formgrader.locator(f"input.score#{grade_id}")
            score.scroll_into_view_if_needed()
            buttons = score.locator("xpath=ancestor::div[contains(@class, 'pull-right')][1]")
            with ipage.expect_response(lambda r: "/api/grade/" in r.url and r.request.method == "PUT"):
                buttons.locator(".full-credit").click()
            expect(score).to_have_value(re.compile(rf"^{points:g}(\.0+)?$"))
        isteps.shot("formgrader-manual-grading")

        # 10. Generate and release feedback for the student.
        ipage.goto(f"{instructor.base_url}/formgrader/manage_submissions/{ASSIGNMENT}?token={instructor.token}")
        board = ipage.locator("tr", has_text=STUDENT)
        expect(board.locator("td.status")).to_have_text("graded")
        expect(board).to_contain_text(f"{sum(written.values()) + sum(m for _, m in auto.values()):g} / ")
        board.locator("td.generate-feedback a").click()
        confirm_modal(ipage, "Successfully generated feedback", timeout=LONG)
        board.locator("td.release-feedback a").click()
        confirm_modal(ipage, "Successfully released feedback")
        isteps.shot("feedback-released")

        # 11. Student: Fetch Feedback in the Assignment List, then read the report.
        page.bring_to_front()
        page.locator("#refresh_assignments_list").click()
        entry = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first
        entry.get_by_role("button", name="Fetch Feedback").click()
        expect(page.locator("#submitted_assignments_list")).to_contain_text("view feedback", timeout=SHORT)
        steps.shot("feedback-fetched")
        reports = list((student.root_dir / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(reports) == 1, "Fetch Feedback should place one report in the student's folder."
        relative = reports[0].relative_to(student.root_dir).as_posix()
        page.goto(f"{student.base_url}/files/{relative}?token={student.token}")
        total = sum(written.values()) + sum(m for _, m in auto.values())
        expect(page.locator("body")).to_contain_text(f"{ASSIGNMENT} (Score: {total:g} / {total:g})")
        report = page.locator("body").text_content()
        shown = [line for line in hidden_test_lines() if line in report]
        assert not shown, f"Feedback must not show hidden-test code: {shown}"
        steps.shot("feedback-report")
    finally:
        context.close()


def test_tqdm_shows_a_progress_bar_in_the_course_kernel(servers, browser, artifacts):
    """PyTorch loops and grid searches use tqdm.auto: in JupyterLab it must draw a widget bar."""
    _, student = servers
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(
            'import time\nfrom tqdm.auto import tqdm\n'
            'for epoch in tqdm(range(5), desc="training", unit="epoch"):\n    time.sleep(0.1)\n'
            'print("finished")')],
        metadata={"kernelspec": {"name": lab.KERNEL_NAME, "display_name": "CNNs on MNIST (course)",
                                 "language": "python"}})
    nbformat.write(notebook, student.root_dir / "progress_check.ipynb")
    context = browser.new_context(viewport={"width": 1200, "height": 600})
    try:
        page = context.new_page()
        page.set_default_timeout(SHORT)
        page.goto(f"{student.base_url}/lab/tree/progress_check.ipynb?token={student.token}")
        page.get_by_text("CNNs on MNIST (course) | Idle").wait_for(timeout=LONG)
        menu(page, "Run", "Run All Cells")
        output = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea").first
        expect(output).to_contain_text("finished", timeout=LONG)
        expect(output.locator(".widget-hprogress .progress-bar")).to_be_visible()
        expect(output).to_contain_text("5/5")
        Steps(page, artifacts, "progress").shot("tqdm-bar")
    finally:
        context.close()
