#!/bin/sh
# A deterministic exec tool for run-*.agent: prints its argument tagged with its length.
printf '%s=%s\n' "$1" "${#1}"
