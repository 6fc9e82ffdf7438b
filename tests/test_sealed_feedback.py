"""Hidden cases are judged sealed: nothing the student's code chose, and nothing of the
expected output, reaches the feedback of a hidden case. Otherwise a resubmitting student
can carry the hidden inputs out in exception messages (or shapes, or type names) and
submit a lookup table of answers (found by a red-team run against the grader)."""

import pytest

from grader.judge import judge_notebook

LEAKS = {
    "a message": '''
class Exfiltrate(Exception):
    pass

def conv_forward_naive(x, w, b, conv_param):
    raise Exfiltrate("EXF" + x.tobytes()[:24].hex())
''',
    "a shape": '''
import numpy as np

def conv_forward_naive(x, w, b, conv_param):
    return np.zeros((7, 1234567, 0)), None
''',
    "a type name": '''
def conv_forward_naive(x, w, b, conv_param):
    Exfiltrate1234567 = type("Exfiltrate1234567", (), {})
    return Exfiltrate1234567(), None
''',
    "the values": '''
import numpy as np

def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    s, p = conv_param["stride"], conv_param["pad"]
    shape = (N, F, 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s)
    return np.full(shape, 1234567.0), None
''',
}


@pytest.mark.parametrize("channel", sorted(LEAKS))
def test_hidden_cases_echo_nothing_the_students_code_chose(channel):
    result = judge_notebook([], [("cell-1", LEAKS[channel])], ["conv_forward"], seed=3)
    verdicts = result.verdicts["conv_forward"]
    public = [v for v in verdicts if v.case.label.startswith("public")]
    hidden = [v for v in verdicts if v.case.label.startswith("hidden")]
    assert hidden and not any(v.passed for v in verdicts)
    said = "\n".join(p for v in hidden for p in v.problems)
    for marker in ("EXF", "Exfiltrate", "1234567", "1.23457e+06", "should be", "got"):
        assert marker not in said, (channel, said)
    assert all(v.difference is None for v in hidden)  # no picture of an expected output
    # The public cases still tell the student everything about their own code.
    shown = "\n".join(p for v in public for p in v.problems)
    assert any(m in shown for m in ("EXF", "Exfiltrate", "1234567", "1.23457e+06"))
