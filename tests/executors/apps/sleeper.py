"""A stand-in application that runs until killed: writes its pid (and its child's) to the
file named first, then sleeps for the seconds given second."""

import os
import subprocess
import sys
import time

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1], "w") as f:
    f.write(f"{os.getpid()} {child.pid}\n")
time.sleep(float(sys.argv[2]))
