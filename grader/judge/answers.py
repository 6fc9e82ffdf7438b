"""What a student's function sent back, sized up before any trusted code reads it.

The protocol decodes each array once, however often a value refers to it, so a list of
12,000 references to one 256 KiB array arrives as 256 KiB. Trusted code that turns such a
list into an array (np.asarray in a probe, a mistake's predicate) would make 3 GB of it in
the grader's own process. So every answer is weighed as trusted code would see it, every
reference counted, and one heavier than any honest answer fails its case unread.
"""

import numpy as np

MAX_ANSWER_BYTES = 32 * 1024**2  # every array reference counted; honest answers take kilobytes
MAX_ANSWER_ITEMS = 10_000  # values in the answer's tuples, lists and dicts, all levels


def too_heavy(value):
    """Why ``value`` (a decoded answer) is more than any honest answer, or None."""
    size = items = 0
    pending = [value]
    while pending:
        item = pending.pop()
        items += 1
        if isinstance(item, np.ndarray):
            size += item.nbytes
        elif isinstance(item, (tuple, list)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        if size > MAX_ANSWER_BYTES or items > MAX_ANSWER_ITEMS:
            return (f"returned more than the task's answer can hold (over "
                    f"{MAX_ANSWER_BYTES >> 20} MiB of arrays or {MAX_ANSWER_ITEMS:,} values, "
                    f"counting every reference), so it was not read")
    return None
