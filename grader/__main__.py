def main():
    raise SystemExit("grader: not yet implemented")
