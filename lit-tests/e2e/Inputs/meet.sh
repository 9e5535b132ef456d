#!/bin/sh
# An exec tool that records overlap (max-parallel.agent): marks its call in folder $1, waits
# until $2 calls have marked it (at most $3 tenths of a second), prints how many it saw.
mkdir -p "$1"
touch "$1/$4"
i=0
while [ "$(ls "$1" | wc -l)" -lt "$2" ] && [ "$i" -lt "$3" ]; do sleep 0.1; i=$((i+1)); done
ls "$1" | wc -l | tr -d ' \n'
