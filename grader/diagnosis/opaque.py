"""What the judge sees of a returned object that could not cross from the worker."""


class Opaque:
    """Stands in for a returned object that did not cross: only its type name did."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name}>"
