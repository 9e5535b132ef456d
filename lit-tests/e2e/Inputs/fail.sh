#!/bin/sh
# An exec tool that always fails (run-tool-fails.agent): a line on stderr, exit status 3.
echo "no luck for $1" >&2
exit 3
