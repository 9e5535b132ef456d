#!/bin/sh
# A tool that records its process id in ./started and then waits (killed-run.agent).
echo $$ > started.tmp && mv started.tmp started
sleep 30
