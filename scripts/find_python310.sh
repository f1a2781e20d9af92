#!/bin/sh
# Print the path of a working Python 3.10 interpreter, or nothing (see find_python.sh).
exec sh "$(dirname "$0")/find_python.sh" 3.10
