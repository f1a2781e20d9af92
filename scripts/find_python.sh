#!/bin/sh
# Print the path of a working Python X.Y interpreter (X.Y is the first argument, e.g. 3.12), or
# nothing. A pyenv shim named pythonX.Y can exist and still fail (when X.Y is not the selected
# version), so every candidate is run, not trusted. Works with a bare PATH (pyenv's versions folder).
v="${1:?usage: find_python.sh X.Y}"
major="${v%%.*}"
minor="${v#*.}"
for c in "python$v" \
         "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"*/bin/"python$v" \
         /root/.pyenv/versions/"$v"*/bin/"python$v" \
         /usr/local/bin/"python$v" /usr/bin/"python$v"; do
  if "$c" -c "import sys; sys.exit(sys.version_info[:2] != ($major, $minor))" >/dev/null 2>&1; then
    command -v "$c" 2>/dev/null || echo "$c"
    exit 0
  fi
done
exit 0
