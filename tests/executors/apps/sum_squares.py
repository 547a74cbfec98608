"""A stand-in application: prints the sum of the squares of its arguments."""

import sys

print(sum(float(v) ** 2 for v in sys.argv[1:]))
