#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image. Zip this repository (or your
# course folder holding the grader) with setup.sh and run_autograder at the top of the zip;
# Gradescope unpacks it into /autograder/source. Add your course's .grader_secret to the zip to
# draw the same hidden cases as your own grading; without one, this makes one for the image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
# Student code runs in bubblewrap where the container allows namespaces; where it does not
# (Docker's default profile, as on Gradescope), in the grader's container mode (Landlock).
# Either way the interpreter must be readable by an unprivileged user: never under /root.
apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap util-linux >/dev/null || \
    echo "setup.sh: bubblewrap could not be installed; the grader uses container mode" >&2
export UV_PYTHON_INSTALL_DIR=/opt/uv-python

# The grader needs Python 3.11 or newer; Gradescope's Ubuntu images ship older ones.
supported() { command -v "$1" >/dev/null && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; }
find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if supported "$candidate"; then command -v "$candidate"; return 0; fi
    done
    return 1
}
if ! PYTHON="$(find_python)"; then
    if apt-get install -y -qq python3.11 python3.11-venv >/dev/null 2>&1 && PYTHON="$(find_python)"; then
        :
    else  # no packaged 3.11 on this image: a standalone build through uv
        apt-get install -y -qq python3-pip >/dev/null
        python3 -m pip install --quiet uv
        python3 -m uv python install 3.11
        PYTHON="$(python3 -m uv python find 3.11)"
    fi
fi
echo "using $("$PYTHON" --version) at $PYTHON"

"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/venv/bin/python" -m pip install --quiet "$SOURCE"
chmod -R a+rX "$ROOT/venv"  # the sandbox user runs its interpreter
# One secret for every run of this image, so a regrade draws the same hidden cases.
"$ROOT/venv/bin/python" -c "import sys; from grader.judge import course_secret; course_secret(sys.argv[1])" "$SOURCE"
