import sys

sys.modules["stripe"] = None  # as if the stripe package were not installed
