#!/bin/sh
# A tool that starts a background child in its process group, records both process ids in
# ./started and waits (signals.agent).
sleep 60 &
echo "$$ $!" > started.tmp && mv started.tmp started
wait
