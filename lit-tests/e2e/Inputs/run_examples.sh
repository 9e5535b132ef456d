#!/bin/sh
# Runs every example executable in $1 once with --seed 0 (examples.test); stops at the
# first failure with its exit status.
set -e
bin=$1
echo "== router math";   "$bin/router" --seed 0 -- what is 2 + 3
echo "== router weather"; "$bin/router" --seed 0 -- what is the weather in Oslo
echo "== router chat";   "$bin/router" --seed 0 -- hello there
echo "== fanout";        "$bin/fanout" --seed 0 -- how do compilers work
echo "== reflection";    "$bin/reflection" --seed 0 -- how do compilers work
echo "== supervisor";    "$bin/supervisor" --seed 0 -- how do compilers work
echo "== plan_execute";  "$bin/plan_execute" --seed 0 -- learn about prefill and decode
echo "== research";      "$bin/research" --seed 0 -- how do compilers work
echo "== done"
