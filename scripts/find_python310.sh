#!/bin/sh
# Print the path of a working Python 3.10 interpreter, or nothing. A pyenv shim named python3.10 can
# exist and still fail (when 3.10 is not the selected version), so every candidate is run, not trusted.
for c in python3.10 \
         "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 \
         /root/.pyenv/versions/3.10*/bin/python3.10 \
         /usr/local/bin/python3.10 /usr/bin/python3.10; do
  if "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
    command -v "$c" 2>/dev/null || echo "$c"
    exit 0
  fi
done
exit 0
