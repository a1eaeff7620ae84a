# Two commands do all set-up on a fresh clone:
#   make demo   the instructor pipeline on the bundled demo submissions
#   make test   the test suite (what CI runs)
# Both create the environment in .venv first if it is missing or out of date.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
COURSE := $(VENV)/bin/course

# nbgrader shells out to alembic: the venv's bin/ must be on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Offline data: use the shared copy when it is there (course_lib falls back to its
# caches and the Keras download otherwise). Absolute, because nbgrader runs notebooks
# from autograded/<student>/<assignment>/.
SHARED_MNIST := $(wildcard $(abspath ../shared/datasets/mnist-lite.npz))
ifneq ($(SHARED_MNIST),)
export COURSE_DATA ?= $(SHARED_MNIST)
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test env clean

demo: env
	$(COURSE) demo

test: env
	$(PY) -m pytest

# JupyterLab for the course on 127.0.0.1: the instructor (port 8888, this folder) and one
# student (port 8889, .lab/student1/work) sharing the nbgrader exchange in ./exchange.
# Options: make lab LAB_ARGS="student --student alice" (see README, "Working in JupyterLab").
.PHONY: lab
lab: env
	$(COURSE) lab $(LAB_ARGS)

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	scripts/install_system_packages.sh chromium:chromium bwrap:bubblewrap pg_ctlcluster:postgresql pdftoppm:poppler-utils
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[torch,test]"
	$(COURSE) kernel
	touch $@

clean:
	rm -rf submitted autograded/*/ feedback peer_review grades.csv gradebook.db
