"""The instructor's tools: never imported by a notebook or a hidden test.

- ``course``: the course folder and its facts (course id, kernel, notebook paths, copies).
- ``pipeline``: nbgrader's steps driven through its API (generate, autograde, feedback,
  grades, PDFs) and the demo run.
- ``sandbox``: runs one notebook of student code in isolation (bubblewrap namespaces,
  cgroup limits, time and output caps) and returns it executed, with a verdict when stopped.
- ``grader``: a whole class at once (``course autograde``): nbgrader's autograde split where
  execution happens, the sandbox run on Dask workers, grades written by the coordinator only.
- ``demo``: the bundled demo students, derived from the current source.
- ``feedback``: the feedback page's preprocessors and template: named tests, verdicts and
  one-sentence messages, never test code or test output.
- ``restore_cells``, ``integrity``: autograde steps before student code runs: grading
  metadata restored from the gradebook; the static scan of student cells (and the step
  that withholds the points of a submission it sends to review).
- ``peer_review``: anonymous PDFs of submitted notebooks (headless Chromium).
- ``quality``: grader quality: reference over seeds, blank, mutants and correct variants.
- ``lab``: JupyterLab servers for the instructor and students on one machine.
- ``chromium``: the headless browser for PDFs and the browser test.
- ``kernel``: installs the course's Jupyter kernel.
- ``cli``: the ``course`` command, one subcommand per task.
"""
