#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image. Zip this repository with
# setup.sh and run_autograder at the top of the zip; Gradescope unpacks it into /autograder/source.
set -euo pipefail
cd /autograder/source
python3 -m pip install --quiet -e .
